/**
 * Batch-shaped persistence of people, policies and their stored completeness
 * (issue 4 items 3, 5, 6): multi-row inserts and upserts chunked under the
 * drivers' parameter limits, one query per batch for every lookup, and the
 * recomputation of other policies whose verdict a change affects (a phone
 * that becomes shared, a person whose data changed, a seller's phone) in the
 * same transaction. Every function takes the transaction's EntityManager.
 */
import { Brackets, In, type EntityManager } from 'typeorm';
import { CHUNK_IN, chunk, insertRows, upsertRows } from '../../db/bulk';
import { assessFromFacts, type Completeness } from '../../domain/completeness';
import type { Gender, IdType, Relationship } from '../../domain/enums';
import { PERSON_FIELDS, type FactPerson, type PersonField, type PersonFacts } from '../../domain/person-facts';
import { blankFields } from '../../domain/person-merge';
import type { PiiCipher } from '../person/pii';
import { PersonEntity } from './person.entity';
import { PolicyBeneficiaryEntity, PolicyEntity, PolicyMissingFieldEntity } from './policy.entity';
import { SalesPersonEntity } from './sales-person.entity';

export const PERSON_OVERWRITE = ['name', 'gender', 'birth_date', 'id_type', 'id_number_enc', 'id_number_bidx', 'phone_enc', 'phone_bidx', 'address', 'key_id', 'facts', 'updated_at'];
export const POLICY_OVERWRITE = [
  'channel_id',
  'sales_person_code',
  'product_code',
  'term_months',
  'application_date',
  'status',
  'policyholder_id',
  'insured_id',
  'insured_relationship',
  'completeness',
  'issues',
  'version',
  'batch_id',
  'updated_at',
];

/**
 * One key id covers both sealed columns of a person row: after new values
 * were sealed (with the current key) into `sealed` of them, re-seals the
 * others when they were sealed under an older key (rotation) and sets
 * `keyId` to the current key. Also when nothing new was sealed: a row read
 * before rotate-key re-sealed it and written back after must not put the
 * old key's ciphertext back. Used by submitSales and submitCorrection.
 */
export function settlePersonKey(
  pii: Pick<PiiCipher, 'keyId' | 'encrypt' | 'decrypt'>,
  row: Pick<PersonEntity, 'idNumberEnc' | 'phoneEnc' | 'keyId'>,
  sealed: { idNumber: boolean; phone: boolean },
): void {
  if (!sealed.idNumber && !sealed.phone && row.keyId === null) return;
  if (row.keyId !== null && row.keyId !== pii.keyId) {
    if (!sealed.idNumber && row.idNumberEnc !== null) row.idNumberEnc = pii.encrypt(pii.decrypt(row.idNumberEnc, row.keyId)).value;
    if (!sealed.phone && row.phoneEnc !== null) row.phoneEnc = pii.encrypt(pii.decrypt(row.phoneEnc, row.keyId)).value;
  }
  row.keyId = pii.keyId;
}

/** The fields a person row leaves blank (its facts' `blank`), the sealed ones by whether a value is held. */
export function blankOf(row: PersonEntity): PersonField[] {
  return blankFields(row, { idNumber: row.idNumberEnc !== null && row.idNumberEnc !== undefined, phone: row.phoneEnc !== null && row.phoneEnc !== undefined });
}

/** Facts of a stored person (a row whose facts cannot be read counts as knowing nothing: INCOMPLETE, never COMPLETE). */
export function storedFacts(row: Pick<PersonEntity, 'facts'>): PersonFacts {
  try {
    const parsed = JSON.parse(row.facts) as PersonFacts;
    if (parsed && parsed.v === 1 && Array.isArray(parsed.blank)) return parsed;
  } catch {
    // fall through
  }
  return { v: 1, blank: [...PERSON_FIELDS], idCheck: null, idEmbedded: null, idKey: null, phoneInvalid: false, phoneKey: null, addressProblem: null };
}

/** What `assessFromFacts` reads of a person row. */
export function factPersonOf(row: PersonEntity, facts: PersonFacts = storedFacts(row)): FactPerson {
  return {
    ...facts,
    name: row.name,
    gender: (row.gender as Gender | null) ?? null,
    birthDate: row.birthDate,
    idType: (row.idType as IdType | null) ?? null,
  };
}

/** MySQL hands back DATE columns of raw queries as Date objects, SQLite as text: always 'YYYY-MM-DD'. */
export function dateText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value).slice(0, 10);
}

/**
 * For each phone blind index, the distinct identities (blind index of the ID
 * number, or the person row's id when it has none) of the people at
 * `insurerId` with that phone who hold at least one policy other than
 * `excludePolicyIds`. One query per {@link CHUNK_IN} phones, through
 * ix_person_phone and ix_policy_holder.
 */
