import 'reflect-metadata';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { ConfigError, loadConfig, type Config } from './config';
import { openDatabase } from './db/data-source';
import { bootstrap } from './db/bootstrap';
import { durabilityWarning } from './db/durability';
import { checkDataKey, DataKeyMismatchError, IndexKeyMismatchError } from './db/key-registry';
import { resolveSecrets, type Secrets } from './db/secrets';
import { seedDemo, type DemoKey } from './cli/demo-seed';
import { appendIssuedKeys, issuedKeysFileProblem, showOnTerminal } from './issued-keys';
import { createLogger, type Logger } from './logger';
import { createServer, type KexinServer } from './server';
import { startCheckpointScheduler } from './modules/transfer-log/transfer-log.scheduler';

/** What has been started so far, so that a signal at any point of the start stops exactly that. */
interface Running {
  stopping: boolean;
  db: DataSource | null;
  server: KexinServer | null;
  stopCheckpoints: (() => Promise<void>) | null;
}

/** Time beyond the grace period for the scheduler and the database to close before the process gives up. */
const CLOSE_MARGIN_MS = 10_000;

/**
 * Entry: loadConfig → signal handlers → openDatabase (migrations) → check the
 * data key → createServer → listen → bootstrap (+ demo, printed) → scheduler.
 * Everything that can refuse the start runs before listening; what must be
 * printed once is created only after it (issue 8, item 10).
 */
async function main(): Promise<void> {
  const config = configOrExit();
  const log = createLogger(config.logLevel);
  const running: Running = { stopping: false, db: null, server: null, stopCheckpoints: null };
  let startup: Promise<void> = Promise.resolve();
  // Installed before anything starts: a SIGTERM during the start waits for it, then stops what it started.
  const onSignal = (signal: NodeJS.Signals) => void shutdown(signal, config, log, running, startup);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  startup = start(config, log, running);
  try {
    await startup;
  } catch (error) {
    if (running.stopping) return; // shutdown() reports and exits
    process.stderr.write(`kexin: failed to start: ${describe(error)}\n`);
    process.exit(1);
  }
}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`kexin: configuration error:\n  ${error.message.split('\n').join('\n  ')}\n`);
    process.exit(2);
  }
}

async function start(config: Config, log: Logger, running: Running): Promise<void> {
  const secrets = resolveSecrets(config);
  warnWithoutSigningKey(config, secrets, log);
  // A start that may issue a secret (a generated admin token, demo keys) checks first that it can keep it.
  const mayIssue = !config.adminToken || (config.demo ?? (config.database.type === 'sqlite' && config.database.isDefault));
  const keysFileProblem = mayIssue ? issuedKeysFileProblem(config.issuedKeysFile) : null;
  if (keysFileProblem) fail(`cannot keep issued keys: ${keysFileProblem}`);
  const db = await openDatabase(config.database, { migrate: config.migrate }).catch((error: unknown) => {
    log.fatal({ err: redact(error) }, 'cannot open the database');
    return fail(`cannot open the database: ${describe(error)}`);
  });
  running.db = db;
  await warnIfNotDurable(db, log);
  const server = await createServer({ config, db, log, secrets });
  running.server = server;
  await checkDataKey(db, server.services.pii).catch((error: unknown) => {
    if (error instanceof DataKeyMismatchError || error instanceof IndexKeyMismatchError) return fail(error.message);
    throw error;
  });
  if (running.stopping) return;
  const port = await server.listen(config.port).catch((error: unknown) => {
    if ((error as { code?: string }).code === 'EADDRINUSE') return fail(`port ${config.port} is already in use: stop the other server or set PORT`);
    throw error;
  });
  const metricsPort = await server.listenMetrics().catch((error: unknown) => {
    if ((error as { code?: string }).code === 'EADDRINUSE') return fail(`KEXIN_METRICS_PORT ${config.metrics.port} is already in use: stop the other server or choose another port`);
    throw error;
  });

  const { generatedToken, created } = await bootstrap(server.services, config.adminToken);
  if (generatedToken) issue(config, log, 'bootstrap admin token (EXCHANGE ADMIN), issued once', [`KEXIN_ADMIN_TOKEN=${generatedToken}`], { adminToken: true });
  const demo = config.demo ?? (created && config.database.type === 'sqlite' && config.database.isDefault);
  const demoKeys = demo ? await seedDemo(server.services, { onKeys: (keys) => issue(config, log, "demo principals' keys, issued once", demoKeyLines(port, keys), { demoKeys: keys.length }) }) : null;
  if (demo && !demoKeys) log.info({ file: path.resolve(config.issuedKeysFile) }, 'demo data is already present: its keys were written to the issued-keys file when it was created');
  if (running.stopping) return;
  // Signed checkpoints of every chain that moved, at start and hourly (issue 3, item 5).
  running.stopCheckpoints = startCheckpointScheduler(server.services.transferLogCheckpoints, log);
  log.info({ port, metricsPort, metricsToken: config.metrics.token !== null, database: config.database.type, keyFile: secrets.keyFile, shutdownGraceMs: config.shutdownGraceMs }, 'kexin listening');
}

