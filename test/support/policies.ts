/**
 * Test data for the policy READ side: inserts policies, their people and
 * stored completeness straight into the database (sealed with the server's
 * own PII cipher, verdict from the domain's assessCompleteness), so read
 * tests do not depend on the sales write path. Made-up people only.
 */
import { assessCompleteness, type RecordData } from '../../src/domain/completeness';
import type { Gender, Relationship } from '../../src/domain/enums';
import { personFacts, type PersonData } from '../../src/domain/person-facts';
import { makeResidentId } from '../../src/domain/resident-id';
import { newId } from '../../src/db/ids';
import { PersonEntity } from '../../src/modules/policy/person.entity';
import { PolicyBeneficiaryEntity, PolicyEntity, PolicyMissingFieldEntity } from '../../src/modules/policy/policy.entity';
import type { TestApp } from './app';

/** A person to insert: the domain's own PersonData (every field optional). */
export type PersonSeed = PersonData;

export interface PolicySeed {
  insurerId: string;
  policyNo: string;
  channelId?: string | null;
  salesPersonCode?: string | null;
  productCode?: string;
  termMonths?: number;
  applicationDate?: string;
  status?: 'PENDING' | 'UNDERWRITTEN';
  policyholder: PersonSeed;
  insured: PersonSeed;
  insuredRelationship?: Relationship | null;
  beneficiaries?: Array<{ person: PersonSeed; relationshipToInsured?: Relationship | null; sharePercent?: number | null; order?: number | null }>;
}

export const TODAY = '2026-03-15';
export const APPLICATION_DATE = '2026-03-01';

let sequence = 0;

/** A complete, made-up adult policyholder with a valid resident ID (sequence-unique per test file). */
export function adult(overrides: PersonSeed = {}): PersonSeed {
  sequence += 1;
  const birthDate = `1980-0${1 + (sequence % 9)}-1${sequence % 10}`;
  const gender: Gender = sequence % 2 ? 'MALE' : 'FEMALE';
  const seq = (sequence * 2 + (gender === 'MALE' ? 1 : 0)) % 1000;
  return {
    name: `测试${sequence}`,
    gender,
    birthDate,
    idType: 'RESIDENT_ID',
    idNumber: makeResidentId({ region: '110105', birthDate, sequence: seq, gender }),
    phone: `138${String(10_000_000 + sequence * 7919).slice(-8)}`,
    address: `北京市朝阳区测试路${sequence}号`,
    ...overrides,
  };
}

/** A complete policy seed: `adult()` insures itself (SELF). */
export function completeSeed(insurerId: string, policyNo: string, overrides: Partial<PolicySeed> = {}): PolicySeed {
  const holder = adult();
  return { insurerId, policyNo, policyholder: holder, insured: holder, insuredRelationship: 'SELF', ...overrides };
}

function orNull<T>(value: T | null | undefined): T | null {
  return value === undefined ? null : value;
}

/**
 * Inserts the policies in order (so the last one is the newest) with the
 * verdict `assessCompleteness` gives them, their `policy_missing_field`
 * rows, and one person row per insurer and ID number. Returns the policy ids.
 */
export async function insertPolicies(app: TestApp, seeds: PolicySeed[]): Promise<string[]> {
  const pii = app.services.pii;
  const key = (kind: 'id' | 'phone', value: string) => pii.blindIndex(kind, kind === 'id' ? `*:${value}` : value);
  const ids: string[] = [];
  await app.db.transaction(async (em) => {
    const people = em.getRepository(PersonEntity);
    const personId = async (insurerId: string, p: PersonSeed): Promise<string> => {
      const idBidx = pii.idIndex(p.idType, p.idNumber);
      if (idBidx) {
        const existing = await people.findOneBy({ insurerId, idNumberBidx: idBidx });
        if (existing) return existing.id;
      }
      const id = newId();
      const now = new Date();
      const idSealed = pii.encryptNullable(p.idNumber);
      const phoneSealed = pii.encryptNullable(p.phone);
      await people.insert({
        id,
        insurerId,
        name: orNull(p.name),
        gender: orNull(p.gender),
        birthDate: orNull(p.birthDate),
        idType: orNull(p.idType),
        idNumberEnc: idSealed?.value ?? null,
        idNumberBidx: idBidx,
        phoneEnc: phoneSealed?.value ?? null,
        phoneBidx: pii.phoneIndex(p.phone),
        address: orNull(p.address),
        keyId: idSealed || phoneSealed ? pii.keyId : null,
        facts: JSON.stringify(personFacts(p, { today: TODAY, key })),
        createdAt: now,
        updatedAt: now,
      });
      return id;
    };
    for (const seed of seeds) {
      const record: RecordData = {
        policyholder: seed.policyholder,
        insured: seed.insured,
        insuredRelationship: seed.insuredRelationship ?? null,
        beneficiaries: (seed.beneficiaries ?? []).map((b) => ({ ...b, person: b.person })),
        applicationDate: seed.applicationDate ?? APPLICATION_DATE,
      };
      const verdict = assessCompleteness(record, { today: TODAY });
      const policyholderId = await personId(seed.insurerId, seed.policyholder);
      const insuredId = seed.insured === seed.policyholder ? policyholderId : await personId(seed.insurerId, seed.insured);
      const id = newId();
      const now = new Date();
      await em.getRepository(PolicyEntity).insert({
        id,
        insurerId: seed.insurerId,
        policyNo: seed.policyNo,
        channelId: seed.channelId ?? null,
        salesPersonCode: seed.salesPersonCode ?? null,
        productCode: seed.productCode ?? 'LIFE-20Y',
        termMonths: seed.termMonths ?? 240,
        applicationDate: record.applicationDate!,
        status: seed.status ?? 'PENDING',
        policyholderId,
        insuredId,
        insuredRelationship: seed.insuredRelationship ?? null,
        completeness: verdict.status,
        issues: JSON.stringify(verdict.issues),
        version: 1,
        underwrittenAt: null,
        underwrittenBy: null,
        underwritingOverride: null,
        batchId: null,
        createdAt: now,
        updatedAt: now,
      });
      for (const field of verdict.missing) {
        await em.getRepository(PolicyMissingFieldEntity).insert({ policyId: id, field, insurerId: seed.insurerId });
      }
      for (const [i, b] of (seed.beneficiaries ?? []).entries()) {
        await em.getRepository(PolicyBeneficiaryEntity).insert({
          id: newId(),
          insurerId: seed.insurerId,
          policyId: id,
          personId: await personId(seed.insurerId, b.person),
          ord: b.order ?? i + 1,
          relationshipToInsured: b.relationshipToInsured ?? null,
          sharePercent: b.sharePercent === undefined || b.sharePercent === null ? null : String(b.sharePercent),
        });
      }
      ids.push(id);
    }
  });
  return ids;
}
