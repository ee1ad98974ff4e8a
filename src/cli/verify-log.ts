import 'reflect-metadata';
import fs from 'node:fs';
import { once } from 'node:events';
import { ConfigError, loadConfig, type Config } from '../config';
import { createServices } from '../container';
import { openDatabase } from '../db/data-source';
import { resolveSecrets } from '../db/secrets';
import { createLogger } from '../logger';
import { exportLine } from '../modules/transfer-log/transfer-log.chain';
import { checkpointPayload } from '../modules/transfer-log/transfer-log.checkpoint';

const USAGE = `usage: npm run verify-log -- --insurer CODE [--export FILE.jsonl] [--checkpoint]

  --insurer CODE   the chain to verify: an insurer's code, or EXCHANGE for the exchange's own chain
  --export FILE    also write the chain as JSON lines (one entry per line, canonical JSON incl. seq,
                   prevHash and hash: hash = sha256(prevHash + canonical JSON of the line without
                   prevHash and hash))
  --checkpoint     when the chain verifies, sign and store a checkpoint of its head and print it

Uses DATABASE_URL (and KEXIN_SIGNING_KEY) like the server. Exit status: 0 valid, 1 invalid, 2 usage or setup error.`;

export interface VerifyLogArgs {
  insurer: string;
  exportFile: string | null;
  checkpoint: boolean;
}

/** Parses the command line; throws a message for the user on anything unknown or missing. */
export function parseArgs(argv: readonly string[]): VerifyLogArgs | 'help' {
  const args: VerifyLogArgs = { insurer: '', exportFile: null, checkpoint: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${name} needs a value`);
      return v;
    };
    if (name === '--help' || name === '-h') return 'help';
    else if (name === '--insurer') args.insurer = value();
    else if (name === '--export') args.exportFile = value();
    else if (name === '--checkpoint') args.checkpoint = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!args.insurer) throw new Error('--insurer CODE is required');
  return args;
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/**
 * verify-log: the same TransferLogService code as verifyTransferLog and
 * createTransferLogCheckpoint, run against the configured database (pending
 * migrations are refused, nothing in the schema is changed). Returns the exit status.
 */
export async function runVerifyLog(argv: readonly string[], env: Record<string, string | undefined> = process.env, io: Io = processIo): Promise<number> {
  let args: VerifyLogArgs | 'help';
  let config: Config;
  try {
    args = parseArgs(argv);
    if (args === 'help') {
      io.out(USAGE + '\n');
      return 0;
    }
    config = loadConfig(env);
  } catch (error) {
    io.err(`verify-log: ${(error as Error).message}\n${error instanceof ConfigError ? '' : USAGE + '\n'}`);
    return 2;
  }
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const secrets = resolveSecrets(config);
  if (config.database.type === 'sqlite' && config.database.path !== ':memory:' && !fs.existsSync(config.database.path)) {
    io.err(`verify-log: there is no database at ${config.database.path} (set DATABASE_URL)\n`);
    return 2;
  }
  let db: Awaited<ReturnType<typeof openDatabase>>;
  try {
    // Never changes the schema: a database with pending migrations is refused (start the server once to apply them).
    db = await openDatabase(config.database, { migrate: false });
  } catch (error) {
    io.err(`verify-log: cannot open the database: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const services = createServices(db, config, log, secrets);
    const chain = await services.transferLog.chainByCode(args.insurer);
    if (!chain) {
      io.err(`verify-log: no insurer (or EXCHANGE) with code ${args.insurer.trim().toUpperCase()}\n`);
      return 2;
    }
    const result = await services.transferLog.verifyChain(chain, { onProgress: (checked) => io.err(`verify-log: ${checked} entries checked\n`) });
    io.out(JSON.stringify({ insurer: chain.code, ...result }, null, 2) + '\n');

    if (args.exportFile) {
      const file = fs.createWriteStream(args.exportFile, { encoding: 'utf8' });
      let written = 0;
      await services.transferLog.forEachEntry(chain.id, async (row) => {
        if (!file.write(exportLine(row) + '\n')) await once(file, 'drain');
        written += 1;
        if (written % 10_000 === 0) io.err(`verify-log: ${written} entries exported\n`);
      });
      file.end();
      await once(file, 'finish');
      io.err(`verify-log: exported ${written} entries to ${args.exportFile}\n`);
    }

    if (args.checkpoint) {
      if (!result.valid) {
        io.err('verify-log: the chain does not verify: no checkpoint signed\n');
      } else {
        if (!config.signingKey && !secrets.keyFile) {
          io.err('verify-log: warning: KEXIN_SIGNING_KEY is not set, so this checkpoint is signed with a throw-away key the server does not know\n');
        }
        const row = await services.transferLog.signCheckpoint(chain);
        io.out(
          JSON.stringify(
            {
              checkpoint: {
                insurerCode: row.insurerCode,
                seq: row.seq,
                headHash: row.headHash,
                signedAt: row.signedAt.toISOString(),
                publicKey: row.publicKey,
                signature: row.signature,
                signedPayload: checkpointPayload(row.insurerId, row),
              },
            },
            null,
            2,
          ) + '\n',
        );
      }
    }
    return result.valid ? 0 : 1;
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  runVerifyLog(process.argv.slice(2)).then(
    (status) => process.exit(status),
    (error: unknown) => {
      process.stderr.write(`verify-log failed: ${(error as Error).message}\n`);
      process.exit(2);
    },
  );
}
