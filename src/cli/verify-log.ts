import 'reflect-metadata';
import fs from 'node:fs';
import { once } from 'node:events';
import { processIo, parseOptions, runCli, runMain, type CliContext, type Io } from './cli-support';
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

const OPTIONS = { '--insurer': 'value', '--export': 'value', '--checkpoint': 'flag' } as const;

/** Parses the command line; throws a message for the user on anything unknown or missing. */
export function parseArgs(argv: readonly string[]): VerifyLogArgs | 'help' {
  const options = parseOptions(argv, OPTIONS);
  if (options === 'help') return 'help';
  const args: VerifyLogArgs = { insurer: options['--insurer'] ?? '', exportFile: options['--export'] ?? null, checkpoint: options['--checkpoint'] ?? false };
  if (!args.insurer) throw new Error('--insurer CODE is required');
  return args;
}

export type { Io };

/**
 * verify-log: the same TransferLogService code as verifyTransferLog and
 * createTransferLogCheckpoint, run against the configured database (pending
 * migrations are refused, nothing in the schema is changed). Returns the exit status.
 */
export async function runVerifyLog(argv: readonly string[], env: Record<string, string | undefined> = process.env, io: Io = processIo): Promise<number> {
  return runCli(
    {
      name: 'verify-log',
      usage: USAGE,
      parse: parseArgs,
      beforeOpen: (config) =>
        config.database.type === 'sqlite' && config.database.path !== ':memory:' && !fs.existsSync(config.database.path)
          ? `there is no database at ${config.database.path} (set DATABASE_URL)`
          : null,
      work: verify,
    },
    argv,
    env,
    io,
  );
}

/** Verifies the chain, then exports it and signs a checkpoint when asked. */
async function verify({ args, config, secrets, services, io }: CliContext<VerifyLogArgs>): Promise<number> {
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
}

if (require.main === module) runMain('verify-log', runVerifyLog);
