/**
 * Issue 12, items 1 and 2, end to end: the built server (`node
 * dist/src/main.js`, built by `npm test` first) started as a user starts the
 * demo, then the README's walkthrough, with the keys read from the
 * issued-keys file. The WHOLE output (stdout and stderr) holds none of the
 * issued keys nor the admin token, exactly one request line per request with
 * its id and duration, and nothing of a person (the demo book's and the
 * walkthrough's names, ID numbers, phones and addresses). The file is 0600.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_ORGANIZATIONS } from '../../src/cli/demo-seed';
import { DEMO_SELLER, DEMO_SHARED_PHONE, demoRecords, DEMO_POLICY_COUNTS } from '../../src/cli/demo-policies';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../support/db';

const MAIN = path.join(__dirname, '..', '..', 'dist', 'src', 'main.js');

async function waitFor(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The README's bank batch (made-up people, valid check digits): one COMPLETE, one INCOMPLETE, one rejected. */
const README_RECORDS = [
  {
    policyNo: 'BANK-2026-0001', productCode: 'WL-20', termMonths: 240, applicationDate: '2026-11-20', salesPersonCode: 'B001',
    policyholder: { name: '测试甲', gender: 'MALE', birthDate: '1985-03-07', idType: 'RESIDENT_ID', idNumber: '110105198503070019', phone: '+86 138-0013-8000', address: '北京市朝阳区建国路88号1单元101室' },
    insured: { name: '测试甲', gender: 'MALE', birthDate: '1985-03-07', idType: 'RESIDENT_ID', idNumber: '110105198503070019' },
    insuredRelationship: 'SELF',
  },
  {
    policyNo: 'BANK-2026-0002', productCode: 'WL-20', termMonths: 240, applicationDate: '2026-11-20',
    policyholder: { name: '测试乙', gender: 'FEMALE', birthDate: '1990-01-01', idType: 'RESIDENT_ID', idNumber: '110105199001010029', address: '不详' },
    insured: { name: '测试乙', gender: 'FEMALE', birthDate: '1990-01-01', idType: 'RESIDENT_ID', idNumber: '110105199001010029' },
    insuredRelationship: 'SELF',
  },
  { policyNo: 'BANK-2026-0003', productCode: 'TERM-1Y', termMonths: 12, applicationDate: '2026-11-20', policyholder: {}, insured: {} },
];
const SELLER = { code: 'B001', name: '柜员一号', phone: '13900001111' };
const CORRECTED_PHONE = '13912345678';

/** Every name, ID number, phone and address of the demo book, the sellers and the walkthrough (what must never be logged). */
function personData(): string[] {
  const people = [
    ...demoRecords('BANK', DEMO_POLICY_COUNTS.DEMO_BANK, 0),
    ...demoRecords('BROKER', DEMO_POLICY_COUNTS.DEMO_BROKER, 1000),
    ...README_RECORDS,
  ].flatMap((r) => [r.policyholder, r.insured] as Array<Record<string, unknown> | null | undefined>);
  const values = new Set<string>([DEMO_SELLER.name, DEMO_SELLER.phone, DEMO_SHARED_PHONE, SELLER.name, SELLER.phone, CORRECTED_PHONE, '13800138000']);
  for (const p of people) for (const field of ['name', 'idNumber', 'phone', 'address'] as const) if (typeof p?.[field] === 'string' && p[field] !== '') values.add(p[field] as string);
  return [...values];
}

