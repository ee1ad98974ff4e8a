import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config';
import { createDataSource } from '../../src/db/data-source';
import { durabilityWarning } from '../../src/db/durability';
import { ADMIN_TOKEN, startTestApp } from '../support/app';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../support/db';
import { checkBook, faultSeed, freePort, KexinProcess, LEAK, SalesClients, sleep, verifyChain } from '../support/faults';
import { salesSetup } from '../support/sales';
import { soakCount } from '../support/soak';
import { seededRandom } from '../support/random';

/**
 * Issue 11, item 4 (the server process): Kexin runs as its own process
 * (`node dist/src/main.js`) on a database file (SQLite) or this run's MySQL
 * database, and is killed with SIGKILL at seeded random points while four
 * clients push sales batches and retry each with its idempotency key until
 * acknowledged; then started again on the same database and port.
 */
const ROUNDS = soakCount(3, 20);
const CLIENTS = 4;
const BATCH = 20;
const DATA_KEY = Buffer.alloc(32, 7).toString('base64');

describe(`SIGKILL of the Kexin process during concurrent submitSales (${TEST_DB})`, () => {
  const seed = faultSeed();
  const random = seededRandom(seed);
  let dir: string;
  let database: TestDatabase | null = null;
  let databaseUrl: string;
  let kexin: KexinProcess;
  let port: number;
  let setup: Awaited<ReturnType<typeof salesSetup>>;
  /** Clients of this file: a failed test's teardown stops them. */
  const started: SalesClients[] = [];
  const url = () => `http://127.0.0.1:${port}`;

  /** A connection of the test's own to the database the server uses. */
  async function openBook(): Promise<DataSource> {
    const db = await createDataSource(loadConfig({ NODE_ENV: 'test', DATABASE_URL: databaseUrl, KEXIN_DATA_KEY: DATA_KEY }).database);
    return db.initialize();
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-faults-proc-'));
    if (TEST_DB === 'mysql') {
      database = await createTestDatabase();
      databaseUrl = (database.config as { url: string }).url;
    } else {
      databaseUrl = `sqlite:${path.join(dir, 'kexin.sqlite')}`;
    }
    // The parties through the API of an in-process app on the same database, which is then closed.
    const app = await startTestApp({ DATABASE_URL: databaseUrl }, database ? { config: database.config, drop: async () => undefined } : undefined);
    try {
      setup = await salesSetup(app);
    } finally {
      await app.close();
    }
    port = await freePort();
    kexin = new KexinProcess({ NODE_ENV: 'test', DATABASE_URL: databaseUrl, KEXIN_DATA_KEY: DATA_KEY, KEXIN_ADMIN_TOKEN: ADMIN_TOKEN, PORT: String(port) });
    await kexin.start();
  }, 120_000);

  afterAll(async () => {
    for (const c of started) await c.abort();
    await kexin?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
    await database?.drop();
  });

  it(`loses no acknowledged record and applies no batch in part over ${ROUNDS} kills and restarts; the checker sees a batch removed behind Kexin's back`, async () => {
    const clients = new SalesClients({ prefix: 'PRC', clients: CLIENTS, batchSize: BATCH, token: setup.bank.keys.SALES, insurerCode: setup.insurer.code, url });
    started.push(clients);
    clients.start();
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        await clients.moreAcknowledged(1);
        // A seeded random point: the clients always have batches in flight.
        await sleep(Math.floor(random() * 250));
        expect(await kexin.kill('SIGKILL')).toBeNull(); // killed by the signal, no exit code
        await sleep(Math.floor(random() * 200));
        await kexin.start();
      }
      await clients.moreAcknowledged(CLIENTS);
    } finally {
      await clients.stop();
    }
    const chain = await verifyChain(url(), setup.insurer.keys.ADMIN, setup.insurer.code);
    await kexin.kill('SIGKILL');

    const db = await openBook();
    try {
      const figures = await checkBook(db, setup.insurer.id, clients.batches);
      const answered = clients.failures.filter((f) => !f.code.startsWith('NETWORK:'));
      const unclean = answered.filter((f) => f.code !== 'INTERNAL_SERVER_ERROR' || LEAK.test(f.body));
      const sqlite = TEST_DB === 'sqlite' ? await sqliteSettings(db) : null;
      console.log(
        `faults (Kexin SIGKILL, ${TEST_DB}, seed ${seed}): rounds ${ROUNDS}, kexin starts ${kexin.starts}, batches ${figures.batches}, ` +
          `acknowledged ${figures.batchesAcknowledged} batches / ${figures.recordsAcknowledged} records, lost ${figures.lost}, duplicates ${figures.duplicates}, ` +
          `partial batches ${figures.partial}, applied but unacknowledged ${figures.appliedUnacknowledged}, attempts cut ${clients.failures.length - answered.length}, ` +
          `answered with an error ${answered.length} (unclean ${unclean.length}), chain valid ${chain.valid} (${chain.checked} entries)` +
          (sqlite ? `, sqlite journal_mode ${sqlite.journal} synchronous ${sqlite.synchronous}` : ''),
      );
      expect({ seed, lost: figures.lost, duplicates: figures.duplicates, partial: figures.partial, chain: chain.valid }).toEqual({ seed, lost: 0, duplicates: 0, partial: 0, chain: true });
      expect(figures.batchesAcknowledged).toBe(figures.batches);
      expect(figures.recordsAcknowledged).toBeGreaterThanOrEqual(ROUNDS * BATCH);
      // The kills cut requests in flight; whatever the server did answer with an error was clean.
      expect(clients.failures.length - answered.length).toBeGreaterThan(0);
      expect(unclean.map((f) => `${f.status} ${f.body.slice(0, 300)}`)).toEqual([]);
      // WAL with synchronous FULL (2, set by the data source; WAL's default NORMAL would keep commits through this
      // kill of the process but could lose the last acknowledged ones on a power loss).
      if (sqlite) expect(sqlite).toEqual({ journal: 'wal', synchronous: 2 });
      if (sqlite) expect(await durabilityWarning(db)).toBeNull();

      // Negative control: the rows of one acknowledged batch removed behind Kexin's back are seen as lost.
      const victim = clients.acknowledged()[Math.floor(random() * figures.batchesAcknowledged)]!;
      await removeBehindKexinsBack(db, setup.insurer.id, victim.policyNos);
      const control = await checkBook(db, setup.insurer.id, clients.batches);
      console.log(`faults negative control (${TEST_DB}): removed batch ${victim.key}; detected lost ${control.lost} records (${control.lostKeys.join(', ')}), partial ${control.partial}`);
      expect({ lost: control.lost, lostKeys: control.lostKeys, partial: control.partial }).toEqual({ lost: BATCH, lostKeys: [victim.key], partial: 1 });
    } finally {
      await db.destroy();
    }
  }, soakCount(80_000, 400_000));
});

