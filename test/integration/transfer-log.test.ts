import type { EntityManager } from 'typeorm';
import { inTransaction } from '../../src/db/transaction';
import { newId } from '../../src/db/ids';
import { GENESIS_HASH } from '../../src/domain/hash-chain';
import type { CheckpointClaim } from '../../src/modules/transfer-log/transfer-log.checkpoint';
import type { TransferLogCheckpoints } from '../../src/modules/transfer-log/transfer-log.checkpoints';
import { POLICY_ROW_CHUNK } from '../../src/modules/transfer-log/transfer-log.policies';
import type { TransferLogVerifier } from '../../src/modules/transfer-log/transfer-log.verifier';
import type { LogEntryInput, TransferLogWriter } from '../../src/modules/transfer-log/transfer-log.writer';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createOrg } from '../support/factories';

/** Made-up values, used only as the `change` of entries: none of them may reach a log row. */
const FAKE_PII = {
  name: '测试假名甲乙',
  idNumber: '11010519491231002X',
  phone: '13912345678',
  address: '假想市虚构区不存在路123号',
};

describe(`transfer log service (${TEST_DB})`, () => {
  let app: TestApp;
  let log: TransferLogWriter;
  let verifier: TransferLogVerifier;
  let checkpoints: TransferLogCheckpoints;
  let actor: { actorPrincipalId: string; actorOrganizationId: string };

  beforeAll(async () => {
    app = await startTestApp();
    ({ transferLog: log, transferLogVerifier: verifier, transferLogCheckpoints: checkpoints } = app.services);
    const exchange = (await app.services.organizations.findByCode('EXCHANGE'))!;
    actor = { actorPrincipalId: newId(), actorOrganizationId: exchange.id };
  });
  afterAll(() => app.close());

  function entry(insurerId: string | null, n: number, extra: Partial<LogEntryInput> = {}): LogEntryInput {
    return {
      insurerId,
      operation: n % 2 ? 'submitSales' : 'signAgreement',
      ...actor,
      counterpartyId: newId(),
      agreementId: newId(),
      policyNos: [`P-${n}-A`, `P-${n}-B`],
      fields: ['policyholder.phone', 'insured.name'],
      change: { n, ...FAKE_PII },
      ...extra,
    };
  }

  async function appendMany(insurerId: string, count: number, extra: Partial<LogEntryInput> = {}): Promise<void> {
    for (let i = 1; i <= count; i += 1) await inTransaction(app.db, (em) => log.append(em, entry(insurerId, i, extra)));
  }

  async function insurer(): Promise<{ id: string; code: string }> {
    return createOrg(app, 'INSURER');
  }

  const verify = (chain: { id: string; code: string }, checkpoint?: CheckpointClaim | null) =>
    verifier.verifyChain(chain, { checkpoint });

  it('appends gapless entries linked by prevHash, and the chain verifies', async () => {
    const chain = await insurer();
    await appendMany(chain.id, 5);
    const rows = await app.db.query('SELECT seq, prev_hash AS prevHash, hash FROM transfer_log WHERE insurer_id = ? ORDER BY seq', [chain.id]);
    expect(rows.map((r: { seq: number }) => Number(r.seq))).toEqual([1, 2, 3, 4, 5]);
    expect(rows[0].prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < rows.length; i += 1) expect(rows[i].prevHash).toBe(rows[i - 1].hash);
    const result = await verify(chain);
    expect(result).toMatchObject({ valid: true, checked: 5, firstInvalidSeq: null, headHash: rows[4].hash, headSeq: 5, reason: null });
  });

  it('rolls the entry back with the caller\'s transaction, and refuses to append outside a transaction', async () => {
    const chain = await insurer();
    await appendMany(chain.id, 1);
    await expect(
      inTransaction(app.db, async (em) => {
        await log.append(em, entry(chain.id, 2));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await expect(log.append(app.db.manager, entry(chain.id, 3))).rejects.toThrow(/inside inTransaction/);
    const [{ n }] = await app.db.query('SELECT COUNT(*) AS n FROM transfer_log WHERE insurer_id = ?', [chain.id]);
    expect(Number(n)).toBe(1);
    expect((await verify(chain)).valid).toBe(true);
  });

  it('recordRefusal stores a REFUSED entry in its own transaction and never throws', async () => {
    const chain = await insurer();
    await log.recordRefusal({ ...entry(chain.id, 1), operation: 'submitSales', errorCode: 'AGREEMENT_INACTIVE' });
    // An invalid entry (a person's name as a field path) is not stored, and the failure is swallowed.
    await expect(log.recordRefusal({ ...entry(chain.id, 2), fields: ['张 三'], errorCode: 'FORBIDDEN' })).resolves.toBeUndefined();
    const rows = await app.db.query('SELECT seq, outcome, error_code AS errorCode FROM transfer_log WHERE insurer_id = ?', [chain.id]);
    expect(rows).toEqual([{ seq: 1, outcome: 'REFUSED', errorCode: 'AGREEMENT_INACTIVE' }]);
    expect((await verify(chain)).valid).toBe(true);
  });

  it('puts insurerId null on the exchange\'s own chain', async () => {
    const exchange = (await app.services.organizations.findByCode('EXCHANGE'))!;
    const appended = await inTransaction(app.db, (em) => log.append(em, entry(null, 1)));
    expect(appended.insurerId).toBe(exchange.id);
    expect((await verify(exchange)).valid).toBe(true);
  });

  it('streams policy numbers across chunks: entries larger than a chunk of rows verify, and an edit in a later chunk is found', async () => {
    const chain = await insurer();
    const big = (n: number) => Array.from({ length: POLICY_ROW_CHUNK + 1234 }, (_, i) => `BIG-${n}-${i}`);
    for (let n = 1; n <= 3; n += 1) await inTransaction(app.db, (em) => log.append(em, entry(chain.id, n, { policyNos: big(n) })));
    expect(await verify(chain)).toMatchObject({ valid: true, checked: 3 });
    await app.db.query('UPDATE transfer_log_policy SET policy_no = ? WHERE insurer_id = ? AND seq = 3 AND ord = ?', ['BIG-X', chain.id, POLICY_ROW_CHUNK]);
    expect(await verify(chain)).toMatchObject({ valid: false, firstInvalidSeq: 3, reason: 'HASH' });
  });

  describe('tampering', () => {
    /** A new value of the right type for every column of transfer_log. */
    const EDITS: Record<string, (row: Record<string, unknown>) => unknown> = {
      id: () => newId(),
      insurer_id: () => newId(),
      seq: (row) => Number(row.seq) + 1000,
      at: () => '2001-02-03 04:05:06.789',
      operation: () => 'createPrincipal',
      outcome: () => 'REFUSED',
      error_code: () => 'FORBIDDEN',
      actor_principal_id: () => newId(),
      actor_organization_id: () => newId(),
      counterparty_id: () => newId(),
      agreement_id: () => newId(),
      fields: () => '["policyholder.name"]',
      digest: () => 'f'.repeat(64),
      prev_hash: () => 'e'.repeat(64),
      hash: () => 'd'.repeat(64),
    };

    it('covers every column of transfer_log', async () => {
      const columns = app.db.getMetadata('transfer_log').columns.map((c) => c.databaseName).sort();
      expect(Object.keys(EDITS).sort()).toEqual(columns);
    });

    it.each(Object.keys(EDITS))('an edited %s is reported at that entry\'s seq', async (column) => {
      const chain = await insurer();
      await appendMany(chain.id, 5);
      const [row] = await app.db.query('SELECT * FROM transfer_log WHERE insurer_id = ? AND seq = 3', [chain.id]);
      const value = EDITS[column]!(row);
      expect(String(value)).not.toBe(String(row[column]));
      await app.db.query(`UPDATE transfer_log SET ${column} = ? WHERE insurer_id = ? AND seq = 3`, [value, chain.id]);
      const result = await verify(chain);
      expect(result).toMatchObject({ valid: false, firstInvalidSeq: 3 });
    });

    it('an edited newest entry is reported too', async () => {
      const chain = await insurer();
      await appendMany(chain.id, 4);
      await app.db.query('UPDATE transfer_log SET operation = ? WHERE insurer_id = ? AND seq = 4', ['READ_PII', chain.id]);
      expect(await verify(chain)).toMatchObject({ valid: false, firstInvalidSeq: 4, reason: 'HASH' });
    });

    it('a deleted entry is reported as the first missing seq', async () => {
      const chain = await insurer();
      await appendMany(chain.id, 5);
      await app.db.query('DELETE FROM transfer_log WHERE insurer_id = ? AND seq = 2', [chain.id]);
      expect(await verify(chain)).toMatchObject({ valid: false, firstInvalidSeq: 2, reason: 'SEQ' });
    });

    it('a deleted newest entry with the head left alone is reported', async () => {
      const chain = await insurer();
      await appendMany(chain.id, 5);
      await app.db.query('DELETE FROM transfer_log WHERE insurer_id = ? AND seq = 5', [chain.id]);
      await app.db.query('DELETE FROM transfer_log_policy WHERE insurer_id = ? AND seq = 5', [chain.id]);
      expect(await verify(chain)).toMatchObject({ valid: false, firstInvalidSeq: 5, reason: 'HEAD_MISMATCH' });
    });

    it('two entries with their contents swapped are reported at the first of them', async () => {
      const chain = await insurer();
      await appendMany(chain.id, 5);
      const cols = Object.keys(EDITS).filter((c) => !['id', 'insurer_id', 'seq'].includes(c));
      const [a] = await app.db.query('SELECT * FROM transfer_log WHERE insurer_id = ? AND seq = 2', [chain.id]);
      const [b] = await app.db.query('SELECT * FROM transfer_log WHERE insurer_id = ? AND seq = 3', [chain.id]);
      const set = cols.map((c) => `${c} = ?`).join(', ');
      await app.db.query(`UPDATE transfer_log SET ${set} WHERE insurer_id = ? AND seq = 2`, [...cols.map((c) => b[c]), chain.id]);
      await app.db.query(`UPDATE transfer_log SET ${set} WHERE insurer_id = ? AND seq = 3`, [...cols.map((c) => a[c]), chain.id]);
      expect(await verify(chain)).toMatchObject({ valid: false, firstInvalidSeq: 2 });
    });

    it('two entries reordered (their seqs swapped) are reported', async () => {
      const chain = await insurer();
      await appendMany(chain.id, 5);
      await app.db.query('UPDATE transfer_log SET seq = 100 WHERE insurer_id = ? AND seq = 3', [chain.id]);
      await app.db.query('UPDATE transfer_log SET seq = 3 WHERE insurer_id = ? AND seq = 4', [chain.id]);
      await app.db.query('UPDATE transfer_log SET seq = 4 WHERE insurer_id = ? AND seq = 100', [chain.id]);
      expect(await verify(chain)).toMatchObject({ valid: false, firstInvalidSeq: 3 });
    });

    it('a policy number removed from an entry\'s rows breaks its hash', async () => {
      const chain = await insurer();
      await appendMany(chain.id, 3);
      await app.db.query('DELETE FROM transfer_log_policy WHERE insurer_id = ? AND seq = 2 AND policy_no = ?', [chain.id, 'P-2-B']);
      expect(await verify(chain)).toMatchObject({ valid: false, firstInvalidSeq: 2, reason: 'HASH' });
    });

    /** Edits of an entry's policy rows (entry 2 names P-2-A at ord 0 and P-2-B at ord 1). */
    const ROW_EDITS: Record<string, string[]> = {
      edited: ["UPDATE transfer_log_policy SET policy_no = 'P-9-X' WHERE insurer_id = ? AND seq = 2 AND ord = 0"],
      added: ["INSERT INTO transfer_log_policy (insurer_id, policy_no, seq, ord) VALUES (?, 'P-9-X', 2, 2)"],
      'moved to another entry': ['UPDATE transfer_log_policy SET seq = 3, ord = 2 WHERE insurer_id = ? AND seq = 2 AND ord = 1'],
      // Through a free ordinal: the unique (insurer_id, seq, ord) key is checked row by row on MySQL.
      reordered: [
        'UPDATE transfer_log_policy SET ord = 9 WHERE insurer_id = ? AND seq = 2 AND ord = 0',
        'UPDATE transfer_log_policy SET ord = 0 WHERE insurer_id = ? AND seq = 2 AND ord = 1',
        'UPDATE transfer_log_policy SET ord = 1 WHERE insurer_id = ? AND seq = 2 AND ord = 9',
      ],
    };

    it.each(Object.keys(ROW_EDITS))('a policy row %s breaks the entry\'s hash', async (edit) => {
      const chain = await insurer();
      await appendMany(chain.id, 3);
      for (const sql of ROW_EDITS[edit]!) await app.db.query(sql, [chain.id]);
      expect(await verify(chain)).toMatchObject({ valid: false, firstInvalidSeq: 2, reason: 'HASH' });
    });

    it('ordinals that are not exactly 0 … n-1 are reported even where the numbers read back in the hashed order', async () => {
      const chain = await insurer();
      await appendMany(chain.id, 3);
      await app.db.query('UPDATE transfer_log_policy SET ord = 7 WHERE insurer_id = ? AND seq = 2 AND ord = 1', [chain.id]);
      expect(await verify(chain)).toMatchObject({ valid: false, firstInvalidSeq: 2, reason: 'POLICY_INDEX' });
    });
  });

  describe('checkpoints', () => {
    it('detect deleting the newest entries and rewriting the head, against an earlier checkpoint', async () => {
      const chain = await insurer();
      await appendMany(chain.id, 5);
      const checkpoint = await checkpoints.signCheckpoint(chain);
      expect(checkpoint).toMatchObject({ seq: 5, insurerCode: chain.code });
      const claim = { ...checkpoint };
      expect(await verify(chain, claim)).toMatchObject({ valid: true, checkpointValid: true, checkpointSeq: 5 });
      await appendMany(chain.id, 2);
      expect(await verify(chain, claim)).toMatchObject({ valid: true, checkpointValid: true, headSeq: 7 });

      // The attacker deletes entries 4..7 and rewrites the head to entry 3: the chain alone still verifies.
      const [three] = await app.db.query('SELECT hash FROM transfer_log WHERE insurer_id = ? AND seq = 3', [chain.id]);
      await app.db.query('DELETE FROM transfer_log WHERE insurer_id = ? AND seq > 3', [chain.id]);
      await app.db.query('DELETE FROM transfer_log_policy WHERE insurer_id = ? AND seq > 3', [chain.id]);
      await app.db.query('UPDATE transfer_log_head SET seq = 3, hash = ? WHERE insurer_id = ?', [three.hash, chain.id]);
      await app.db.query('DELETE FROM transfer_log_checkpoint WHERE insurer_id = ?', [chain.id]);
      expect(await verify(chain)).toMatchObject({ valid: true, checked: 3, checkpointValid: null });
      // … but not against the checkpoint a partner kept.
      expect(await verify(chain, claim)).toMatchObject({ valid: false, checkpointValid: false, reason: 'CHECKPOINT_NOT_EXTENDED', firstInvalidSeq: 4 });
    });

    it('the latest stored checkpoint is checked when none is given', async () => {
      const chain = await insurer();
      await appendMany(chain.id, 4);
      await checkpoints.signCheckpoint(chain);
      const [two] = await app.db.query('SELECT hash FROM transfer_log WHERE insurer_id = ? AND seq = 2', [chain.id]);
      await app.db.query('DELETE FROM transfer_log WHERE insurer_id = ? AND seq > 2', [chain.id]);
      await app.db.query('DELETE FROM transfer_log_policy WHERE insurer_id = ? AND seq > 2', [chain.id]);
      await app.db.query('UPDATE transfer_log_head SET seq = 2, hash = ? WHERE insurer_id = ?', [two.hash, chain.id]);
      expect(await verify(chain)).toMatchObject({ valid: false, checkpointValid: false, checkpointSeq: 4, reason: 'CHECKPOINT_NOT_EXTENDED' });
    });

    it('a checkpoint whose signature, hash, seq or insurer was altered is rejected', async () => {
      const chain = await insurer();
      const other = await insurer();
      await appendMany(chain.id, 3);
      const good = { ...(await checkpoints.signCheckpoint(chain)) };
      const sig = Buffer.from(good.signature, 'base64');
      sig[0] = sig[0]! ^ 1;
      expect(await verify(chain, { ...good, signature: sig.toString('base64') })).toMatchObject({ valid: false, checkpointValid: false, reason: 'CHECKPOINT_SIGNATURE' });
      expect(await verify(chain, { ...good, seq: 2 })).toMatchObject({ valid: false, reason: 'CHECKPOINT_SIGNATURE' });
      expect(await verify(chain, { ...good, signedAt: new Date(good.signedAt.getTime() + 1) })).toMatchObject({ valid: false, reason: 'CHECKPOINT_SIGNATURE' });
      expect(await verify(other, good)).toMatchObject({ valid: false, reason: 'CHECKPOINT_INSURER' });
      // Signed with some other key (an attacker's): not the exchange's.
      const { generateKeyPairSync } = await import('node:crypto');
      const { CheckpointSigner } = await import('../../src/modules/transfer-log/transfer-log.checkpoint');
      const foreign = new CheckpointSigner(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
      const forged = foreign.sign(chain.id, { insurerCode: chain.code, seq: 3, headHash: good.headHash, signedAt: new Date() });
      expect(await verify(chain, forged)).toMatchObject({ valid: false, reason: 'CHECKPOINT_KEY' });
      expect(await verify(chain, good)).toMatchObject({ valid: true, checkpointValid: true });
    });

    it('are refused for a chain that does not verify', async () => {
      const chain = await insurer();
      await appendMany(chain.id, 3);
      await app.db.query('UPDATE transfer_log SET operation = ? WHERE insurer_id = ? AND seq = 2', ['READ_PII', chain.id]);
      await expect(checkpoints.signCheckpoint(chain)).rejects.toMatchObject({ extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    });

    it('after an earlier checkpoint, only newer entries are re-verified, and a broken link to it is caught', async () => {
      const chain = await insurer();
      await appendMany(chain.id, 3);
      await checkpoints.signCheckpoint(chain);
      await appendMany(chain.id, 2);
      const second = await checkpoints.signCheckpoint(chain);
      expect(second.seq).toBe(5);
      await appendMany(chain.id, 1);
      await app.db.query('UPDATE transfer_log SET digest = ? WHERE insurer_id = ? AND seq = 6', ['0'.repeat(64), chain.id]);
      await expect(checkpoints.signCheckpoint(chain)).rejects.toMatchObject({ extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    });

    it('checkpointMovedChains signs only chains whose head moved since their last checkpoint', async () => {
      const a = await insurer();
      const b = await insurer();
      await appendMany(a.id, 2);
      await appendMany(b.id, 2);
      await checkpoints.checkpointMovedChains();
      const count = async (id: string) => Number((await app.db.query('SELECT COUNT(*) AS n FROM transfer_log_checkpoint WHERE insurer_id = ?', [id]))[0].n);
      expect([await count(a.id), await count(b.id)]).toEqual([1, 1]);
      await appendMany(a.id, 1);
      await checkpoints.checkpointMovedChains();
      expect([await count(a.id), await count(b.id)]).toEqual([2, 1]);
    });

    it('startCheckpointScheduler runs a round at start and stops', async () => {
      const { startCheckpointScheduler } = await import('../../src/modules/transfer-log/transfer-log.scheduler');
      const chain = await insurer();
      await appendMany(chain.id, 1);
      let round!: () => void;
      const done = new Promise<void>((resolve) => (round = resolve));
      const original = checkpoints.checkpointMovedChains.bind(checkpoints);
      const spy = jest.spyOn(checkpoints, 'checkpointMovedChains').mockImplementation(async () => {
        const result = await original();
        round();
        return result;
      });
      try {
        const stop = startCheckpointScheduler(checkpoints, app.services.log, 3_600_000);
        await done;
        await stop();
      } finally {
        spy.mockRestore();
      }
      const rows = await app.db.query('SELECT seq FROM transfer_log_checkpoint WHERE insurer_id = ?', [chain.id]);
      expect(rows.map((r: { seq: number }) => Number(r.seq))).toEqual([1]);
    });
  });

  describe('concurrency', () => {
    it('8 writers × 50 appends on one insurer leave a gapless valid chain of 400, while a second insurer\'s writers proceed', async () => {
      const a = await insurer();
      const b = await insurer();
      const writers = (chain: { id: string }) =>
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < 50; i += 1) await inTransaction(app.db, (em) => log.append(em, entry(chain.id, w * 100 + i)));
        });
      await Promise.all([...writers(a), ...writers(b)]);
      for (const chain of [a, b]) {
        const rows = await app.db.query('SELECT seq FROM transfer_log WHERE insurer_id = ? ORDER BY seq', [chain.id]);
        expect(rows.map((r: { seq: number }) => Number(r.seq))).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
        expect(await verify(chain)).toMatchObject({ valid: true, checked: 400, headSeq: 400 });
      }
    });

    (TEST_DB === 'mysql' ? it : it.skip)('an insurer whose head is locked does not hold up another insurer (MySQL row locks)', async () => {
      const a = await insurer();
      const b = await insurer();
      await appendMany(a.id, 1);
      await appendMany(b.id, 1);
      const runner = app.db.createQueryRunner();
      await runner.connect();
      await runner.startTransaction('READ COMMITTED');
      let aDone = false;
      let blocked: Promise<unknown> | null = null;
      try {
        await log.lockChain(runner.manager, a.id);
        blocked = inTransaction(app.db, (em) => log.append(em, entry(a.id, 2))).then(() => (aDone = true));
        // B appends and commits while A's head is held by the open transaction.
        const appended = await inTransaction(app.db, (em: EntityManager) => log.append(em, entry(b.id, 2)));
        expect(appended.seq).toBe(2);
        expect(aDone).toBe(false);
      } finally {
        await runner.commitTransaction();
        await runner.release();
      }
      await blocked;
      expect(aDone).toBe(true);
      expect(await verify(a)).toMatchObject({ valid: true, checked: 2 });
      expect(await verify(b)).toMatchObject({ valid: true, checked: 2 });
    });

    it('the first append of a new chain creates its head once, even when many race for it', async () => {
      const chain = await insurer();
      await Promise.all(Array.from({ length: 6 }, (_, i) => inTransaction(app.db, (em) => log.append(em, entry(chain.id, i)))));
      expect(await verify(chain)).toMatchObject({ valid: true, checked: 6 });
      const heads = await app.db.query('SELECT COUNT(*) AS n FROM transfer_log_head WHERE insurer_id = ?', [chain.id]);
      expect(Number(heads[0].n)).toBe(1);
    });
  });

  it('no log row holds a person\'s data: only ids, codes, policy numbers, field paths and digests', async () => {
    const chain = await insurer();
    await appendMany(chain.id, 3);
    await log.recordRefusal({ ...entry(chain.id, 4), errorCode: 'FORBIDDEN' });
    await checkpoints.signCheckpoint(chain);
    for (const table of ['transfer_log', 'transfer_log_policy', 'transfer_log_head', 'transfer_log_checkpoint']) {
      const text = JSON.stringify(await app.db.query(`SELECT * FROM ${table}`));
      for (const value of Object.values(FAKE_PII)) expect(text).not.toContain(value);
      expect(text).not.toContain('1231002X');
      expect(text).not.toContain('12345678');
    }
  });
});