export async function phoneHolders(em: EntityManager, insurerId: string, phones: Iterable<string>, excludePolicyIds: readonly string[] = []): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const list = [...new Set(phones)];
  for (const part of chunk(list, CHUNK_IN)) {
    const qb = em
      .getRepository(PersonEntity)
      .createQueryBuilder('p')
      .select('p.phone_bidx', 'phone')
      .addSelect('COALESCE(p.id_number_bidx, p.id)', 'ident')
      .distinct(true)
      .where('p.insurer_id = :insurerId', { insurerId })
      .andWhere('p.phone_bidx IN (:...phones)', { phones: part });
    const exclude = excludePolicyIds.length > 0 ? ' AND x.id NOT IN (:...exclude)' : '';
    qb.andWhere(`EXISTS (SELECT 1 FROM policy x WHERE x.insurer_id = p.insurer_id AND x.policyholder_id = p.id${exclude})`, { exclude: [...excludePolicyIds] });
    for (const row of await qb.getRawMany<{ phone: string; ident: string }>()) {
      const set = out.get(row.phone) ?? new Set<string>();
      set.add(String(row.ident));
      out.set(row.phone, set);
    }
  }
  return out;
}

/** Phone blind indexes registered for sales person codes of these channels: key `${organizationId}|${code}`. */
export async function sellerPhones(em: EntityManager, pairs: Iterable<{ organizationId: string; code: string }>): Promise<Map<string, string>> {
  const list = [...pairs];
  const out = new Map<string, string>();
  if (list.length === 0) return out;
  const orgs = [...new Set(list.map((p) => p.organizationId))];
  const codes = [...new Set(list.map((p) => p.code))];
  for (const part of chunk(codes, CHUNK_IN)) {
    const rows = await em
      .getRepository(SalesPersonEntity)
      .createQueryBuilder('s')
      .select(['s.organization_id AS organizationId', 's.code AS code', 's.phone_bidx AS phone'])
      .where('s.organization_id IN (:...orgs)', { orgs })
      .andWhere('s.code IN (:...codes)', { codes: part })
      .getRawMany<{ organizationId: string; code: string; phone: string }>();
    for (const row of rows) out.set(sellerKey(String(row.organizationId), String(row.code)), String(row.phone));
  }
  return out;
}

export function sellerKey(organizationId: string, code: string): string {
  return `${organizationId}|${code.toUpperCase()}`;
}

/** The stored form of a verdict's issues (field paths, codes and messages: no person's data). */
export function issuesJson(verdict: Completeness): string {
  return JSON.stringify(verdict.issues);
}

/** Rewrites the missing-field rows of these policies (delete, then one multi-row insert). */
export async function rewriteMissing(em: EntityManager, insurerId: string, verdicts: ReadonlyArray<{ policyId: string; missing: readonly string[] }>, alreadyCleared: ReadonlySet<string> = new Set()): Promise<void> {
  const toClear = verdicts.map((v) => v.policyId).filter((id) => !alreadyCleared.has(id));
  for (const part of chunk(toClear, CHUNK_IN)) {
    await em.createQueryBuilder().delete().from(PolicyMissingFieldEntity).where('policy_id IN (:...ids)', { ids: part }).execute();
  }
  const rows = verdicts.flatMap((v) => [...new Set(v.missing)].map((field) => ({ policyId: v.policyId, field, insurerId })));
  await insertRows(em, PolicyMissingFieldEntity, rows);
}

export interface RecomputeOptions {
  /** `YYYY-MM-DD` (China) of the birth-date range check. */
  today: string;
  /** People already in memory (just written by the caller), by id: not read again. */
  people?: ReadonlyMap<string, FactPerson>;
  /** Identities per phone blind index, already counted by the caller (after its writes). */
  holders?: Map<string, Set<string>>;
  /** When set, the policies' updated_at. */
  now: Date;
}

export interface Recomputed {
  policy: PolicyEntity;
  verdict: Completeness;
}

/**
 * Recomputes the stored completeness of `policies` from their people's
 * stored facts, the phone sharing at the insurer and the sellers' registered
 * phones, and writes the ones whose verdict changed (status, issues,
 * missing-field rows, updated_at; the edit version stays). A constant
 * number of queries whatever the number of policies (per chunk).
 * Returns the policies that changed.
 */
