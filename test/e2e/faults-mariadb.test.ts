import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { durabilityWarning } from '../../src/db/durability';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { checkBook, faultSeed, KexinProcess, LEAK, PrivateMariaDb, SalesClients, sleep, verifyChain, waitUntil, type BookFigures } from '../support/faults';
import { salesSetup } from '../support/sales';
import { soakCount } from '../support/soak';
import { seededRandom } from '../support/random';

/**
 * Issue 11, item 4 (MariaDB): a private mariadbd, started by this file on its
 * own data directory and port, killed with -9 at seeded random points while
 * four clients push sales batches through Kexin's HTTP endpoint and retry each
 * with its idempotency key until acknowledged. Kexin keeps running throughout.
 * Runs in the MySQL run (the private server is MariaDB either way).
 */
const ROUNDS = soakCount(10, 50);
const CLIENTS = 4;
const BATCH = 20;
const DATABASE = 'kexin_faults';

(TEST_DB === 'mysql' ? describe : describe.skip)('kill -9 of the database during concurrent submitSales (private MariaDB)', () => {
  const seed = faultSeed();
  const random = seededRandom(seed);
  let dir: string;
  let maria: PrivateMariaDb;
  let app: TestApp;
  let url: string;
  let setup: Awaited<ReturnType<typeof salesSetup>>;

  const health = async () => (await fetch(`${url}/health`)).status;

  /** Kexin answers /health 200 again: the pool reconnected by itself. */
  const recovered = () => waitUntil(async () => (await health()) === 200, 'Kexin to serve again after the database came back');

  /** Clients of this file: a failed test's teardown stops them. */
  const started: SalesClients[] = [];
  const track = (c: SalesClients) => (started.push(c), c);

  /** The output of the real entry point started on the private server, up to "kexin listening"; stopped with SIGTERM. */
  async function startOutput(): Promise<string> {
    const kexin = new KexinProcess({ NODE_ENV: 'test', DATABASE_URL: maria.url(DATABASE), KEXIN_DATA_KEY: Buffer.alloc(32, 7).toString('base64'), KEXIN_ADMIN_TOKEN: ADMIN_TOKEN, PORT: '0' });
    await kexin.start();
    expect(await kexin.kill('SIGTERM')).toBe(0);
    return kexin.output();
  }

  beforeAll(async () => {
    if (!PrivateMariaDb.available()) throw new Error('mariadbd / mariadb-install-db are not installed: this suite needs them (MariaDB 10.11)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-faults-maria-'));
    maria = new PrivateMariaDb(dir);
    await maria.init(DATABASE);
    const database = { config: { type: 'mysql' as const, url: maria.url(DATABASE), database: DATABASE }, drop: async () => undefined };
    app = await startTestApp({}, database);
    url = await app.url();
    setup = await salesSetup(app);
  }, 120_000);

  afterAll(async () => {
    for (const c of started) await c.abort();
    await app?.close().catch(() => undefined);
    await maria?.destroy();
  });

  it(`loses no acknowledged record, applies no batch in part and recovers without a restart over ${ROUNDS} kill -9 rounds`, async () => {
    const clients = track(new SalesClients({ prefix: 'FLT', clients: CLIENTS, batchSize: BATCH, token: setup.bank.keys.SALES, insurerCode: setup.insurer.code, url: () => url }));
    const down: Array<{ health: number; status: number; code: unknown; leak: boolean }> = [];
    let killedInFlight = 0;
    let killedMidTransaction = 0;
    clients.start();
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        await clients.moreAcknowledged(1);
        // A seeded random point while batches are in flight.
        await sleep(Math.floor(random() * 250));
        if (app.server.inFlight() > 0) killedInFlight += 1;
        const [open] = (await maria.sql('SELECT COUNT(*) AS n FROM information_schema.innodb_trx WHERE trx_mysql_thread_id <> CONNECTION_ID()')) as Array<{ n: number }>;
        if (Number(open!.n) > 0) killedMidTransaction += 1;
        await maria.kill9();

        const probe = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${setup.insurer.keys.ADMIN}` },
          body: JSON.stringify({ query: '{ policies(first: 1) { totalCount } }' }),
        });
        const body = await probe.text();
        down.push({ health: await health(), status: probe.status, code: JSON.parse(body).errors?.[0]?.extensions?.code, leak: LEAK.test(body) });
        // Down for a seeded while: the clients keep retrying against a dead database.
        await sleep(Math.floor(random() * 400));
        await maria.start();
        await recovered();
      }
      await clients.moreAcknowledged(CLIENTS);
    } finally {
      await clients.stop();
    }

    const figures = await checkBook(app.db, setup.insurer.id, clients.batches);
    const chain = await verifyChain(url, setup.insurer.keys.ADMIN, setup.insurer.code);
    const unclean = clients.failures.filter((f) => f.code !== 'INTERNAL_SERVER_ERROR' || LEAK.test(f.body));
    console.log(
      `faults (MariaDB kill -9, seed ${seed}): rounds ${ROUNDS} (${killedInFlight} with requests in flight, ${killedMidTransaction} with an open transaction), batches ${figures.batches}, ` +
        `acknowledged ${figures.batchesAcknowledged} batches / ${figures.recordsAcknowledged} records, lost ${figures.lost}, duplicates ${figures.duplicates}, ` +
        `partial batches ${figures.partial}, applied but unacknowledged ${figures.appliedUnacknowledged}, failed attempts ${clients.failures.length} (unclean ${unclean.length}), ` +
        `chain valid ${chain.valid} (${chain.checked} entries), mariadbd starts ${maria.starts}`,
    );

    expect({ seed, lost: figures.lost, duplicates: figures.duplicates, partial: figures.partial, chain: chain.valid }).toEqual({ seed, lost: 0, duplicates: 0, partial: 0, chain: true });
    expect(figures.batchesAcknowledged).toBe(figures.batches);
    expect(figures.recordsAcknowledged).toBeGreaterThanOrEqual(ROUNDS * BATCH);
    expect(killedInFlight).toBeGreaterThan(0);
    expect(killedMidTransaction).toBeGreaterThan(0);
    // Every failed attempt was a clean INTERNAL_SERVER_ERROR: no SQL, no driver code, no stack.
    expect(clients.failures.length).toBeGreaterThan(0);
    expect(unclean.map((f) => `${f.status} ${f.body.slice(0, 300)}`)).toEqual([]);
    // While the database was down: /health 503 and a clean INTERNAL_SERVER_ERROR, every round.
    expect(down).toEqual(Array(ROUNDS).fill({ health: 503, status: 500, code: 'INTERNAL_SERVER_ERROR', leak: false }));
  }, soakCount(200_000, 600_000));

  it('Kexin warns at start only when not durable; negative control: with innodb_flush_log_at_trx_commit=0 the same checker sees acknowledged records lost after kill -9', async () => {
    expect(await durabilityWarning(app.db)).toBeNull();
    const durableStart = await startOutput();
    expect(durableStart).toMatch(/kexin listening/);
    expect(durableStart).not.toMatch(/not durable/);
    await maria.kill9();
    // No redo log write at commit, and its timed flush pushed far beyond the run.
    await maria.start(['--innodb-flush-log-at-trx-commit=0', '--innodb-flush-log-at-timeout=2700']);
    await recovered();
    expect(await durabilityWarning(app.db)).toMatch(/not durable: innodb_flush_log_at_trx_commit = 0/);
    // `node dist/src/main.js` says so at start, in its log and on stderr.
    const warned = await startOutput();
    expect(warned).toMatch(/"level":40,[^\n]*"msg":"the database is not durable: innodb_flush_log_at_trx_commit = 0/);
    expect(warned).toMatch(/^kexin: WARNING: the database is not durable: innodb_flush_log_at_trx_commit = 0 \(not 1\)/m);

    const control = track(new SalesClients({ prefix: 'CTL', clients: 2, batchSize: 10, token: setup.bank.keys.SALES, insurerCode: setup.insurer.code, url: () => url }));
    control.start();
    try {
      await control.moreAcknowledged(6);
    } finally {
      await control.stop();
    }
    await maria.kill9();
    await maria.start();
    await recovered();

    const figures: BookFigures = await checkBook(app.db, setup.insurer.id, control.batches);
    console.log(
      `faults negative control (innodb_flush_log_at_trx_commit=0, kill -9 right after the acknowledgements): acknowledged ${figures.batchesAcknowledged} batches / ` +
        `${figures.recordsAcknowledged} records, detected lost ${figures.lost} records (${figures.lostKeys.length} batches), partial ${figures.partial}`,
    );
    expect(figures.recordsAcknowledged).toBeGreaterThan(0);
    expect(figures.lost).toBeGreaterThan(0);
    // InnoDB loses a whole tail of transactions, never half of one.
    expect(figures.partial).toBe(0);
  }, 120_000);
});
