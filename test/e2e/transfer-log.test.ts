import { inTransaction } from '../../src/db/transaction';
import { ADMIN_TOKEN, errorCode, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createParty, createPrincipal } from '../support/factories';
import { recordStatements } from '../support/sql';

/** Made-up personal data: put into `change`s and principal names, it must never come back out of the log. */
const FAKE_PII = { name: '测试假名丙丁', idNumber: '110105194912310021', phone: '13800001111', address: '虚构省假想市无名路9号' };

const LOG = `query($code: String!, $first: Int, $after: String, $policyNo: String, $operation: String) {
  transferLog(insurerCode: $code, first: $first, after: $after, policyNo: $policyNo, operation: $operation) {
    edges { cursor node { seq at operation outcome errorCode actorPrincipalId actorOrganization { code } counterparty { code } agreementId policyNos fields digest prevHash hash } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const VERIFY = `query($code: String!, $checkpoint: CheckpointInput) {
  verifyTransferLog(insurerCode: $code, checkpoint: $checkpoint) { valid checked firstInvalidSeq headHash headSeq reason checkpointValid checkpointSeq }
}`;
const CHECKPOINT_FIELDS = 'insurerCode seq headHash signedAt publicKey signature signedPayload';
const CREATE_CHECKPOINT = `mutation($code: String!) { createTransferLogCheckpoint(insurerCode: $code) { ${CHECKPOINT_FIELDS} } }`;
const LATEST_CHECKPOINT = `query($code: String!) { transferLogCheckpoint(insurerCode: $code) { ${CHECKPOINT_FIELDS} } }`;

interface Edge {
  cursor: string;
  node: { seq: number; operation: string; outcome: string; errorCode: string | null; policyNos: string[]; actorOrganization: { code: string }; counterparty: { code: string } | null };
}
interface LogData {
  transferLog: { edges: Edge[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

describe(`transfer log over GraphQL (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let other: Awaited<ReturnType<typeof createParty>>;
  let bank: Awaited<ReturnType<typeof createParty>>;
  let broker: Awaited<ReturnType<typeof createParty>>;
  let regulator: Awaited<ReturnType<typeof createParty>>;

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'COMPLIANCE', 'SALES', 'UNDERWRITER']);
    other = await createParty(app, 'INSURER', ['ADMIN']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN']);
    broker = await createParty(app, 'BROKER', ['ADMIN']);
    regulator = await createParty(app, 'REGULATOR', ['COMPLIANCE']);
    // 30 data entries on the insurer's chain (after its 4 createPrincipal entries), naming policies P-0 … P-9.
    const log = app.services.transferLog;
    for (let i = 0; i < 30; i += 1) {
      await inTransaction(app.db, (em) =>
        log.append(em, {
          insurerId: insurer.id,
          operation: i % 3 === 0 ? 'READ_PII' : 'submitSales',
          actorPrincipalId: bank.principalIds.ADMIN,
          actorOrganizationId: bank.id,
          counterpartyId: insurer.id,
          policyNos: [`P-${i % 10}`],
          fields: ['policyholder.idNumber', 'policyholder.phone'],
          change: { i, ...FAKE_PII },
        }),
      );
    }
    await app.services.transferLog.recordRefusal({
      insurerId: insurer.id,
      operation: 'submitSales',
      errorCode: 'AGREEMENT_INACTIVE',
      actorPrincipalId: broker.principalIds.ADMIN,
      actorOrganizationId: broker.id,
      counterpartyId: insurer.id,
      policyNos: ['P-REFUSED'],
      change: FAKE_PII,
    });
  });
  afterAll(() => app.close());

  const logOf = (token: string | null, vars: Record<string, unknown>) => app.gql<LogData>(token, LOG, vars);

  describe('permissions', () => {
    it.each([
      ['insurer ADMIN', () => insurer.keys.ADMIN, () => insurer.code],
      ['insurer COMPLIANCE', () => insurer.keys.COMPLIANCE, () => insurer.code],
      ['REGULATOR on one insurer', () => regulator.keys.COMPLIANCE, () => insurer.code],
      ['REGULATOR on another', () => regulator.keys.COMPLIANCE, () => other.code],
      ['EXCHANGE ADMIN on the exchange chain', () => ADMIN_TOKEN, () => 'EXCHANGE'],
    ])('%s may read, verify and checkpoint', async (_label, token, code) => {
      const data = await app.ok<LogData>(token(), LOG, { code: code(), first: 1 });
      expect(data.transferLog.edges.length).toBe(1);
      const verified = await app.ok<{ verifyTransferLog: { valid: boolean } }>(token(), VERIFY, { code: code() });
      expect(verified.verifyTransferLog.valid).toBe(true);
      const created = await app.ok<{ createTransferLogCheckpoint: { insurerCode: string } }>(token(), CREATE_CHECKPOINT, { code: code() });
      expect(created.createTransferLogCheckpoint.insurerCode).toBe(code());
      const latest = await app.ok<{ transferLogCheckpoint: { insurerCode: string } | null }>(token(), LATEST_CHECKPOINT, { code: code() });
      expect(latest.transferLogCheckpoint?.insurerCode).toBe(code());
    });

    it.each([
      ['insurer ADMIN on another insurer', () => insurer.keys.ADMIN, () => other.code, 'FORBIDDEN'],
      ['insurer ADMIN on an unknown code', () => insurer.keys.ADMIN, () => 'NO_SUCH_INSURER', 'FORBIDDEN'],
      ['insurer ADMIN on the exchange chain', () => insurer.keys.ADMIN, () => 'EXCHANGE', 'FORBIDDEN'],
      ['insurer SALES', () => insurer.keys.SALES, () => insurer.code, 'FORBIDDEN'],
      ['insurer UNDERWRITER', () => insurer.keys.UNDERWRITER, () => insurer.code, 'FORBIDDEN'],
      ['bank ADMIN', () => bank.keys.ADMIN, () => insurer.code, 'FORBIDDEN'],
      ['broker ADMIN', () => broker.keys.ADMIN, () => insurer.code, 'FORBIDDEN'],
      ['EXCHANGE ADMIN on an insurer', () => ADMIN_TOKEN, () => insurer.code, 'FORBIDDEN'],
      ['REGULATOR on an unknown code', () => regulator.keys.COMPLIANCE, () => 'NO_SUCH_INSURER', 'NOT_FOUND'],
      ['REGULATOR on a bank code', () => regulator.keys.COMPLIANCE, () => bank.code, 'NOT_FOUND'],
      ['anonymous', () => null, () => insurer.code, 'UNAUTHENTICATED'],
      ['an unknown key', () => 'not-a-key', () => insurer.code, 'UNAUTHENTICATED'],
    ])('%s is refused', async (_label, token, code, expected) => {
      const before = await app.db.query('SELECT COUNT(*) AS n FROM transfer_log_checkpoint');
      for (const [query, field] of [
        [LOG, 'transferLog'],
        [VERIFY, 'verifyTransferLog'],
        [LATEST_CHECKPOINT, 'transferLogCheckpoint'],
        [CREATE_CHECKPOINT, 'createTransferLogCheckpoint'],
      ] as const) {
        const result = await app.gql<Record<string, unknown>>(token(), query, { code: code() });
        expect(errorCode(result)).toBe(expected);
        expect(result.data?.[field] ?? null).toBeNull();
      }
      // Nothing was signed.
      expect(await app.db.query('SELECT COUNT(*) AS n FROM transfer_log_checkpoint')).toEqual(before);
    });
  });

  describe('pagination and filters', () => {
    it('pages newest first without overlap, with opaque cursors', async () => {
      const seen: number[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const data: LogData = await app.ok<LogData>(insurer.keys.COMPLIANCE, LOG, { code: insurer.code, first: 7, after });
        const seqs = data.transferLog.edges.map((e) => e.node.seq);
        seen.push(...seqs);
        pages += 1;
        for (const edge of data.transferLog.edges) expect(edge.cursor).not.toBe(String(edge.node.seq));
        if (!data.transferLog.pageInfo.hasNextPage) break;
        after = data.transferLog.pageInfo.endCursor;
      }
      const total = 4 + 30 + 1;
      expect(seen).toEqual(Array.from({ length: total }, (_, i) => total - i));
      expect(pages).toBe(Math.ceil(total / 7));
    });

    it('defaults to 50 and refuses first > 500, a negative first and a foreign cursor', async () => {
      const data = await app.ok<LogData>(insurer.keys.ADMIN, LOG, { code: insurer.code });
      expect(data.transferLog.edges.length).toBe(35);
      expect(data.transferLog.pageInfo.hasNextPage).toBe(false);
      expect(errorCode(await logOf(insurer.keys.ADMIN, { code: insurer.code, first: 501 }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await logOf(insurer.keys.ADMIN, { code: insurer.code, first: -1 }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await logOf(insurer.keys.ADMIN, { code: insurer.code, after: 'bm90LWEtY3Vyc29y' }))).toBe('BAD_USER_INPUT');
      expect((await app.ok<LogData>(insurer.keys.ADMIN, LOG, { code: insurer.code, first: 500 })).transferLog.edges.length).toBe(35);
    });

    it('filters by policy number and by operation, through the same pages', async () => {
      const byPolicy = await app.ok<LogData>(insurer.keys.ADMIN, LOG, { code: insurer.code, policyNo: 'P-3', first: 2 });
      expect(byPolicy.transferLog.edges.map((e) => e.node.policyNos)).toEqual([['P-3'], ['P-3']]);
      expect(byPolicy.transferLog.pageInfo.hasNextPage).toBe(true);
      const rest = await app.ok<LogData>(insurer.keys.ADMIN, LOG, { code: insurer.code, policyNo: 'P-3', after: byPolicy.transferLog.pageInfo.endCursor });
      expect(rest.transferLog.edges.length).toBe(1);
      expect(rest.transferLog.edges[0]!.node.seq).toBeLessThan(byPolicy.transferLog.edges[1]!.node.seq);

      const reads = await app.ok<LogData>(insurer.keys.ADMIN, LOG, { code: insurer.code, operation: 'READ_PII' });
      expect(reads.transferLog.edges.length).toBe(10);
      expect(new Set(reads.transferLog.edges.map((e) => e.node.operation))).toEqual(new Set(['READ_PII']));
      const both = await app.ok<LogData>(insurer.keys.ADMIN, LOG, { code: insurer.code, operation: 'READ_PII', policyNo: 'P-3' });
      expect(both.transferLog.edges.map((e) => e.node.policyNos)).toEqual([['P-3']]);
      const none = await app.ok<LogData>(insurer.keys.ADMIN, LOG, { code: insurer.code, policyNo: 'P-UNKNOWN' });
      expect(none.transferLog).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    });

    it('shows refused attempts with their error code, and the organizations through the loader', async () => {
      const data = await app.ok<LogData>(insurer.keys.ADMIN, LOG, { code: insurer.code, first: 1 });
      expect(data.transferLog.edges[0]!.node).toMatchObject({
        operation: 'submitSales',
        outcome: 'REFUSED',
        errorCode: 'AGREEMENT_INACTIVE',
        policyNos: ['P-REFUSED'],
        actorOrganization: { code: broker.code },
        counterparty: { code: insurer.code },
      });
    });
  });

  describe('principal changes are logged', () => {
    it('createPrincipal and revokePrincipal of an insurer go on its chain; of a bank, on the exchange chain', async () => {
      const created = await createPrincipal(app, insurer.code, ['SERVICE'], { name: FAKE_PII.name });
      await app.ok(insurer.keys.ADMIN, 'mutation($id: ID!) { revokePrincipal(id: $id) { id } }', { id: created.id });
      const data = await app.ok<LogData>(insurer.keys.ADMIN, LOG, { code: insurer.code, first: 2 });
      expect(data.transferLog.edges.map((e) => e.node)).toMatchObject([
        { operation: 'revokePrincipal', outcome: 'OK', actorOrganization: { code: insurer.code }, counterparty: null },
        { operation: 'createPrincipal', outcome: 'OK', actorOrganization: { code: 'EXCHANGE' }, counterparty: { code: insurer.code } },
      ]);

      const bankPrincipal = await createPrincipal(app, bank.code, ['SALES']);
      await app.ok(bank.keys.ADMIN, 'mutation($id: ID!) { revokePrincipal(id: $id) { id } }', { id: bankPrincipal.id });
      const exchange = await app.ok<LogData>(ADMIN_TOKEN, LOG, { code: 'EXCHANGE', first: 2 });
      expect(exchange.transferLog.edges.map((e) => e.node)).toMatchObject([
        { operation: 'revokePrincipal', actorOrganization: { code: bank.code }, counterparty: null },
        { operation: 'createPrincipal', actorOrganization: { code: 'EXCHANGE' }, counterparty: { code: bank.code } },
      ]);
      // Revoking again changes nothing and logs nothing.
      await app.ok(bank.keys.ADMIN, 'mutation($id: ID!) { revokePrincipal(id: $id) { id } }', { id: bankPrincipal.id });
      const again = await app.ok<LogData>(ADMIN_TOKEN, LOG, { code: 'EXCHANGE', first: 1 });
      expect(again.transferLog.edges[0]!.node.seq).toBe(exchange.transferLog.edges[0]!.node.seq);
      for (const code of [insurer.code, 'EXCHANGE']) {
        expect((await app.ok<{ verifyTransferLog: { valid: boolean } }>(code === 'EXCHANGE' ? ADMIN_TOKEN : insurer.keys.ADMIN, VERIFY, { code })).verifyTransferLog.valid).toBe(true);
      }
    });

    it('a refused createPrincipal changes nothing and logs nothing', async () => {
      const before = await app.ok<LogData>(ADMIN_TOKEN, LOG, { code: 'EXCHANGE', first: 1 });
      const result = await app.gql(insurer.keys.ADMIN, 'mutation($input: CreatePrincipalInput!) { createPrincipal(input: $input) { apiKey } }', {
        input: { organizationCode: other.code, name: 'x', roles: ['ADMIN'] },
      });
      expect(errorCode(result)).toBe('FORBIDDEN');
      const otherLog = await app.ok<LogData>(regulator.keys.COMPLIANCE, LOG, { code: other.code });
      expect(otherLog.transferLog.edges.map((e) => e.node.operation)).toEqual(['createPrincipal']);
      const after = await app.ok<LogData>(ADMIN_TOKEN, LOG, { code: 'EXCHANGE', first: 1 });
      expect(after).toEqual(before);
    });
  });

  describe('checkpoints over GraphQL', () => {
    it('a checkpoint is a receipt that verifyTransferLog checks; a tampered one is rejected', async () => {
      const created = await app.ok<{ createTransferLogCheckpoint: Record<string, unknown> & { seq: number; signature: string; signedPayload: string } }>(
        insurer.keys.ADMIN,
        CREATE_CHECKPOINT,
        { code: insurer.code },
      );
      const { signedPayload, ...checkpoint } = created.createTransferLogCheckpoint;
      expect(JSON.parse(signedPayload)).toMatchObject({ insurerCode: insurer.code, insurerId: insurer.id, seq: checkpoint.seq });
      const ok = await app.ok<{ verifyTransferLog: Record<string, unknown> }>(insurer.keys.COMPLIANCE, VERIFY, { code: insurer.code, checkpoint });
      expect(ok.verifyTransferLog).toMatchObject({ valid: true, checkpointValid: true, checkpointSeq: checkpoint.seq, firstInvalidSeq: null });

      const badSig = Buffer.from(checkpoint.signature, 'base64');
      badSig[10] = badSig[10]! ^ 0xff;
      const bad = await app.ok<{ verifyTransferLog: Record<string, unknown> }>(insurer.keys.COMPLIANCE, VERIFY, {
        code: insurer.code,
        checkpoint: { ...checkpoint, signature: badSig.toString('base64') },
      });
      expect(bad.verifyTransferLog).toMatchObject({ valid: false, checkpointValid: false, reason: 'CHECKPOINT_SIGNATURE' });

      const latest = await app.ok<{ transferLogCheckpoint: Record<string, unknown> }>(regulator.keys.COMPLIANCE, LATEST_CHECKPOINT, { code: insurer.code });
      expect(latest.transferLogCheckpoint).toEqual(created.createTransferLogCheckpoint);
    });
  });

  it('a page costs the same SQL statements whatever its size (organizations through the per-request loader)', async () => {
    const recorder = recordStatements(app.db);
    try {
      const count = async (first: number) => {
        recorder.reset();
        const data = await app.ok<LogData>(insurer.keys.ADMIN, LOG, { code: insurer.code, first });
        expect(data.transferLog.edges.length).toBe(first);
        return recorder.statements.length;
      };
      await count(1);
      const small = await count(3);
      const large = await count(35);
      expect(large).toBe(small);
      expect(large).toBeLessThanOrEqual(6);
    } finally {
      recorder.restore();
    }
  });

  it('no log query result holds a person\'s data', async () => {
    const outputs = [
      await app.gql(insurer.keys.ADMIN, LOG, { code: insurer.code, first: 500 }),
      await app.gql(ADMIN_TOKEN, LOG, { code: 'EXCHANGE', first: 500 }),
      await app.gql(regulator.keys.COMPLIANCE, VERIFY, { code: insurer.code }),
      await app.gql(regulator.keys.COMPLIANCE, LATEST_CHECKPOINT, { code: insurer.code }),
    ];
    const text = JSON.stringify(outputs);
    expect(text).toContain('P-REFUSED');
    for (const value of Object.values(FAKE_PII)) expect(text).not.toContain(value);
    for (const table of ['transfer_log', 'transfer_log_policy', 'transfer_log_head', 'transfer_log_checkpoint']) {
      const rows = JSON.stringify(await app.db.query(`SELECT * FROM ${table}`));
      for (const value of Object.values(FAKE_PII)) expect(rows).not.toContain(value);
    }
  });
});
