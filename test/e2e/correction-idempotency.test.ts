/**
 * Issue 8, defect 9: submitCorrection takes an optional idempotencyKey with
 * submitSales' replay semantics, so a client whose connection dropped can
 * retry safely. Made-up people only (test/support/sales.ts).
 */
import { CorrectionChangeEntity, CorrectionEntity } from '../../src/modules/correction/correction.entity';
import { PersonEntity } from '../../src/modules/policy/person.entity';
import { PolicyEntity } from '../../src/modules/policy/policy.entity';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { errorCode, startTestApp, type GqlResult, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { salesRecord, submit } from '../support/sales';

const SUBMIT_CORRECTION = `mutation($input: CorrectionInput!, $key: String) {
  submitCorrection(input: $input, idempotencyKey: $key) {
    id version changedFields submittedByPrincipalId
    changes { field before after }
    policy { policyNo version }
  }
}`;

interface CorrectionOut {
  id: string;
  version: number;
  changedFields: string[];
  submittedByPrincipalId: string;
  changes: Array<{ field: string; before: string | null; after: string | null }>;
  policy: { policyNo: string; version: number };
}

const HOUR_MS = 60 * 60 * 1000;
type Party = Awaited<ReturnType<typeof createParty>>;

describe(`submitCorrection with an idempotencyKey (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Party;
  let bank: Party;
  let sold = 0;
  const confirmedAt = new Date(Date.now() - HOUR_MS).toISOString();

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'SERVICE'], { attested: true });
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    await createAgreement(app, {
      insurerCode: insurer.code,
      partnerCode: bank.code,
      scopes: ['SUBMIT_SALES', 'READ_POLICIES', 'CORRECT_RECORDS'],
      proposerKey: insurer.keys.ADMIN,
      signerKey: bank.keys.ADMIN,
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** A new policy sold by the bank (version 1). */
  async function sell(): Promise<string> {
    sold += 1;
    const policyNo = `IDEM-${sold}`;
    const result = await submit(app, bank.keys.SALES, insurer.code, `idem-sale-${sold}`, [salesRecord(policyNo)]);
    expect(result.data!.submitSales.accepted).toBe(1);
    return policyNo;
  }

  function input(policyNo: string, address: string, expectedVersion = 1) {
    return {
      insurerCode: insurer.code,
      policyNo,
      target: 'POLICYHOLDER',
      changes: { address, phone: '13912345678' },
      evidence: { method: 'SIGNED_FORM', reference: `FORM-${policyNo}`, confirmedAt },
      expectedVersion,
    };
  }

  function correct(key: string, correction: Record<string, unknown>, idempotencyKey?: string | null): Promise<GqlResult<{ submitCorrection: CorrectionOut }>> {
    return app.gql<{ submitCorrection: CorrectionOut }>(key, SUBMIT_CORRECTION, { input: correction, ...(idempotencyKey !== undefined ? { key: idempotencyKey } : {}) });
  }

  /** Everything a correction changes: the policy, its policyholder, the history and the insurer's chain. */
  async function state(policyNo: string) {
    const policy = await app.db.getRepository(PolicyEntity).findOneByOrFail({ insurerId: insurer.id, policyNo });
    return {
      policy,
      holder: await app.db.getRepository(PersonEntity).findOneByOrFail({ id: policy.policyholderId }),
      corrections: await app.db.getRepository(CorrectionEntity).countBy({ insurerId: insurer.id }),
      changes: await app.db.getRepository(CorrectionChangeEntity).countBy({ insurerId: insurer.id }),
      log: await app.db.getRepository(TransferLogEntryEntity).countBy({ insurerId: insurer.id }),
    };
  }

  it('the same key and input again answers the stored correction and changes nothing (no second version, no second log entry)', async () => {
    const policyNo = await sell();
    const first = await correct(bank.keys.SERVICE, input(policyNo, '上海市浦东新区幂等路1号'), 'corr-key-1');
    expect(first.errors).toBeUndefined();
    expect(first.data!.submitCorrection).toMatchObject({ version: 2, policy: { version: 2 } });
    const before = await state(policyNo);

    const again = await correct(bank.keys.SERVICE, input(policyNo, '上海市浦东新区幂等路1号'), ' corr-key-1 ');
    expect(again.errors).toBeUndefined();
    expect(again.data!.submitCorrection).toEqual(first.data!.submitCorrection);
    expect(await state(policyNo)).toEqual(before);
  });

  it('a replay still answers the stored correction after the policy moved on (no VERSION_CONFLICT)', async () => {
    const policyNo = await sell();
    const first = (await correct(bank.keys.SERVICE, input(policyNo, '上海市浦东新区幂等路2号'), 'corr-key-2')).data!.submitCorrection;
    const later = await correct(bank.keys.SERVICE, input(policyNo, '上海市浦东新区幂等路3号', 2), 'corr-key-3');
    expect(later.data!.submitCorrection.version).toBe(3);
    const before = await state(policyNo);

    const again = await correct(bank.keys.SERVICE, input(policyNo, '上海市浦东新区幂等路2号'), 'corr-key-2');
    expect(again.errors).toBeUndefined();
    expect(again.data!.submitCorrection).toMatchObject({ id: first.id, version: 2, changes: first.changes, policy: { policyNo, version: 3 } });
    expect(await state(policyNo)).toEqual(before);
  });

  it('the same key with another input is BAD_USER_INPUT and changes nothing', async () => {
    const policyNo = await sell();
    expect((await correct(bank.keys.SERVICE, input(policyNo, '上海市浦东新区幂等路4号'), 'corr-key-4')).errors).toBeUndefined();
    const before = await state(policyNo);

    const other = await correct(bank.keys.SERVICE, input(policyNo, '上海市浦东新区别的路4号', 2), 'corr-key-4');
    expect(errorCode(other)).toBe('BAD_USER_INPUT');
    expect(other.errors![0]!.extensions).toMatchObject({ field: 'idempotencyKey' });
    expect(other.data ?? null).toBeNull();
    expect(await state(policyNo)).toEqual(before);
  });

  it('keys are per organization: the insurer may use a key the bank used', async () => {
    const policyNo = await sell();
    const bankFirst = await correct(bank.keys.SERVICE, input(policyNo, '上海市浦东新区幂等路5号'), 'shared-key');
    expect(bankFirst.errors).toBeUndefined();
    const insurerToo = await correct(insurer.keys.SERVICE, input(policyNo, '上海市浦东新区幂等路6号', 2), 'shared-key');
    expect(insurerToo.errors).toBeUndefined();
    expect(insurerToo.data!.submitCorrection.id).not.toBe(bankFirst.data!.submitCorrection.id);
    expect(insurerToo.data!.submitCorrection.version).toBe(3);
  });

  it('a key is 1 to 128 characters; without one every call is a new correction', async () => {
    const policyNo = await sell();
    const before = await state(policyNo);
    for (const bad of ['  ', 'k'.repeat(129)]) {
      const result = await correct(bank.keys.SERVICE, input(policyNo, '上海市浦东新区幂等路7号'), bad);
      expect(errorCode(result)).toBe('BAD_USER_INPUT');
      expect(result.errors![0]!.extensions).toMatchObject({ field: 'idempotencyKey' });
    }
    expect(await state(policyNo)).toEqual(before);
    expect((await correct(bank.keys.SERVICE, input(policyNo, '上海市浦东新区幂等路7号'), null)).data!.submitCorrection.version).toBe(2);
    const twice = await correct(bank.keys.SERVICE, input(policyNo, '上海市浦东新区幂等路7号'));
    expect(errorCode(twice)).toBe('VERSION_CONFLICT');
  });

  it('eight identical requests racing: exactly one applies, the others answer it', async () => {
    const policyNo = await sell();
    const before = await state(policyNo);
    const answers = await Promise.all(Array.from({ length: 8 }, () => correct(bank.keys.SERVICE, input(policyNo, '上海市浦东新区竞速路8号'), 'race-key')));
    for (const a of answers) expect(a.errors).toBeUndefined();
    expect(new Set(answers.map((a) => a.data!.submitCorrection.id)).size).toBe(1);
    const after = await state(policyNo);
    expect(after.policy.version).toBe(before.policy.version + 1);
    expect(after.corrections).toBe(before.corrections + 1);
    expect(after.log).toBe(before.log + 1);
  });
});
