import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { runRotateKey } from '../../src/cli/rotate-key';
import { loadConfig } from '../../src/config';
import { checkDataKey, DataKeyMismatchError, IndexKeyMismatchError, piiKeys } from '../../src/db/key-registry';
import { countByKey, rotateKeys, SEALED_COLUMNS, type RotationProgress } from '../../src/db/key-rotation';
import { resolveSecrets } from '../../src/db/secrets';
import { createLogger } from '../../src/logger';
import { PiiCipher } from '../../src/modules/person/pii';
import { PersonEntity } from '../../src/modules/policy/person.entity';
import { createServer, type KexinServer } from '../../src/server';
import type { GqlResult } from '../support/app';
import { expectUsageRefusal, runCaptured, startCliApp, stopCliApp, type CliApp } from '../support/cli';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { REGISTER_SALES_PERSON, salesRecord, SUBMIT_SALES, type SalesPayload } from '../support/sales';

/**
 * Issue 11 item 7, keys: `npm run rotate-key` re-seals every stored ID
 * number and phone (people, sales persons, the corrections' sealed values)
 * under a new KEXIN_DATA_KEY in batches while a server started with the new
 * key and the old one in KEXIN_DATA_KEY_PREVIOUS keeps serving reads and
 * writes; a run stopped by --max-batches or killed with SIGKILL is resumed;
 * at the end every value is under the new key, the old key is retired (a
 * start with it alone is refused) and a start with only the new key reads
 * and matches as before (the blind-index key is kept, sealed under it). A
 * second rotation runs in-process with requests served between every batch,
 * and a third with a row rewritten between a batch's read and its update
 * (that write is kept). The oracle is every sealed value opened before the rotation with the old
 * key and after it with only the new one.
 */
const CLI = path.join(__dirname, '..', '..', 'dist', 'src', 'cli', 'rotate-key.js');
const K1 = Buffer.alloc(32, 7); // startTestApp's data key
const K2 = Buffer.alloc(32, 21);
const K3 = Buffer.alloc(32, 33);
const b64 = (k: Buffer) => k.toString('base64');
const idOf = (k: Buffer) => new PiiCipher(k).keyId;
const SEEDED_POLICIES = 40;

const POLICIES = `query($first: Int, $after: String) { policies(first: $first, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { policyNo version policyholder { idNumber phone } } } } }`;
const SUBMIT_CORRECTION = `mutation($input: CorrectionInput!) { submitCorrection(input: $input) { id version changes { field before after } } }`;

interface Clear {
  idNumber: string | null;
  phone: string | null;
}

