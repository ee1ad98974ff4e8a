/**
 * Test data through the real writers: partners' policies through
 * SalesService.submit (the submitSales path, under an agreement granting
 * SUBMIT_SALES), policies an insurer sold directly through the policy
 * store's own-book write (`writeOwnBook`). So every seeded policy has the
 * people, verdict, missing-field rows and log entries the system itself
 * writes, judged on the day it is seeded. Made-up people only.
 */
import { randomUUID } from 'node:crypto';
import { todayInChina } from '../../src/domain/dates';
import type { Gender, Relationship } from '../../src/domain/enums';
import type { PersonData } from '../../src/domain/person-facts';
import { makeResidentId } from '../../src/domain/resident-id';
import { OrganizationEntity } from '../../src/modules/organization/organization.entity';
import { writeOwnBook } from '../../src/modules/policy/policy-book';
import type { SalesRecordOutcome } from '../../src/modules/policy/policy-batch';
import type { CleanRecord } from '../../src/modules/policy/policy.validation';
import { checkRecord, MAX_BATCH_RECORDS, type SalesRecordData } from '../../src/modules/sales/sales.validation';
import type { TestApp } from './app';
import { createAgreement, createPrincipal } from './factories';

/** A person to seed: the domain's own PersonData (every field optional). */
export type PersonSeed = PersonData;

export interface PolicySeed {
  insurerId: string;
  policyNo: string;
  channelId?: string | null;
  salesPersonCode?: string | null;
  productCode?: string;
  termMonths?: number;
  applicationDate?: string;
  policyholder: PersonSeed;
  insured: PersonSeed;
  insuredRelationship?: Relationship | null;
  beneficiaries?: Array<{ person: PersonSeed; relationshipToInsured?: Relationship | null; sharePercent?: number | null; order?: number | null }>;
}

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


const TERMINATE = 'mutation($id: ID!, $reason: String!) { terminateAgreement(id: $id, reason: $reason) { id } }';

/** The principals the seeder acts as, per organization (made once per test app). */
const actors = new WeakMap<TestApp, Map<string, string>>();

/** An attested principal of `organizationId` with `role` (created through the API the first time), by its key. */
async function keyOf(app: TestApp, organizationId: string, role: 'ADMIN' | 'SALES'): Promise<string> {
  const known = actors.get(app) ?? new Map<string, string>();
  actors.set(app, known);
  const slot = `${organizationId}|${role}`;
  if (!known.has(slot)) {
    const org = await app.db.getRepository(OrganizationEntity).findOneByOrFail({ id: organizationId });
    known.set(slot, (await createPrincipal(app, org.code, [role], { attested: true, name: `seed-${role.toLowerCase()}` })).key);
  }
  return known.get(slot)!;
}

/** A seed as the record submitSales takes. */
function recordOf(seed: PolicySeed): SalesRecordData {
  return {
    policyNo: seed.policyNo,
    productCode: seed.productCode ?? 'LIFE-20Y',
    termMonths: seed.termMonths ?? 240,
    applicationDate: seed.applicationDate ?? APPLICATION_DATE,
    salesPersonCode: seed.salesPersonCode ?? null,
    policyholder: seed.policyholder,
    insured: seed.insured,
    insuredRelationship: seed.insuredRelationship ?? null,
    beneficiaries: (seed.beneficiaries ?? []).map((b, i) => ({ ...b, order: b.order ?? i + 1 })),
  };
}

/** Fails the test when the writer refused a seed: a seeder that drops records silently proves nothing. */
function requireAccepted(results: readonly SalesRecordOutcome[]): void {
  const refused = results.filter((r) => !r.accepted);
  if (refused.length > 0) throw new Error(`seed records refused: ${JSON.stringify(refused)}`);
}

/** Policies the insurer sold directly, through the own-book write as its ADMIN. */
async function seedOwnBook(app: TestApp, insurerId: string, records: SalesRecordData[]): Promise<void> {
  const ctx = await app.server.contextFor(await keyOf(app, insurerId, 'ADMIN'));
  const clean = records.map((record): CleanRecord => {
    const check = checkRecord(record, todayInChina(ctx.now));
    if (!check.ok) throw new Error(`seed record ${check.policyNo} fails the record checks: ${JSON.stringify(check.errors)}`);
    return check.record;
  });
  requireAccepted(await writeOwnBook({ pii: app.services.pii, log: app.services.transferLog }, ctx, clean));
}

/**
 * A channel's sales through SalesService.submit as its SALES principal. A
 * channel without SUBMIT_SALES on the insurer gets it for the push only: an
 * agreement proposed and signed through the API, terminated right after.
 */
async function seedChannelSales(app: TestApp, insurerId: string, channelId: string, records: SalesRecordData[]): Promise<void> {
  const salesKey = await keyOf(app, channelId, 'SALES');
  const [insurer, channel] = await Promise.all([insurerId, channelId].map((id) => app.db.getRepository(OrganizationEntity).findOneByOrFail({ id })));
  const granted = (await app.services.grants.of(await app.server.contextFor(salesKey), channelId, insurerId)).scopes.has('SUBMIT_SALES');
  const lent = granted
    ? null
    : await createAgreement(app, {
        insurerCode: insurer!.code,
        partnerCode: channel!.code,
        scopes: ['SUBMIT_SALES'],
        proposerKey: await keyOf(app, insurerId, 'ADMIN'),
        signerKey: await keyOf(app, channelId, 'ADMIN'),
      });
  // A context of its own: the grant loader of the one above cached the time before the agreement.
  const pushed = await app.services.sales.submit(await app.server.contextFor(salesKey), insurer!.code, `seed-${randomUUID()}`, records);
  requireAccepted(pushed.results);
  if (lent) await app.ok(await keyOf(app, insurerId, 'ADMIN'), TERMINATE, { id: lent.id, reason: 'test seed: granted for the push only' });
}

/** Consecutive seeds of one insurer and channel, at most one batch each, in the order given. */
function batchesOf(seeds: readonly PolicySeed[]): PolicySeed[][] {
  const out: PolicySeed[][] = [];
  for (const seed of seeds) {
    const last = out[out.length - 1];
    if (last && last.length < MAX_BATCH_RECORDS && last[0]!.insurerId === seed.insurerId && (last[0]!.channelId ?? null) === (seed.channelId ?? null)) last.push(seed);
    else out.push([seed]);
  }
  return out;
}

/**
 * Writes the policies in order (so the last one is the newest) through the
 * real writers, on today's date: each run of one insurer and channel is one
 * batch (submitSales for a channel, the own-book write for DIRECT). A seed
 * the writer refuses fails the test.
 */
export async function seedPolicies(app: TestApp, seeds: readonly PolicySeed[]): Promise<void> {
  for (const batch of batchesOf(seeds)) {
    const { insurerId, channelId } = batch[0]!;
    const records = batch.map(recordOf);
    if (channelId) await seedChannelSales(app, insurerId, channelId, records);
    else await seedOwnBook(app, insurerId, records);
  }
}
