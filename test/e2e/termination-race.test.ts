/**
 * Issue 8, defect 7: a write whose agreement ended while it was on its way
 * must not commit. submitSales and submitCorrection re-check the grant under
 * the insurer's chain lock, which terminateAgreement takes too, so in the
 * log no OK entry under an agreement follows that agreement's termination
 * entry, and a write that reaches the lock after `validTo` is refused too.
 * Made-up people only (test/support/sales.ts).
 */
import type { Grant } from '../../src/modules/agreement/agreement.status';
import { PolicyEntity } from '../../src/modules/policy/policy.entity';
import { SalesBatchEntity } from '../../src/modules/sales/sales.entity';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { errorCode, startTestApp, type GqlResult, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { salesRecord, submit, type SalesPayload } from '../support/sales';
import { loggedEntries } from '../support/log';

const TERMINATE = 'mutation($id: ID!) { terminateAgreement(id: $id, reason: "ended by the test") { id status } }';
const SUBMIT_CORRECTION = 'mutation($input: CorrectionInput!) { submitCorrection(input: $input) { id version } }';
const SCOPES = ['SUBMIT_SALES', 'READ_POLICIES', 'CORRECT_RECORDS'];
const HOUR_MS = 60 * 60 * 1000;

type Party = Awaited<ReturnType<typeof createParty>>;

describe(`no write commits after its agreement ended (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Party;

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'COMPLIANCE']);
  });
  afterAll(async () => {
    await app?.close();
  });

  /** A bank channel of its own (SALES and SERVICE attested) with an ACTIVE agreement on the insurer (ending `validForMs` after it is proposed). */
  async function channel(validForMs?: number) {
    const bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    const validTo = validForMs === undefined ? undefined : new Date(Date.now() + validForMs);
    const agreement = await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: SCOPES, proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN, validTo });
    expect(agreement.status).toBe('ACTIVE');
    return { bank, agreement, validTo: validTo! };
  }

  const log = () => loggedEntries(app.db, { where: { insurerId: insurer.id } });
  const policies = (channelId: string) => app.db.getRepository(PolicyEntity).findBy({ insurerId: insurer.id, channelId });
  const terminate = (agreementId: string) => app.ok(insurer.keys.ADMIN, TERMINATE, { id: agreementId });

  function correct(key: string, policyNo: string, expectedVersion: number, address: string) {
    return app.gql<{ submitCorrection: { id: string; version: number } }>(key, SUBMIT_CORRECTION, {
      input: {
        insurerCode: insurer.code,
        policyNo,
        target: 'POLICYHOLDER',
        changes: { address },
        evidence: { method: 'CALLBACK_RECORDING', reference: `REC-${policyNo}-${expectedVersion}`, confirmedAt: new Date(Date.now() - HOUR_MS).toISOString() },
        expectedVersion,
      },
    });
  }

  /**
   * Holds the next up-front grant check of `organizationId` on the insurer:
   * once the (then still valid) grant has been read, `meanwhile` runs to its
   * end before the request goes on with what it read. Returns whether the
   * grant that was read still held `scope`, so a test proves the race it means.
   */
  function holdAfterGrantCheck(organizationId: string, scope: string, meanwhile: () => Promise<unknown>): { held: () => boolean | null } {
    const grants = app.services.grants;
    const original = grants.of;
    let held: boolean | null = null;
    grants.of = async function (this: typeof grants, ctx, org, insurerId): Promise<Grant> {
      const grant = await original.call(this, ctx, org, insurerId);
      if (org !== organizationId || insurerId !== insurer.id || held !== null) return grant;
      held = grant.scopes.has(scope as never);
      grants.of = original;
      await meanwhile();
      return grant;
    };
    return { held: () => held };
  }

  /** In chain order: no OK write naming `agreementId` after the entry that terminated it. */
  function okWritesAfterTermination(entries: TransferLogEntryEntity[], agreementId: string): TransferLogEntryEntity[] {
    const end = entries.find((e) => e.operation === 'terminateAgreement' && e.agreementId === agreementId);
    expect(end).toBeDefined();
    return entries.filter((e) => e.seq > end!.seq && e.agreementId === agreementId && e.outcome === 'OK' && ['submitSales', 'submitCorrection'].includes(e.operation));
  }

  it('a batch whose agreement is terminated between its grant check and its write is refused, logged REFUSED after the termination', async () => {
    const { bank, agreement } = await channel();
    const hold = holdAfterGrantCheck(bank.id, 'SUBMIT_SALES', () => terminate(agreement.id));
    const result = await submit(app, bank.keys.SALES, insurer.code, 'held-batch', [salesRecord('HELD-S-1'), salesRecord('HELD-S-2')]);
    expect(hold.held()).toBe(true);

    expect(errorCode(result)).toBe('AGREEMENT_INACTIVE');
    expect(await policies(bank.id)).toHaveLength(0);
    expect(await app.db.getRepository(SalesBatchEntity).countBy({ organizationId: bank.id })).toBe(0);
    const entries = await log();
    expect(okWritesAfterTermination(entries, agreement.id)).toEqual([]);
    const last = entries[entries.length - 1]!;
    expect(last).toMatchObject({ operation: 'submitSales', outcome: 'REFUSED', errorCode: 'AGREEMENT_INACTIVE', actorOrganizationId: bank.id });
  });

  it('a correction whose agreement is terminated between its grant check and its write is refused and changes nothing', async () => {
    const { bank, agreement } = await channel();
    const sold = await submit(app, bank.keys.SALES, insurer.code, 'held-correction-sale', [salesRecord('HELD-C-1')]);
    expect(sold.data!.submitSales.accepted).toBe(1);
    const before = await policies(bank.id);

    const hold = holdAfterGrantCheck(bank.id, 'CORRECT_RECORDS', () => terminate(agreement.id));
    const result = await correct(bank.keys.SERVICE, 'HELD-C-1', 1, '上海市浦东新区改正路1号');
    expect(hold.held()).toBe(true);

    expect(errorCode(result)).toBe('AGREEMENT_INACTIVE');
    expect(await policies(bank.id)).toEqual(before);
    const entries = await log();
    expect(okWritesAfterTermination(entries, agreement.id)).toEqual([]);
    expect(entries[entries.length - 1]).toMatchObject({ operation: 'submitCorrection', outcome: 'REFUSED', errorCode: 'AGREEMENT_INACTIVE', actorOrganizationId: bank.id });
  });

  it('a batch that reaches the chain lock after validTo is refused (the grant is judged at the lock, not at the request start)', async () => {
    const { bank, validTo } = await channel(1500);
    const untilExpired = () => new Promise((resolve) => setTimeout(resolve, Math.max(0, validTo.getTime() - Date.now() + 5)));
    const hold = holdAfterGrantCheck(bank.id, 'SUBMIT_SALES', untilExpired);
    const result = await submit(app, bank.keys.SALES, insurer.code, 'expiring-batch', [salesRecord('EXPIRY-S-1')]);
    expect(hold.held()).toBe(true);

    expect(errorCode(result)).toBe('AGREEMENT_INACTIVE');
    expect(await policies(bank.id)).toHaveLength(0);
    const entries = await log();
    expect(entries[entries.length - 1]).toMatchObject({ operation: 'submitSales', outcome: 'REFUSED', errorCode: 'AGREEMENT_INACTIVE', actorOrganizationId: bank.id });
  });

  it('eight concurrent clients while the agreement is terminated: every write committed OK before the termination entry or was refused, nothing half-written', async () => {
    const { bank, agreement } = await channel();
    const seed = await submit(app, bank.keys.SALES, insurer.code, 'race-seed', [salesRecord('RACE-C-0'), salesRecord('RACE-C-1')]);
    expect(seed.data!.submitSales.accepted).toBe(2);

    const BATCHES = 5;
    let done = 0;
    let terminated: Promise<unknown> | null = null;
    const settle = <T>(p: Promise<T>) =>
      p.then((r) => {
        done += 1;
        // Terminate once the race is under way: a few writes have answered, many are in flight.
        if (done === 4) terminated = terminate(agreement.id);
        return r;
      });
    const salesClient = async (client: number) => {
      const out: Array<{ key: string; records: string[]; result: GqlResult<{ submitSales: SalesPayload }> }> = [];
      for (let b = 0; b < BATCHES; b += 1) {
        const records = [salesRecord(`RACE-${client}-${b}-A`), salesRecord(`RACE-${client}-${b}-B`)];
        const key = `race-${client}-${b}`;
        out.push({ key, records: records.map((r) => r.policyNo as string), result: await settle(submit(app, bank.keys.SALES, insurer.code, key, records)) });
      }
      return out;
    };
    const correctionClient = async (policyNo: string) => {
      const out: Array<GqlResult<{ submitCorrection: { id: string; version: number } }>> = [];
      let version = 1;
      for (let b = 0; b < BATCHES; b += 1) {
        const result = await settle(correct(bank.keys.SERVICE, policyNo, version, `上海市浦东新区竞速路${b + 1}号`));
        if (!result.errors) version = result.data!.submitCorrection.version;
        out.push(result);
      }
      return out;
    };
    const [sales, corrections] = await Promise.all([
      Promise.all([0, 1, 2, 3, 4, 5].map(salesClient)),
      Promise.all(['RACE-C-0', 'RACE-C-1'].map(correctionClient)),
    ]);
    await terminated;

    const stored = new Set((await policies(bank.id)).map((p) => p.policyNo));
    const batches = new Set((await app.db.getRepository(SalesBatchEntity).findBy({ organizationId: bank.id })).map((b) => b.idempotencyKey));
    let refused = 0;
    for (const { key, records, result } of sales.flat()) {
      if (result.errors) {
        expect(errorCode(result)).toBe('AGREEMENT_INACTIVE');
        refused += 1;
        expect(records.filter((no) => stored.has(no))).toEqual([]);
        expect(batches.has(key)).toBe(false);
      } else {
        expect(result.data!.submitSales).toMatchObject({ replayed: false, accepted: 2 });
        expect(records.filter((no) => stored.has(no))).toEqual(records);
        expect(batches.has(key)).toBe(true);
      }
    }
    for (const result of corrections.flat()) if (result.errors) expect(errorCode(result)).toBe('AGREEMENT_INACTIVE');
    // The race happened: some writes were refused (the termination came before the last of them).
    expect(refused).toBeGreaterThan(0);

    const entries = await log();
    expect(okWritesAfterTermination(entries, agreement.id)).toEqual([]);
    const okSales = entries.filter((e) => e.operation === 'submitSales' && e.outcome === 'OK' && e.actorOrganizationId === bank.id);
    // One OK entry per committed batch (the seed included), naming exactly its policies.
    expect(okSales).toHaveLength(batches.size);
    expect(okSales.flatMap((e) => e.policyNos).sort()).toEqual([...stored].sort());
    const okCorrections = corrections.flat().filter((r) => !r.errors).length;
    expect(entries.filter((e) => e.operation === 'submitCorrection' && e.outcome === 'OK' && e.actorOrganizationId === bank.id)).toHaveLength(okCorrections);
  });
});