export async function recomputePolicies(em: EntityManager, insurerId: string, policies: PolicyEntity[], options: RecomputeOptions): Promise<Recomputed[]> {
  if (policies.length === 0) return [];
  const ids = policies.map((p) => p.id);
  const beneficiaries: PolicyBeneficiaryEntity[] = [];
  for (const part of chunk(ids, CHUNK_IN)) beneficiaries.push(...(await em.getRepository(PolicyBeneficiaryEntity).findBy({ policyId: In(part) })));
  const people = new Map<string, FactPerson>(options.people ?? []);
  const wanted = [...new Set([...policies.flatMap((p) => [p.policyholderId, p.insuredId]), ...beneficiaries.map((b) => b.personId)])].filter((id) => !people.has(id));
  const phoneOf = new Map<string, string | null>();
  for (const part of chunk(wanted, CHUNK_IN)) {
    for (const row of await em.getRepository(PersonEntity).findBy({ id: In(part) })) {
      people.set(row.id, factPersonOf(row));
      phoneOf.set(row.id, row.phoneBidx);
    }
  }
  const holderPhone = (personId: string): string | null => {
    const known = people.get(personId);
    return phoneOf.get(personId) ?? known?.phoneKey ?? null;
  };
  const holders = options.holders ?? new Map<string, Set<string>>();
  const unknownPhones = [...new Set(policies.map((p) => holderPhone(p.policyholderId)).filter((x): x is string => !!x && !holders.has(x)))];
  if (unknownPhones.length > 0) for (const [phone, set] of await phoneHolders(em, insurerId, unknownPhones)) holders.set(phone, set);
  const sellers = await sellerPhones(
    em,
    policies.filter((p) => p.channelId && p.salesPersonCode).map((p) => ({ organizationId: p.channelId!, code: p.salesPersonCode! })),
  );
  const bensOf = new Map<string, PolicyBeneficiaryEntity[]>();
  for (const b of beneficiaries) bensOf.set(b.policyId, [...(bensOf.get(b.policyId) ?? []), b]);

  const changed: Recomputed[] = [];
  for (const policy of policies) {
    const holder = people.get(policy.policyholderId);
    const insured = people.get(policy.insuredId);
    if (!holder || !insured) continue; // a dangling reference: leave the stored verdict (it was computed when the row was whole)
    const bens = orderBeneficiaries(bensOf.get(policy.id) ?? []);
    const phone = holderPhone(policy.policyholderId);
    const verdict = assessFromFacts(
      {
        policyholder: holder,
        insured,
        insuredRelationship: (policy.insuredRelationship as Relationship | null) ?? null,
        beneficiaries: bens.filter((b) => people.has(b.personId)).map((b) => ({ person: people.get(b.personId)!, relationshipToInsured: (b.relationshipToInsured as Relationship | null) ?? null })),
        applicationDate: dateText(policy.applicationDate),
      },
      {
        phoneSharedCount: phone ? holders.get(phone)?.size ?? 0 : 0,
        salesPersonPhoneKey: policy.channelId && policy.salesPersonCode ? sellers.get(sellerKey(policy.channelId, policy.salesPersonCode)) ?? null : null,
        today: options.today,
      },
    );
    const issues = issuesJson(verdict);
    if (verdict.status === policy.completeness && issues === policy.issues) continue;
    changed.push({ policy: { ...policy, completeness: verdict.status, issues, updatedAt: options.now }, verdict });
  }
  if (changed.length === 0) return [];
  await upsertRows(em, PolicyEntity, changed.map((c) => c.policy), ['completeness', 'issues', 'updated_at']);
  await rewriteMissing(em, insurerId, changed.map((c) => ({ policyId: c.policy.id, missing: c.verdict.missing })));
  return changed;
}

/**
 * Beneficiaries in the order the API lists them and completeness paths
 * count them: by `ord` (none first), then by id (ids are made in the order
 * the records were written).
 */
export function orderBeneficiaries(rows: PolicyBeneficiaryEntity[]): PolicyBeneficiaryEntity[] {
  const rank = (b: PolicyBeneficiaryEntity) => (b.ord === null ? 0 : b.ord);
  return [...rows].sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Policies of `insurerId` (other than `excludeIds`) whose policyholder has one
 * of `phones`, or which name one of `personIds` as policyholder, insured or
 * beneficiary: the ones a change of those phones or people may re-flag.
 */
export async function policiesTouching(
  em: EntityManager,
  insurerId: string,
  phones: readonly string[],
  personIds: readonly string[],
  excludeIds: readonly string[],
): Promise<PolicyEntity[]> {
  const found = new Map<string, PolicyEntity>();
  const exclude = new Set(excludeIds);
  const keep = (rows: PolicyEntity[]) => {
    for (const row of rows) if (!exclude.has(row.id)) found.set(row.id, row);
  };
  for (const part of chunk([...new Set(phones)], CHUNK_IN)) {
    keep(
      await em
        .getRepository(PolicyEntity)
        .createQueryBuilder('x')
        .innerJoin(PersonEntity, 'p', 'p.id = x.policyholder_id AND p.insurer_id = x.insurer_id')
        .where('x.insurer_id = :insurerId', { insurerId })
        .andWhere('p.phone_bidx IN (:...phones)', { phones: part })
        .getMany(),
    );
  }
  for (const part of chunk([...new Set(personIds)], CHUNK_IN)) {
    keep(
      await em
        .getRepository(PolicyEntity)
        .createQueryBuilder('x')
        .where('x.insurer_id = :insurerId', { insurerId })
        .andWhere(
          new Brackets((w) =>
            w
              .where('x.policyholder_id IN (:...people)', { people: part })
              .orWhere('x.insured_id IN (:...people)')
              .orWhere('x.id IN (SELECT b.policy_id FROM policy_beneficiary b WHERE b.person_id IN (:...people))'),
          ),
        )
        .getMany(),
    );
  }
  return [...found.values()];
}
