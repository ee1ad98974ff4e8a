/**
 * Issue 11, suite 6: logging discipline. Every mutation of the served schema
 * (enumerated from it; an unclassified one fails the test) is called three
 * times through the API:
 * - a success: exactly the entries its row says (one, naming the mutation,
 *   outcome OK; none only with a reason: createTransferLogCheckpoint), and nothing else in the log;
 * - the same call (fresh arguments) with a failure forced inside its
 *   transaction, on the LAST write statement the success sent (so the
 *   change itself was already made): INTERNAL_SERVER_ERROR, no entry, and
 *   every table exactly as before (the rollback took the change with it);
 * - a refusal by the service (past the shield gate): the contract code, and
 *   one REFUSED entry with that code where Kexin records refusals (sales,
 *   corrections, underwriting), none otherwise; the data unchanged.
 */
import type { DataSource } from 'typeorm';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { ADMIN_TOKEN, startTestApp, type GqlResult, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty, createPrincipal } from '../support/factories';
import { rootFields } from '../support/operations';
import { salesRecord } from '../support/sales';
import { adult, completeSeed, seedPolicies } from '../support/seed';
import { failStatements, recordStatements } from '../support/sql';

type Party = Awaited<ReturnType<typeof createParty>>;
type Vars = Record<string, unknown>;
interface Call {
  key: string;
  query: string;
  variables?: Vars;
}

interface Spec {
  /** Entries a success appends (1 unless `why` says otherwise). */
  entries: number;
  why?: string;
  success: () => Promise<Call>;
  refusal: () => Promise<Call>;
  refusalCode: string;
  /** Whether the refusal is recorded as a REFUSED entry. */
  refusalLogged: boolean;
}

const DAY = 24 * 60 * 60 * 1000;

/**
 * Makes statements of the shape of `sql` fail (the same text but for the
 * numbers written into it, e.g. the head's new seq), on both paths.
 */
function faultStatement(db: DataSource, sql: string): () => void {
  return failStatements(db, new RegExp(`^${sql.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\d+/g, '\\d+')}$`));
}

const isWrite = (sql: string) => /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(sql);

