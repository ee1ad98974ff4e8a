import 'reflect-metadata';
import fs from 'node:fs';
import { ConfigError, loadConfig, type Config } from './config';
import { openDatabase } from './db/data-source';
import { bootstrap } from './db/bootstrap';
import { resolveSecrets } from './db/secrets';
import { seedDemo, type DemoKey } from './cli/demo-seed';
import { createLogger } from './logger';
import { createServer } from './server';
import { startCheckpointScheduler } from './modules/transfer-log/transfer-log.scheduler';

/** Entry: loadConfig → openDatabase (migrations) → bootstrap (+ demo) → createServer → listen. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`kexin: configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  const fresh = config.database.type === 'sqlite' && config.database.path !== ':memory:' && !fs.existsSync(config.database.path);
  const secrets = resolveSecrets(config);
  const db = await openDatabase(config.database, { migrate: config.migrate }).catch((error: unknown) => {
    log.fatal({ err: redact(error) }, 'cannot open the database');
    process.stderr.write(`kexin: cannot open the database: ${describe(error)}\n`);
    process.exit(1);
  });
  const server = await createServer({ config, db, log, secrets });
  const { generatedToken } = await bootstrap(server.services, config.adminToken);
  const demo = config.demo ?? (fresh && config.database.type === 'sqlite' && config.database.isDefault);
  const demoKeys = demo ? await seedDemo(server.services) : null;
  const port = await server.listen(config.port);
  // Signed checkpoints of every chain that moved, at start and hourly (issue 3, item 5).
  const stopCheckpoints = startCheckpointScheduler(server.services, log);
  log.info({ port, database: config.database.type, keyFile: secrets.keyFile }, 'kexin listening');
  printWelcome(port, generatedToken, demoKeys, demo && !demoKeys);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing requests in flight');
    const timer = setTimeout(() => {
      log.error('shutdown did not finish within 15 s: exiting anyway');
      process.exit(1);
    }, 15_000).unref();
    try {
      await stopCheckpoints();
      await server.stop();
      await db.destroy();
    } finally {
      clearTimeout(timer);
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

function printWelcome(port: number, adminToken: string | null, demoKeys: DemoKey[] | null, demoAlreadyThere: boolean): void {
  const lines: string[] = [];
  if (adminToken) {
    lines.push('', 'Bootstrap admin token (EXCHANGE ADMIN). It is shown ONCE; keep it:', `  ${adminToken}`);
  }
  if (demoKeys) {
    lines.push('', 'Demo principals (keys shown ONCE):');
    for (const k of demoKeys) lines.push(`  ${k.organization.padEnd(15)} ${k.principal.padEnd(24)} ${k.roles.join(',').padEnd(12)} ${k.apiKey}`);
    const sample = demoKeys.find((k) => k.organization === 'DEMO_BANK' && k.roles.includes('SALES')) ?? demoKeys[0]!;
    lines.push(
      '',
      'Try:',
      `  curl -s http://localhost:${port}/graphql -H 'content-type: application/json' \\`,
      `    -H 'authorization: Bearer ${sample.apiKey}' \\`,
      `    -d '{"query":"{ me { name roles organization { code kind } } }"}'`,
    );
  } else if (demoAlreadyThere) {
    lines.push('', 'Demo data is already present; its keys were printed when it was created.');
  }
  if (lines.length) process.stdout.write(lines.join('\n') + '\n\n');
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