/**
 * SIGTERM/SIGINT (issue 8, item 8): stop accepting, answer every accepted
 * request within the grace period, then stop the checkpoint scheduler and
 * close the database, in that order, so no handler runs against a closed
 * database. Exits 0 when everything accepted was answered, 1 otherwise.
 */
async function shutdown(signal: NodeJS.Signals, config: Config, log: Logger, running: Running, startup: Promise<void>): Promise<void> {
  if (running.stopping) return;
  running.stopping = true;
  log.info({ signal, inFlight: running.server?.inFlight() ?? 0, graceMs: config.shutdownGraceMs }, 'shutting down: no new connections, finishing requests in flight');
  setTimeout(() => {
    log.error('shutdown did not finish in time: exiting anyway');
    process.exit(1);
  }, config.shutdownGraceMs + CLOSE_MARGIN_MS).unref();
  let code = 0;
  try {
    await startup.catch(() => undefined);
    const result = await running.server?.stop(config.shutdownGraceMs);
    if (result && !result.drained) {
      log.error({ unfinished: result.unfinished, graceMs: config.shutdownGraceMs }, 'grace period over: requests still in flight were cut');
      code = 1;
    }
    await running.stopCheckpoints?.();
    if (running.db?.isInitialized) await running.db.destroy();
    log.info({ signal }, 'kexin stopped');
  } catch (error) {
    log.error({ err: redact(error) }, 'shutdown failed');
    code = 1;
  }
  process.exit(code);
}

/** Checkpoints are only as trustworthy as their key: say loudly when it is not one the operator keeps. */
function warnWithoutSigningKey(config: Config, secrets: Secrets, log: Logger): void {
  if (!config.production || config.signingKey) return;
  const where = secrets.keyFile ? `kept in ${secrets.keyFile} beside the database` : 'generated for this process only';
  const message = `KEXIN_SIGNING_KEY is not set: transfer-log checkpoints are signed with a key ${where}. Set it (openssl genpkey -algorithm ed25519) so receipts are signed by a key kept outside the database.`;
  log.warn(message);
  process.stderr.write(`kexin: WARNING: ${message}\n`);
}

/** An acknowledged batch must survive a crash of the database: say loudly at start when its settings do not promise that. */
async function warnIfNotDurable(db: DataSource, log: Logger): Promise<void> {
  const message = await durabilityWarning(db);
  if (!message) return;
  log.warn(message);
  process.stderr.write(`kexin: WARNING: ${message}\n`);
}

/**
 * A secret issued at this start (issue 12, item 2): appended to the
 * issued-keys file (mode 0600), shown on the terminal only when stdout is
 * one, outside production; the log line names the file, never a key.
 */
function issue(config: Config, log: Logger, heading: string, lines: string[], what: Record<string, unknown>): void {
  let file: string;
  try {
    file = appendIssuedKeys(config.issuedKeysFile, heading, lines);
  } catch (error) {
    log.fatal({ err: redact(error), file: path.resolve(config.issuedKeysFile) }, 'cannot write the issued-keys file');
    if (showOnTerminal(config.production)) print([`Issued (${heading}); NOT written to ${config.issuedKeysFile}:`, ...lines]);
    return fail(`cannot write ${path.resolve(config.issuedKeysFile)} (${describe(error)}); the ${heading} is lost: set KEXIN_ADMIN_TOKEN to replace an admin token, re-create the demo database for demo keys`);
  }
  log.info({ file, mode: '0600', ...what }, 'issued keys written to the issued-keys file (never to the log)');
  if (showOnTerminal(config.production)) print([`${heading[0]!.toUpperCase()}${heading.slice(1)}; kept in ${file} (mode 0600):`, ...lines]);
}

function demoKeyLines(port: number, demoKeys: DemoKey[]): string[] {
  const lines: string[] = [];
  for (const k of demoKeys) lines.push(`  ${k.organization.padEnd(15)} ${k.principal.padEnd(24)} ${k.roles.join(',').padEnd(12)} ${k.apiKey}`);
  const sample = demoKeys.find((k) => k.organization === 'DEMO_BANK' && k.roles.includes('SALES')) ?? demoKeys[0]!;
  lines.push(
    '# Try:',
    `#  curl -s http://localhost:${port}/graphql -H 'content-type: application/json' \\`,
    `#    -H 'authorization: Bearer ${sample.apiKey}' \\`,
    `#    -d '{"query":"{ me { name roles organization { code kind } } }"}'`,
  );
  return lines;
}

function print(lines: string[]): void {
  process.stdout.write(['', ...lines].join('\n') + '\n\n');
}

/** A refusal to start: one clear line on stderr, exit 1. */
function fail(message: string): never {
  process.stderr.write(`kexin: ${message}\n`);
  process.exit(1);
}

/** Driver errors can carry SQL and values: log only their code and message. */
function redact(error: unknown): unknown {
  const e = error as { code?: string; errno?: number; message?: string };
  return { code: e?.code, errno: e?.errno, message: e?.message };
}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return [e?.code, e?.message].filter(Boolean).join(': ') || String(error);
}

void main().catch((error: unknown) => {
  process.stderr.write(`kexin: failed to start: ${describe(error)}\n`);
  process.exit(1);
});