describe(`logging discipline of every mutation (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Party;
  let other: Party;
  let bank: Party;
  let broker: Party;
  let spare: Party;
  let unattestedSales: string;
  let n = 0;
  const direct: string[] = [];
  const sold: string[] = [];
  const incomplete = 'LD-INCOMPLETE';

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'SERVICE', 'UNDERWRITER', 'COMPLIANCE'], { attested: true });
    other = await createParty(app, 'INSURER', ['ADMIN'], { attested: true });
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    broker = await createParty(app, 'BROKER', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    spare = await createParty(app, 'BROKER', ['ADMIN'], { attested: true });
    unattestedSales = (await createPrincipal(app, bank.code, ['SALES'])).key;
    for (let i = 0; i < 3; i++) direct.push(`LD-D-${i}`);
    for (let i = 0; i < 4; i++) sold.push(`LD-K-${i}`);
    await seedPolicies(app, [
      ...direct.map((p) => completeSeed(insurer.id, p)),
      completeSeed(insurer.id, incomplete, { policyholder: adult({ phone: null }) }),
      ...sold.map((p) => completeSeed(insurer.id, p, { channelId: bank.id })),
    ]);
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES', 'CORRECT_RECORDS'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
    // The broker may sell to the insurer but not correct its records.
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['SUBMIT_SALES'], proposerKey: insurer.keys.ADMIN, signerKey: broker.keys.ADMIN });
  });
  afterAll(() => app.close());

  const PROPOSE = 'mutation($input: ProposeAgreementInput!) { proposeAgreement(input: $input) { id } }';
  const proposal = (insurerCode: string, partnerCode: string) => ({
    input: { insurerCode, partnerCode, scopes: ['READ_POLICIES'], validFrom: new Date(Date.now() - DAY).toISOString(), validTo: new Date(Date.now() + 30 * DAY).toISOString() },
  });
  const propose = async (key: string) => (await app.ok<{ proposeAgreement: { id: string } }>(key, PROPOSE, proposal(insurer.code, spare.code))).proposeAgreement.id;
  const SIGN = 'mutation($id: ID!) { signAgreement(id: $id) { id } }';
  const TERMINATE = 'mutation($id: ID!, $r: String!) { terminateAgreement(id: $id, reason: $r) { id } }';
  const SALES = 'mutation($i: String!, $k: String!, $r: [SalesRecordInput!]!) { submitSales(insurerCode: $i, idempotencyKey: $k, records: $r) { accepted } }';
  const sales = (insurerCode: string) => ({ i: insurerCode, k: `ld-${++n}`, r: [salesRecord(`LD-S-${n}`)] });
  const CORRECT = 'mutation($input: CorrectionInput!) { submitCorrection(input: $input) { id } }';
  const REMEDIATE = 'mutation($insurerCode: String!, $issuedBefore: Date!, $deadline: Date!) { startRemediation(insurerCode: $insurerCode, issuedBefore: $issuedBefore, deadline: $deadline) { id } }';
  const remediation = (insurerCode: string) => ({ insurerCode, issuedBefore: new Date().toISOString().slice(0, 10), deadline: '2099-01-01' });
  const UNDERWRITE = 'mutation($i: String!, $p: String!) { underwritePolicy(insurerCode: $i, policyNo: $p) { status } }';
  const REGISTER = 'mutation($input: RegisterSalesPersonInput!) { registerSalesPerson(input: $input) { id } }';
  const CHECKPOINT = 'mutation($i: String!) { createTransferLogCheckpoint(insurerCode: $i) { seq } }';

  const take = (pool: string[]) => {
    const policyNo = pool.shift();
    if (!policyNo) throw new Error('policy pool exhausted');
    return policyNo;
  };
  async function version(policyNo: string): Promise<number> {
    return (await app.ok<{ policy: { version: number } }>(insurer.keys.ADMIN, 'query($i: String!, $p: String!) { policy(insurerCode: $i, policyNo: $p) { version } }', { i: insurer.code, p: policyNo })).policy.version;
  }
  async function correction(policyNo: string, expectedVersion?: number) {
    return {
      input: {
        insurerCode: insurer.code,
        policyNo,
        target: 'POLICYHOLDER',
        changes: { address: `北京市东城区日志路${++n}号` },
        evidence: { method: 'SIGNED_FORM', reference: `LD-${n}`, confirmedAt: new Date(Date.now() - DAY).toISOString() },
        expectedVersion: expectedVersion ?? (await version(policyNo)),
      },
    };
  }

  /** Every mutation of the served schema: its success, its service refusal and what the log must say of each. */
  const SPECS: Record<string, Spec> = {
    createOrganization: {
      entries: 1,
      success: async () => ({ key: ADMIN_TOKEN, query: 'mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }', variables: { input: { code: `LD_ORG_${++n}`, name: 'Log discipline', kind: 'BROKER' } } }),
      // A code taken already.
      refusal: async () => ({ key: ADMIN_TOKEN, query: 'mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }', variables: { input: { code: bank.code, name: 'Duplicate', kind: 'BROKER' } } }),
      refusalCode: 'BAD_USER_INPUT',
      refusalLogged: false,
    },
    createPrincipal: {
      entries: 1,
      success: async () => ({ key: insurer.keys.ADMIN, query: 'mutation($input: CreatePrincipalInput!) { createPrincipal(input: $input) { apiKey } }', variables: { input: { organizationCode: insurer.code, name: `ld-${++n}`, roles: ['SERVICE'] } } }),
      refusal: async () => ({ key: insurer.keys.ADMIN, query: 'mutation($input: CreatePrincipalInput!) { createPrincipal(input: $input) { apiKey } }', variables: { input: { organizationCode: bank.code, name: 'ld-other', roles: ['SERVICE'] } } }),
      refusalCode: 'FORBIDDEN',
      refusalLogged: false,
    },
    revokePrincipal: {
      entries: 1,
      success: async () => ({ key: insurer.keys.ADMIN, query: 'mutation($id: ID!) { revokePrincipal(id: $id) { id } }', variables: { id: (await createPrincipal(app, insurer.code, ['SERVICE'])).id } }),
      refusal: async () => ({ key: insurer.keys.ADMIN, query: 'mutation($id: ID!) { revokePrincipal(id: $id) { id } }', variables: { id: bank.principalIds.SERVICE } }),
      refusalCode: 'NOT_FOUND',
      refusalLogged: false,
    },
    signAttestation: {
      entries: 1,
      success: async () => ({ key: (await createPrincipal(app, bank.code, ['SERVICE'])).key, query: 'mutation { signAttestation { id } }' }),
      // Nothing past the gate refuses an attestation: the refusal is an unknown key.
      refusal: async () => ({ key: 'kx_unknown-key-of-nobody', query: 'mutation { signAttestation { id } }' }),
      refusalCode: 'UNAUTHENTICATED',
      refusalLogged: false,
    },
    proposeAgreement: {
      entries: 1,
      success: async () => ({ key: insurer.keys.ADMIN, query: PROPOSE, variables: proposal(insurer.code, spare.code) }),
      refusal: async () => ({ key: insurer.keys.ADMIN, query: PROPOSE, variables: proposal(other.code, spare.code) }),
      refusalCode: 'FORBIDDEN',
      refusalLogged: false,
    },
    signAgreement: {
      entries: 1,
      success: async () => ({ key: insurer.keys.ADMIN, query: SIGN, variables: { id: await propose(spare.keys.ADMIN) } }),
      // The proposing side may not sign for the other.
      refusal: async () => ({ key: insurer.keys.ADMIN, query: SIGN, variables: { id: await propose(insurer.keys.ADMIN) } }),
      refusalCode: 'FORBIDDEN',
      refusalLogged: false,
    },
    terminateAgreement: {
      entries: 1,
      success: async () => ({ key: insurer.keys.ADMIN, query: TERMINATE, variables: { id: await propose(insurer.keys.ADMIN), r: 'log discipline' } }),
      refusal: async () => {
        const id = await propose(insurer.keys.ADMIN);
        await app.ok(insurer.keys.ADMIN, TERMINATE, { id, r: 'first' });
        return { key: insurer.keys.ADMIN, query: TERMINATE, variables: { id, r: 'again' } };
      },
      refusalCode: 'BAD_USER_INPUT',
      refusalLogged: false,
    },
    submitSales: {
      entries: 1,
      success: async () => ({ key: bank.keys.SALES, query: SALES, variables: sales(insurer.code) }),
      // No agreement with the other insurer.
      refusal: async () => ({ key: bank.keys.SALES, query: SALES, variables: sales(other.code) }),
      refusalCode: 'AGREEMENT_INACTIVE',
      refusalLogged: true,
    },
    submitCorrection: {
      entries: 1,
      success: async () => ({ key: bank.keys.SERVICE, query: CORRECT, variables: await correction(take(sold)) }),
      refusal: async () => ({ key: bank.keys.SERVICE, query: CORRECT, variables: await correction(sold[0]!, 99) }),
      refusalCode: 'VERSION_CONFLICT',
      refusalLogged: true,
    },
    underwritePolicy: {
      entries: 1,
      success: async () => ({ key: insurer.keys.UNDERWRITER, query: UNDERWRITE, variables: { i: insurer.code, p: take(direct) } }),
      refusal: async () => ({ key: insurer.keys.UNDERWRITER, query: UNDERWRITE, variables: { i: insurer.code, p: incomplete } }),
      refusalCode: 'INCOMPLETE_CUSTOMER_INFO',
      refusalLogged: true,
    },
    startRemediation: {
      entries: 1,
      success: async () => ({ key: insurer.keys.ADMIN, query: REMEDIATE, variables: remediation(insurer.code) }),
      refusal: async () => ({ key: insurer.keys.ADMIN, query: REMEDIATE, variables: remediation(other.code) }),
      refusalCode: 'FORBIDDEN',
      refusalLogged: false,
    },
    registerSalesPerson: {
      entries: 1,
      success: async () => ({ key: bank.keys.ADMIN, query: REGISTER, variables: { input: { code: `LD-SP-${++n}`, name: '日志销售', phone: `135${String(10_000_000 + n * 7_919).slice(-8)}` } } }),
      refusal: async () => ({ key: bank.keys.ADMIN, query: REGISTER, variables: { input: { organizationCode: broker.code, code: 'LD-SP-X', name: '日志销售', phone: '13500001111' } } }),
      refusalCode: 'FORBIDDEN',
      refusalLogged: false,
    },
    createTransferLogCheckpoint: {
      entries: 0,
      why: 'a checkpoint is a signature over the chain\'s head, kept beside the chain: an entry for it would move the head it signs',
      success: async () => ({ key: insurer.keys.COMPLIANCE, query: CHECKPOINT, variables: { i: insurer.code } }),
      refusal: async () => ({ key: insurer.keys.COMPLIANCE, query: CHECKPOINT, variables: { i: other.code } }),
      refusalCode: 'FORBIDDEN',
      refusalLogged: false,
    },
  };

  const tables = () => app.db.entityMetadatas.map((m) => m.tableName).sort();
  /** Every row of every table, in a stable order. */
  async function dump(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const table of tables()) out[table] = ((await app.db.query(`SELECT * FROM ${table}`)) as unknown[]).map((r) => JSON.stringify(r)).sort();
    return out;
  }
  async function entriesSince(seen: Set<string>): Promise<TransferLogEntryEntity[]> {
    return (await app.db.getRepository(TransferLogEntryEntity).find({ order: { seq: 'ASC' } })).filter((e) => !seen.has(e.id));
  }
  const seenIds = async () => new Set((await app.db.getRepository(TransferLogEntryEntity).find({ select: { id: true } })).map((e) => e.id));
  const gql = (call: Call): Promise<GqlResult> => app.gql(call.key, call.query, call.variables);
  const code = (result: GqlResult) => result.errors?.[0]?.extensions?.code as string | undefined;

  const mutations = () => rootFields(app.server.schema).filter((f) => f.type === 'Mutation').map((f) => f.field.name).sort();

  it('classifies every mutation of the served schema', () => {
    expect(Object.keys(SPECS).sort()).toEqual(mutations());
    // A mutation that logs nothing on success says why.
    expect(Object.entries(SPECS).filter(([, spec]) => spec.entries !== 1 && !spec.why).map(([name]) => name)).toEqual([]);
  });

  const cases = { success: 0, rollback: 0, refusal: 0 };
  afterAll(() => console.log(`logging discipline: ${Object.keys(SPECS).length} mutations × 3 cases (${cases.success} successes, ${cases.rollback} rollbacks, ${cases.refusal} refusals passed)`));

  it('records the other refusals of the writes that log them: no attestation, no agreement for the scope', async () => {
    const refusals: Array<[string, Call, string]> = [
      ['submitSales', { key: unattestedSales, query: SALES, variables: sales(insurer.code) }, 'ATTESTATION_REQUIRED'],
      ['submitCorrection', { key: broker.keys.SERVICE, query: CORRECT, variables: await correction(sold[0]!) }, 'AGREEMENT_INACTIVE'],
    ];
    for (const [mutation, call, expected] of refusals) {
      const seen = await seenIds();
      const untouched = await dump();
      const answer = await gql(call);
      expect([mutation, code(answer)]).toEqual([mutation, expected]);
      expect((await entriesSince(seen)).map((e) => [e.operation, e.outcome, e.errorCode])).toEqual([[mutation, 'REFUSED', expected]]);
      const after = await dump();
      for (const table of tables()) if (!table.startsWith('transfer_log')) expect([table, after[table]]).toEqual([table, untouched[table]]);
      cases.refusal += 1;
    }
  });

  it.each(Object.keys(SPECS))('%s: its entries on success, none on a rolled-back failure, REFUSED where refusals are recorded', async (mutation) => {
    const spec = SPECS[mutation]!;

    // Success, with the statements it sends.
    const call = await spec.success();
    let seen = await seenIds();
    const recorder = recordStatements(app.db);
    let result: GqlResult;
    try {
      result = await gql(call);
    } finally {
      recorder.restore();
    }
    expect(result.errors ?? []).toEqual([]);
    const appended = await entriesSince(seen);
    expect(appended.map((e) => [e.operation, e.outcome])).toEqual(Array.from({ length: spec.entries }, () => [mutation, 'OK']));
    cases.success += 1;

    // The same call, failing on the last write statement the success sent.
    const lastWrite = [...recorder.statements].reverse().find(isWrite);
    expect(lastWrite).toBeDefined();
    const again = await spec.success();
    seen = await seenIds();
    const before = await dump();
    const undo = faultStatement(app.db, lastWrite!);
    let failed: GqlResult;
    try {
      failed = await gql(again);
    } finally {
      undo();
    }
    expect([mutation, code(failed)]).toEqual([mutation, 'INTERNAL_SERVER_ERROR']);
    expect(JSON.stringify(failed.errors)).not.toMatch(/simulated failure|INSERT|UPDATE/);
    expect(await entriesSince(seen)).toEqual([]);
    expect(await dump()).toEqual(before);
    cases.rollback += 1;

    // A refusal by the service.
    const refused = await spec.refusal();
    seen = await seenIds();
    const untouched = await dump();
    const answer = await gql(refused);
    expect([mutation, code(answer)]).toEqual([mutation, spec.refusalCode]);
    const logged = await entriesSince(seen);
    expect(logged.map((e) => [e.operation, e.outcome, e.errorCode])).toEqual(spec.refusalLogged ? [[mutation, 'REFUSED', spec.refusalCode]] : []);
    const after = await dump();
    // Only the log may differ, and only by the REFUSED entry.
    for (const table of tables()) if (!table.startsWith('transfer_log')) expect([table, after[table]]).toEqual([table, untouched[table]]);
    cases.refusal += 1;
  });
});