/** What the server's connections run with: the WAL and the synchronous FULL the data source turns on. */
async function sqliteSettings(db: DataSource): Promise<{ journal: string; synchronous: number }> {
  const [journal] = (await db.query('PRAGMA journal_mode')) as Array<{ journal_mode: string }>;
  const [sync] = (await db.query('PRAGMA synchronous')) as Array<{ synchronous: number }>;
  return { journal: journal!.journal_mode, synchronous: Number(sync!.synchronous) };
}

/** Deletes the policies (only those rows) as a database that forgot them would; foreign keys off on this one connection. */
async function removeBehindKexinsBack(db: DataSource, insurerId: string, policyNos: string[]): Promise<void> {
  const runner = db.createQueryRunner();
  try {
    await runner.query(TEST_DB === 'mysql' ? 'SET FOREIGN_KEY_CHECKS = 0' : 'PRAGMA foreign_keys = OFF');
    await runner.query(`DELETE FROM policy WHERE insurer_id = ? AND policy_no IN (${policyNos.map(() => '?').join(', ')})`, [insurerId, ...policyNos]);
    await runner.query(TEST_DB === 'mysql' ? 'SET FOREIGN_KEY_CHECKS = 1' : 'PRAGMA foreign_keys = ON');
  } finally {
    await runner.release();
  }
}