describe(`rotate-key: re-encryption under a new data key while serving (${TEST_DB})`, () => {
  let cli: CliApp;
  let db: DataSource;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let broker: Awaited<ReturnType<typeof createParty>>;
  /** What the insurer must read for each policy's policyholder, kept up to date by every write of the test. */
  const expected = new Map<string, Clear>();
  /** Every sealed value opened with the old key before the rotation: `table.column.id` → clear text. */
  let before: Map<string, string>;
  let total: number;
  const servers: KexinServer[] = [];
  const listenersBefore = process.listenerCount('SIGTERM');
  let batchNo = 0;
  let phoneNo = 0;

  /** A server on the test's database as a restart with `env` starts it: checkDataKey first, as main.ts does. */
  async function serverWith(keys: Record<string, string>): Promise<KexinServer> {
    const config = loadConfig({ ...cli.env, ...keys });
    const server = await createServer({ config, db, log: createLogger('silent'), secrets: resolveSecrets(config) });
    servers.push(server);
    await checkDataKey(db, server.services.pii);
    return server;
  }

  async function gql<T>(server: KexinServer, token: string, query: string, variables: Record<string, unknown>): Promise<GqlResult<T>> {
    const response = await server.apollo.executeOperation({ query, variables }, { contextValue: await server.contextFor(token) });
    if (response.body.kind !== 'single') throw new Error('unexpected incremental response');
    return response.body.singleResult as GqlResult<T>;
  }
  async function ok<T>(server: KexinServer, token: string, query: string, variables: Record<string, unknown>): Promise<T> {
    const result = await gql<T>(server, token, query, variables);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data as T;
  }

  /** Every policy as the insurer reads it (full ID numbers and phones). */
  async function readAll(server: KexinServer): Promise<Map<string, Clear & { version: number }>> {
    const out = new Map<string, Clear & { version: number }>();
    let after: string | null = null;
    for (;;) {
      type Page = { policies: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: { policyNo: string; version: number; policyholder: Clear } }> } };
      const page: Page = await ok<Page>(server, insurer.keys.SERVICE, POLICIES, { first: 100, after });
      for (const { node } of page.policies.edges) out.set(node.policyNo, { ...node.policyholder, version: node.version });
      if (!page.policies.pageInfo.hasNextPage) return out;
      after = page.policies.pageInfo.endCursor;
    }
  }

  async function expectReadsAsExpected(server: KexinServer): Promise<Map<string, Clear & { version: number }>> {
    const read = await readAll(server);
    expect(new Map([...read].map(([no, { idNumber, phone }]) => [no, { idNumber, phone }]))).toEqual(expected);
    return read;
  }

  async function sell(server: KexinServer, records: Array<Record<string, unknown>>): Promise<void> {
    batchNo += 1;
    const result = await ok<{ submitSales: SalesPayload }>(server, broker.keys.SALES, SUBMIT_SALES, { insurerCode: insurer.code, key: `rotate-${batchNo}`, records });
    expect(result.submitSales.rejected).toBe(0);
    for (const r of records) {
      const holder = r.policyholder as Clear;
      expected.set(r.policyNo as string, { idNumber: holder.idNumber, phone: holder.phone });
    }
  }

  function nextPhone(): string {
    phoneNo += 1;
    return `137${String(30_000_000 + phoneNo * 7_919).slice(-8)}`;
  }

  /** A correction of a policyholder's phone by the insurer (sealed before/after values in correction_change). */
  async function correctPhone(server: KexinServer, policyNo: string, version: number): Promise<void> {
    const phone = nextPhone();
    const evidence = { method: 'CALLBACK_RECORDING', reference: `REC-${phone}`, confirmedAt: new Date(Date.now() - 3_600_000).toISOString() };
    await ok(server, insurer.keys.SERVICE, SUBMIT_CORRECTION, {
      input: { insurerCode: insurer.code, target: 'POLICYHOLDER', policyNo, changes: { phone }, evidence, expectedVersion: version },
    });
    expected.set(policyNo, { ...expected.get(policyNo)!, phone });
  }

  /**
   * One round of traffic: every policy read back as expected, one new
   * policy, one re-submission of a stored policy with a new address (its
   * person row written back, sealed values untouched) and one phone
   * correction.
   */
  async function trafficRound(server: KexinServer, round: string): Promise<void> {
    const read = await expectReadsAsExpected(server);
    await sell(server, [salesRecord(`RK-NEW-${round.toUpperCase()}`)]);
    const stored = [...expected.keys()].filter((no) => no.startsWith('RK-SEED-'));
    const again = stored[batchNo % stored.length]!;
    await sell(server, [withAddress(again, `上海市浦东新区改址路${round}号`)]);
    const target = stored[(batchNo * 7) % stored.length]!;
    await correctPhone(server, target, read.get(target)!.version);
  }
  const seeded = new Map<string, Record<string, unknown>>();
  /** A seeded record again with another address (the same person: same ID number, the phone as last corrected). */
  function withAddress(policyNo: string, address: string): Record<string, unknown> {
    const record = seeded.get(policyNo)!;
    const holder = { ...(record.policyholder as object), phone: expected.get(policyNo)!.phone, address };
    return { ...record, policyholder: holder, insured: holder };
  }

  /** Every sealed value, opened with `pii` (which throws on a value under a key it does not hold). */
  async function openAll(pii: PiiCipher): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const t of SEALED_COLUMNS) {
      const rows = (await db.query(`SELECT id, ${t.keyColumn} AS k, ${t.values.join(', ')} FROM ${t.table} WHERE ${t.keyColumn} IS NOT NULL`)) as Array<Record<string, string | null>>;
      for (const row of rows) for (const v of t.values) if (row[v] !== null) out.set(`${t.table}.${v}.${row.id}`, pii.decrypt(row[v]!, row.k!));
    }
    return out;
  }

  /** The values of `before` that `after` still holds unchanged (rows the test's own writes did not touch). */
  function expectSameValues(now: Map<string, string>, untouched: (key: string) => boolean): number {
    let compared = 0;
    for (const [key, clear] of before) {
      if (!untouched(key) || !now.has(key)) continue;
      expect([key, now.get(key)]).toEqual([key, clear]);
      compared += 1;
    }
    return compared;
  }

  const keyEnv = (current: Buffer, previous?: Buffer) => ({ KEXIN_DATA_KEY: b64(current), ...(previous ? { KEXIN_DATA_KEY_PREVIOUS: b64(previous) } : {}) });

  /** `node dist/src/cli/rotate-key.js` as `npm run rotate-key` runs it, with this database and `keys`. */
  function spawnRotate(argv: string[], keys: Record<string, string>) {
    const child = spawn(process.execPath, [CLI, ...argv], { env: { PATH: process.env.PATH ?? '', ...cli.env, ...keys }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let onProgress: (() => void) | null = null;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (/ batch \d+: /.test(err)) onProgress?.();
    });
    const firstProgress = new Promise<void>((resolve) => (onProgress = resolve));
    const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) =>
      child.on('close', (status, signal) => resolve({ status, signal, out, err })),
    );
    return { child, done, firstProgress };
  }

  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
    cli = await startCliApp('kexin-rotate-');
    db = cli.app.db;
    sqliteHandle = TEST_DB === 'sqlite' ? (db.driver as unknown as { databaseConnection: unknown }).databaseConnection : null;
    mysqlUrl = cli.env.DATABASE_URL!;
    await checkDataKey(db, cli.app.services.pii); // what the first start records: PII key, index key id, the index key sealed
    insurer = await createParty(cli.app, 'INSURER', ['ADMIN', 'SERVICE'], { attested: true });
    broker = await createParty(cli.app, 'BROKER', ['ADMIN', 'SALES'], { attested: true });
    await createAgreement(cli.app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES'], proposerKey: insurer.keys.ADMIN, signerKey: broker.keys.ADMIN });
    await cli.app.ok(broker.keys.ADMIN, REGISTER_SALES_PERSON, { input: { code: 'RK-S1', name: '测试销售甲', phone: nextPhone() } });
    await cli.app.ok(broker.keys.ADMIN, REGISTER_SALES_PERSON, { input: { code: 'RK-S2', name: '测试销售乙', phone: nextPhone() } });
    const records = Array.from({ length: SEEDED_POLICIES }, (_, i) => salesRecord(`RK-SEED-${i}`));
    for (const r of records) seeded.set(r.policyNo as string, r);
    await sell(cli.app.server, records);
    const read = await readAll(cli.app.server);
    for (const no of ['RK-SEED-1', 'RK-SEED-2']) await correctPhone(cli.app.server, no, read.get(no)!.version);
    before = await openAll(new PiiCipher(K1));
    total = Object.values(await countByKey(db)).reduce((a, b) => a + b, 0);
    expect(await countByKey(db)).toEqual({ [idOf(K1)]: total });
    expect(new Set([...before.keys()].map((k) => k.split('.')[0]))).toEqual(new Set(['person', 'sales_person', 'correction_change']));
  }, 60_000);
  afterAll(async () => {
    for (const server of servers) await server.stop();
    if (cli) await stopCliApp(cli.app, cli.dir);
  });

  it('--help prints the usage (0); bad arguments and unusable keys exit 2 with one line, changing nothing', async () => {
    const help = spawnRotate(['--help'], {});
    const shown = await help.done;
    expect(shown).toMatchObject({ status: 0, err: '' });
    expect(shown.out).toMatch(/^usage: npm run rotate-key -- \[--from-key-env NAME\] \[--batch-size N\] \[--max-batches N\]/);
    const bogus = await spawnRotate(['--bogus'], keyEnv(K2, K1)).done;
    expect(bogus).toMatchObject({ status: 2, out: '' });
    expect(bogus.err).toMatch(/^rotate-key: unknown argument --bogus \(see: npm run rotate-key -- --help\)\n$/);

    const env = { ...cli.env, ...keyEnv(K2, K1) };
    expectUsageRefusal(await runCaptured(runRotateKey, ['--batch-size', '0'], env), /^rotate-key: --batch-size must be a whole number from 1 to 100000, got "0"/);
    expectUsageRefusal(await runCaptured(runRotateKey, ['--max-batches', 'x'], env), /^rotate-key: --max-batches must be a whole number/);
    expectUsageRefusal(await runCaptured(runRotateKey, ['--batch-size'], env), /^rotate-key: --batch-size needs a value/);
    expectUsageRefusal(await runCaptured(runRotateKey, ['--from-key-env', 'no such'], env), /^rotate-key: --from-key-env must name an environment variable/);
    const refusals = [
      [runCaptured(runRotateKey, [], { ...cli.env, ...keyEnv(K2) }), /KEXIN_DATA_KEY_PREVIOUS must hold the old key/],
      [runCaptured(runRotateKey, [], { ...cli.env, ...keyEnv(K1, K1) }), /the new key \(KEXIN_DATA_KEY\) is also an old key/],
      [runCaptured(runRotateKey, [], { ...cli.env, ...keyEnv(K2, K3) }), /KEXIN_DATA_KEY is not the key this database's ID numbers and phones were encrypted with/],
      [runCaptured(runRotateKey, ['--from-key-env', 'OLD_KEY'], { ...cli.env, ...keyEnv(K2), OLD_KEY: 'not-a-key' }), /KEXIN_DATA_KEY_PREVIOUS must be 32-byte keys/],
    ] as const;
    for (const [run, message] of refusals) {
      const result = await run;
      expect(result).toMatchObject({ status: 2, out: '' });
      expect(result.err).toMatch(message);
    }
    expect(await countByKey(db)).toEqual({ [idOf(K1)]: total });
    expect((await piiKeys(db)).active).toEqual([idOf(K1)]);
  }, 30_000);

  it('--max-batches 3 --batch-size 5 re-seals exactly 15 values, says so on stderr and exits 3; old and new keys both read', async () => {
    const run = await spawnRotate(['--max-batches', '3', '--batch-size', '5'], keyEnv(K2, K1)).done;
    expect(run.status).toBe(3);
    const progress = run.err.split('\n').filter((line) => / batch \d+: /.test(line));
    expect(progress).toEqual([1, 2, 3].map((n) => expect.stringMatching(new RegExp(`^rotate-key: person\\.key_id batch ${n}: ${n * 5}/${total} values \\(\\d+%\\), \\d+ values/s$`))));
    expect(run.err).toMatch(new RegExp(`stopped with ${total - 15} values still under an old key \\(15 re-encrypted in this run\\): run it again`));
    expect(JSON.parse(run.out)).toMatchObject({ keyId: idOf(K2), finished: false, resealed: 15, raced: 0, batches: 3, remaining: total - 15, retired: [] });
    expect(await countByKey(db)).toEqual({ [idOf(K1)]: total - 15, [idOf(K2)]: 15 });
    // Mid-rotation: K1 alone cannot open what K2 sealed, so that start is refused; both keys read everything.
    await expect(checkDataKey(db, new PiiCipher(K1))).rejects.toThrow(DataKeyMismatchError);
    expect(await openAll(new PiiCipher(K2, [K1]))).toEqual(before);
    await expectReadsAsExpected(await serverWith(keyEnv(K2, K1)));
  }, 30_000);

  it('SIGTERM stops after the batch in progress: exit 3, what is left said on stderr, the rest still readable', async () => {
    const out: string[] = [];
    const err: string[] = [];
    let signalled = false;
    const io = {
      out: (t: string) => out.push(t),
      err: (t: string) => {
        err.push(t);
        // The handler rotate-key installs, called as the signal would call it, right after the first batch's progress line.
        if (!signalled && / batch 1: /.test(t)) {
          signalled = true;
          process.emit('SIGTERM', 'SIGTERM');
        }
      },
    };
    const status = await runRotateKey(['--batch-size', '4'], { ...cli.env, ...keyEnv(K2, K1) }, io);
    expect(signalled).toBe(true);
    expect(status).toBe(3);
    expect(JSON.parse(out.join(''))).toMatchObject({ finished: false, resealed: 4, batches: 1, remaining: total - 19 });
    expect(err.join('')).toMatch(new RegExp(`stopped with ${total - 19} values still under an old key \\(4 re-encrypted in this run\\): run it again`));
    expect(process.listenerCount('SIGTERM')).toBe(listenersBefore);
    expect(await countByKey(db)).toEqual({ [idOf(K1)]: total - 19, [idOf(K2)]: 19 });
    expect(await openAll(new PiiCipher(K2, [K1]))).toEqual(before);
  });

  it('a run killed with SIGKILL mid-way is resumed while the server serves reads and writes; then all is under the new key and the old key is retired', async () => {
    const server = await serverWith(keyEnv(K2, K1));
    const killed = spawnRotate(['--batch-size', '2'], keyEnv(K2, K1));
    await killed.firstProgress;
    killed.child.kill('SIGKILL');
    expect(await killed.done).toMatchObject({ signal: 'SIGKILL' });
    const afterKill = await countByKey(db);
    // Whatever batch the kill cut: each value is under one of the two keys, opens to what it was, and nothing is lost.
    expect(Object.keys(afterKill).filter((id) => id !== idOf(K1) && id !== idOf(K2))).toEqual([]);
    expect((afterKill[idOf(K1)] ?? 0) + (afterKill[idOf(K2)] ?? 0)).toBe(total);
    expect(await openAll(new PiiCipher(K2, [K1]))).toEqual(before);

    const resumed = spawnRotate(['--batch-size', '5'], keyEnv(K2, K1));
    let running = true;
    void resumed.done.then(() => (running = false));
    let rounds = 0;
    let roundsWhileRunning = 0;
    do {
      // better-sqlite3 answers synchronously: without a turn of the event loop the child's exit would never be seen.
      await new Promise((resolve) => setImmediate(resolve));
      if (running) roundsWhileRunning += 1;
      await trafficRound(server, `kill-${rounds}`);
      rounds += 1;
    } while (running);
    const run = await resumed.done;
    expect({ status: run.status, err: run.err.split('\n').filter((l) => !/ batch \d+: /.test(l)) }).toEqual({ status: 0, err: [expect.stringMatching(/: done: /), ''] });
    const summary = JSON.parse(run.out) as { finished: boolean; resealed: number; raced: number; remaining: number; retired: string[] };
    expect(summary).toMatchObject({ finished: true, remaining: 0, retired: [idOf(K1)] });
    expect(run.err).toMatch(new RegExp(`done: ${summary.resealed} values re-encrypted under key id ${idOf(K2)} .*retired key id ${idOf(K1)}`));
    process.stdout.write(
      `rotate-key (${TEST_DB}): ${total} sealed values; after SIGKILL ${afterKill[idOf(K1)] ?? 0} under the old key; resumed run re-sealed ${summary.resealed} ` +
        `(${summary.raced} raced), ${rounds} traffic rounds (${roundsWhileRunning} begun while it ran)\n`,
    );

    const byKey = await countByKey(db);
    expect(Object.keys(byKey)).toEqual([idOf(K2)]);
    const now = await openAll(new PiiCipher(K2));
    // Rows the traffic rewrote hold newer values; every other sealed value opens, with the new key alone, to what it was.
    expect(expectSameValues(now, (key) => !key.startsWith('person.'))).toBeGreaterThan(0);
    expect(expectSameValues(now, (key) => key.startsWith('person.id_number_enc.'))).toBe(SEEDED_POLICIES);
    await expectReadsAsExpected(server);
    expect(await piiKeys(db)).toMatchObject({ active: [idOf(K2)], retired: [idOf(K1)] });
  }, 60_000);

  it('after the rotation: the old key alone is refused at start, the new key alone reads and matches as before, a re-run finds nothing to do', async () => {
    await expect(checkDataKey(db, new PiiCipher(K1))).rejects.toThrow(/was retired by rotate-key/);
    const server = await serverWith(keyEnv(K2));
    expect(server.services.pii.indexKeyId).toBe(new PiiCipher(K1).indexKeyId);
    await expectReadsAsExpected(server);
    // The blind index still finds the stored person: a re-submission updates it instead of adding a second one.
    const people = await db.getRepository(PersonEntity).count();
    await sell(server, [withAddress('RK-SEED-5', '上海市浦东新区新钥路1号')]);
    expect(await db.getRepository(PersonEntity).count()).toBe(people);
    await expectReadsAsExpected(server);

    const noop = await runCaptured(runRotateKey, ['--from-key-env', 'SOME_OLD'], { ...cli.env, ...keyEnv(K2), SOME_OLD: b64(K1) });
    expect(noop).toMatchObject({ status: 0 });
    expect(JSON.parse(noop.out)).toMatchObject({ finished: true, resealed: 0, batches: 0, remaining: 0, retired: [] });
    expect(Object.keys(await countByKey(db))).toEqual([idOf(K2)]);
  }, 30_000);

  it('a second rotation in-process, with reads and writes served between every batch: all under the third key, nothing lost', async () => {
    const server = await serverWith(keyEnv(K3, K2));
    const pii = new PiiCipher(K3, [K2]);
    await checkDataKey(db, pii);
    before = await openAll(new PiiCipher(K2));
    const expectedBefore = new Map(expected);
    const seen: RotationProgress[] = [];
    const result = await rotateKeys(db, pii, {
      batchSize: 7,
      pause: async (progress) => {
        seen.push(progress);
        await trafficRound(server, `inproc-${progress.batches}`);
      },
    });
    expect(result).toMatchObject({ finished: true, remaining: 0, retired: [idOf(K2)] });
    expect(seen.length).toBe(result.batches);
    expect(seen.length).toBeGreaterThan(3);
    expect(Object.keys(await countByKey(db))).toEqual([idOf(K3)]);
    const now = await openAll(new PiiCipher(K3));
    expect(expectSameValues(now, (key) => !key.startsWith('person.'))).toBeGreaterThan(0);
    expect(expectSameValues(now, (key) => key.startsWith('person.id_number_enc.'))).toBe(expectedBefore.size);
    await expectReadsAsExpected(await serverWith(keyEnv(K3)));
    await expect(checkDataKey(db, new PiiCipher(K2))).rejects.toThrow(/was retired by rotate-key/);
    expect(await piiKeys(db)).toMatchObject({ active: [idOf(K3)], retired: expect.arrayContaining([idOf(K1), idOf(K2)]) });
    process.stdout.write(`rotate-key (${TEST_DB}): in-process second rotation ${result.resealed} values in ${result.batches} batches, ${seen.length} traffic rounds between them\n`);
  }, 60_000);

  it('a blind-index key other than the recorded one is refused at start, not used to duplicate everyone', async () => {
    const [{ key_id: recorded }] = (await db.query("SELECT key_id FROM exchange_key WHERE purpose = 'PII_INDEX'")) as Array<{ key_id: string }>;
    await db.query("UPDATE exchange_key SET key_id = 'deadbeef' WHERE purpose = 'PII_INDEX'");
    try {
      await expect(checkDataKey(db, new PiiCipher(K3))).rejects.toThrow(IndexKeyMismatchError);
    } finally {
      await db.query("UPDATE exchange_key SET key_id = ? WHERE purpose = 'PII_INDEX'", [recorded]);
    }
    await expect(checkDataKey(db, new PiiCipher(K3))).resolves.toBeUndefined();
  });

  it('a row written by someone else between a batch\'s read and its update keeps that write (counted as raced, not overwritten)', async () => {
    const K4 = Buffer.alloc(32, 44);
    const writer = new PiiCipher(K4); // what a server already on the new key seals
    const newPhone = nextPhone();
    let hit: string | null = null;
    /** The first value the rotation opens: its row is rewritten at that moment, as a concurrent request would. */
    class Interleaved extends PiiCipher {
      override reseal(stored: string, keyId: string) {
        if (hit === null) {
          hit = stored;
          concurrentWrite(
            'UPDATE person SET phone_enc = ?, key_id = ?, id_number_enc = ? WHERE id_number_enc = ?',
            [writer.encrypt(newPhone).value, writer.keyId, writer.encrypt(this.decrypt(stored, keyId)).value, stored],
          );
        }
        return super.reseal(stored, keyId);
      }
    }
    const pii = new Interleaved(K4, [K3]);
    await checkDataKey(db, pii);
    const result = await rotateKeys(db, pii, { batchSize: 1000 });
    expect(result).toMatchObject({ finished: true, raced: 1, remaining: 0, retired: [idOf(K3)] });
    const rows = (await db.query('SELECT phone_enc, key_id FROM person WHERE key_id = ? AND phone_enc IS NOT NULL', [writer.keyId])) as Array<{ phone_enc: string; key_id: string }>;
    expect(rows.filter((r) => writer.decrypt(r.phone_enc, r.key_id) === newPhone)).toHaveLength(1);
    expect(Object.keys(await countByKey(db))).toEqual([writer.keyId]);
  });
});

/**
 * A write to the test's database that completes before this returns, from
 * outside the rotation's transaction on MySQL (the mysql client), inside it
 * on SQLite (the same, only, connection): either way the row changes after
 * the batch read it.
 */
function concurrentWrite(sql: string, params: string[]): void {
  if (TEST_DB === 'sqlite') {
    (sqliteHandle as { prepare(sql: string): { run(...p: string[]): unknown } }).prepare(sql).run(...params);
    return;
  }
  const url = new URL(mysqlUrl);
  const quoted = params.reduce((text, p) => text.replace('?', `'${p.replace(/[^A-Za-z0-9+/=:]/g, '')}'`), sql);
  execFileSync('mysql', ['-h', url.hostname, '-P', url.port || '3306', '-u', decodeURIComponent(url.username), url.pathname.slice(1), '-e', quoted], {
    env: { ...process.env, MYSQL_PWD: decodeURIComponent(url.password) },
  });
}
let sqliteHandle: unknown = null;
let mysqlUrl = '';