describe(`a demo start and the README walkthrough leave no secret and no person data in the log (${TEST_DB})`, () => {
  let cwd: string;
  let database: TestDatabase | null = null;
  let child: ChildProcess | null = null;
  afterAll(async () => {
    child?.kill('SIGKILL');
    if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
    await database?.drop();
  });

  it('keys only in the 0600 file, one line per request with ids and durations, no key, token or person data anywhere in the output', async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does it first)`);
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-secrets-'));
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info' };
    if (TEST_DB === 'mysql') {
      database = await createTestDatabase();
      Object.assign(env, { DATABASE_URL: (database.config as { url: string }).url, KEXIN_DATA_KEY: Buffer.alloc(32, 5).toString('base64'), KEXIN_DEMO: '1' });
    }
    let stdout = '';
    let stderr = '';
    const proc = spawn(process.execPath, [MAIN], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout!.on('data', (d) => (stdout += String(d)));
    proc.stderr!.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    await waitFor(() => /"msg":"kexin listening"/.test(stdout) || proc.exitCode !== null, 'the server to listen');
    const port = Number(/"port":(\d+)/.exec(stdout)?.[1]);
    expect({ port: port > 0, stderr }).toEqual({ port: true, stderr: '' });

    // The file: where the log says, mode 0600, the admin token and one key per demo principal.
    const file = path.join(cwd, 'data', TEST_DB === 'sqlite' ? 'kexin.sqlite.issued-keys.txt' : 'kexin-issued-keys.txt');
    const written = stdout.split('\n').filter((l) => l.includes('"msg":"issued keys written')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(written).toEqual([
      expect.objectContaining({ level: 30, file, mode: '0600', adminToken: true }),
      expect.objectContaining({ level: 30, file, mode: '0600', demoKeys: DEMO_ORGANIZATIONS.flatMap((o) => o.principals).length }),
    ]);
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
    const text = fs.readFileSync(file, 'utf8');
    const adminToken = /^KEXIN_ADMIN_TOKEN=(\S+)$/m.exec(text)?.[1];
    expect(adminToken?.length).toBeGreaterThanOrEqual(24);
    const keys = new Map<string, string>();
    for (const org of DEMO_ORGANIZATIONS) {
      for (const p of org.principals) {
        const key = new RegExp(`^\\s+${org.code}\\s+${p.name}\\s+\\S+\\s+(kx_\\S+)$`, 'm').exec(text)?.[1];
        if (!key) throw new Error(`no key for ${p.name} in ${file}:\n${text}`);
        keys.set(p.name, key);
      }
    }
    const key = (name: string) => keys.get(name)!;

    // The walkthrough, each request with its own id.
    let n = 0;
    const sent: string[] = [];
    const call = async (token: string | null, query: string, variables?: unknown, extra: Record<string, string> = {}) => {
      const requestId = `walk-${++n}`;
      sent.push(requestId);
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
        body: JSON.stringify({ query, variables }),
      });
      expect(response.headers.get('x-request-id')).toBe(requestId);
      return { status: response.status, json: (await response.json()) as Record<string, any> };
    };
    const health = await fetch(`http://127.0.0.1:${port}/health`, { headers: { 'x-request-id': `walk-${++n}` } });
    sent.push(`walk-${n}`);
    expect(health.status).toBe(200);
    expect((await call(key('demo-bank-sales'), '{ me { name roles organization { code kind } } }')).json.data.me.name).toBe('demo-bank-sales');
    expect((await call(key('demo-bank-admin'), `mutation { registerSalesPerson(input: { code: "${SELLER.code}", name: "${SELLER.name}", phone: "${SELLER.phone}" }) { code phone } }`)).json.errors).toBeUndefined();
    const SUBMIT = `mutation($records: [SalesRecordInput!]!) { submitSales(insurerCode: "DEMO_LIFE", idempotencyKey: "bank-2026-11-24-1", records: $records) {
      batchId replayed accepted rejected results { policyNo accepted errors { field code message } completeness { status missing issues { field code } } } } }`;
    const pushed = (await call(key('demo-bank-sales'), SUBMIT, { records: README_RECORDS })).json.data.submitSales;
    expect({ accepted: pushed.accepted, rejected: pushed.rejected }).toEqual({ accepted: 2, rejected: 1 });
    expect((await call(key('demo-bank-sales'), SUBMIT, { records: README_RECORDS })).json.data.submitSales.replayed).toBe(true);
    expect((await call(key('demo-bank-sales'), '{ policies(first: 5) { totalCount edges { node { policyNo completeness { status } policyholder { idNumber phone } } } } }')).json.errors).toBeUndefined();
    const missing = (await call(key('demo-broker-service'), `{ policies(filter: { missingField: "policyholder.phone", channelCode: "DEMO_BROKER" }, first: 1) {
      edges { node { policyNo version completeness { status missing } policyholder { name phone idNumber } } } } }`)).json.data.policies.edges[0].node;
    const corrected = await call(key('demo-broker-service'), 'mutation($input: CorrectionInput!) { submitCorrection(input: $input) { id changedFields policy { version completeness { status missing } } } }', {
      input: {
        insurerCode: 'DEMO_LIFE', policyNo: missing.policyNo, target: 'POLICYHOLDER', changes: { phone: CORRECTED_PHONE },
        evidence: { method: 'CALLBACK_RECORDING', reference: 'CALL-20261124-0001', confirmedAt: '2026-11-24T09:30:00.000Z' }, expectedVersion: missing.version,
      },
    });
    expect(corrected.json.errors).toBeUndefined();
    expect((await call(key('demo-life-compliance'), '{ policies(filter: { completeness: INCOMPLETE }, first: 3) { totalCount edges { node { policyNo channel { code } completeness { missing issues { field code message } } } } } }')).json.errors).toBeUndefined();
    expect((await call(key('demo-life-compliance'), '{ completenessSummary(insurerCode: "DEMO_LIFE", groupBy: CHANNEL) { key total complete incomplete suspect missingByField { field count } } }')).json.errors).toBeUndefined();
    const underwrite = await call(key('demo-life-underwriter'), 'mutation Underwrite { underwritePolicy(insurerCode: "DEMO_LIFE", policyNo: "BANK-2026-0002") { status } }');
    expect(underwrite.json.errors[0].extensions.code).toBe('INCOMPLETE_CUSTOMER_INFO');
    expect((await call(key('demo-life-compliance'), '{ transferLog(insurerCode: "DEMO_LIFE", first: 5) { edges { node { seq operation policyNos } } } verifyTransferLog(insurerCode: "DEMO_LIFE") { valid } }')).json.data.verifyTransferLog.valid).toBe(true);
    expect((await call(key('demo-life-compliance'), 'mutation { createTransferLogCheckpoint(insurerCode: "DEMO_LIFE") { seq signature } }')).json.errors).toBeUndefined();
    expect((await call(adminToken!, '{ me { name organization { code } } }')).json.data.me.organization.code).toBe('EXCHANGE');
    expect((await call(`${key('demo-bank-sales')}x`, '{ me { name } }')).status).toBe(401);
    const preflight = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://studio.apollographql.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type', 'x-request-id': `walk-${++n}` },
    });
    sent.push(`walk-${n}`);
    expect(preflight.status).toBe(204);

    proc.kill('SIGTERM');
    expect({ exitCode: await exited, stderr }).toEqual({ exitCode: 0, stderr: '' });
    const output = stdout + stderr;

    // Not one issued secret anywhere in the output (and the file holds them all).
    const secrets = [adminToken!, ...keys.values()];
    expect(secrets).toHaveLength(1 + DEMO_ORGANIZATIONS.flatMap((o) => o.principals).length);
    for (const secret of secrets) expect(text).toContain(secret);
    expect(secrets.filter((s) => output.includes(s))).toEqual([]);
    expect(output).not.toMatch(/kx_[A-Za-z0-9_-]{8,}/);
    // Nothing of a person either: not the demo book's, not the walkthrough's.
    const data = personData();
    expect(data.length).toBeGreaterThan(500);
    expect(data.filter((d) => output.includes(d))).toEqual([]);

    // Every line is JSON; exactly one request line per request, in the order sent, with its id and duration.
    const lines = stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);
    const requests = lines.filter((l) => l.msg === 'request' || l.msg === 'slow request');
    expect(requests.map((l) => l.requestId)).toEqual(sent);
    for (const line of requests) {
      expect(line).toEqual(expect.objectContaining({ requestId: expect.stringMatching(/^walk-\d+$/), status: expect.any(Number), durationMs: expect.any(Number) }));
      expect(Object.keys(line)).not.toContain('variables');
      expect(Object.keys(line)).not.toContain('query');
    }
    const byId = new Map(requests.map((l) => [l.requestId as string, l]));
    expect(byId.get('walk-4')).toMatchObject({ operationType: 'mutation', organizationCode: 'DEMO_BANK', rows: 2, status: 200 });
    expect(byId.get('walk-11')).toMatchObject({ operationName: 'Underwrite', organizationCode: 'DEMO_LIFE', errorCodes: ['INCOMPLETE_CUSTOMER_INFO'] });
    expect(byId.get(`walk-${n - 1}`)).toMatchObject({ status: 401, errorCodes: ['UNAUTHENTICATED'] });
    expect(byId.get(`walk-${n}`)).toMatchObject({ method: 'OPTIONS', status: 204 });
    expect(requests.filter((l) => l.principalId !== undefined)).toHaveLength(sent.length - 3); // not /health, the bad key, the preflight
  });

  it('a start that may issue a key but cannot write the issued-keys file refuses before anything is issued (exit 1)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-nokeys-'));
    try {
      fs.writeFileSync(path.join(dir, 'plain'), '');
      const file = path.join(dir, 'plain', 'keys.txt');
      const proc = spawn(process.execPath, [MAIN], { cwd: dir, env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: 'sqlite::memory:', KEXIN_ISSUED_KEYS_FILE: file }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      proc.stdout!.on('data', (d) => (output += String(d)));
      proc.stderr!.on('data', (d) => (output += String(d)));
      const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
      expect({ code, output }).toEqual({ code: 1, output: expect.stringContaining(`kexin: cannot keep issued keys: ${file} cannot be created: ${path.join(dir, 'plain')} is not a folder`) });
      expect(output).not.toMatch(/kexin listening|KEXIN_ADMIN_TOKEN=|kx_/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
