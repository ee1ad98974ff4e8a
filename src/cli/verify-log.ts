import 'reflect-metadata';
import fs from 'node:fs';
import { once } from 'node:events';
import { processIo, parseOptions, runCli, runMain, UsageError, type CliContext, type Io } from './cli-support';
import { exportLine } from '../modules/transfer-log/transfer-log.chain';
import { checkpointPayload, type CheckpointClaim } from '../modules/transfer-log/transfer-log.checkpoint';
import type { LogVerificationResult } from '../modules/transfer-log/transfer-log.verifier';

const USAGE = `usage: npm run verify-log -- --insurer CODE [--checkpoint FILE] [--save-checkpoint FILE] [--export FILE.jsonl]

  --insurer CODE          the chain to verify: an insurer's code, or EXCHANGE for the exchange's own chain
  --checkpoint FILE       also prove the chain extends this checkpoint kept earlier (JSON as --save-checkpoint
                          writes it, or as transferLogCheckpoint / createTransferLogCheckpoint answer it):
                          entries deleted from the end show even when the stored checkpoints went with them
  --save-checkpoint FILE  when the chain verifies, sign and store a checkpoint of its head, print it and write
                          it to FILE (keep that file away from the database: it is the receipt)
  --export FILE           also write the chain as JSON lines (one entry per line, canonical JSON incl. seq,
                          prevHash and hash: hash = sha256(prevHash + canonical JSON of the line without
                          prevHash and hash))

Uses DATABASE_URL (and KEXIN_SIGNING_KEY) like the server, on the database the server created (npm start).
KEXIN_DATA_KEY is not needed: no person's data is read. Exit status: 0 valid, 1 invalid, 2 usage or setup error.`;

export interface VerifyLogArgs {
  insurer: string;
  exportFile: string | null;
  /** The checkpoint read from --checkpoint FILE, to verify the chain against. */
  checkpoint: CheckpointClaim | null;
  /** Where --save-checkpoint writes the checkpoint it signs. */
  saveCheckpoint: string | null;
}

const OPTIONS = { '--insurer': 'value', '--export': 'value', '--checkpoint': 'value', '--save-checkpoint': 'value' } as const;

/** Parses the command line (--help is answered before) and reads the --checkpoint file; throws a message for the user on anything unknown, missing or bad. */
export function parseVerifyLogArgs(argv: readonly string[]): VerifyLogArgs {
  const { values: options } = parseOptions(argv, OPTIONS);
  const insurer = options['--insurer']?.trim() ?? '';
  if (!insurer) throw new UsageError('--insurer CODE is required');
  const checkpointFile = options['--checkpoint'] ?? null;
  return {
    insurer,
    exportFile: options['--export'] ?? null,
    checkpoint: checkpointFile === null ? null : readCheckpointFile(checkpointFile),
    saveCheckpoint: options['--save-checkpoint'] ?? null,
  };
}

/**
 * A checkpoint kept in a JSON file: the object itself, or wrapped once or
 * twice under a single key (`{ "checkpoint": … }` as this command prints
 * it, `{ "data": { "transferLogCheckpoint": … } }` as GraphQL answers).
 */
export function readCheckpointFile(file: string): CheckpointClaim {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = (error as { code?: string }).code ?? 'not JSON';
    throw new UsageError(`--checkpoint ${file}: cannot read it (${reason})`);
  }
  for (let depth = 0; depth < 3 && isObject(json) && !('headHash' in json); depth += 1) {
    const values = Object.values(json);
    json = values.length === 1 ? values[0] : null;
  }
  const c = isObject(json) ? json : {};
  const signedAt = typeof c.signedAt === 'string' ? new Date(c.signedAt) : new Date(NaN);
  if (
    typeof c.insurerCode !== 'string' || !Number.isSafeInteger(c.seq) || typeof c.headHash !== 'string' ||
    Number.isNaN(signedAt.getTime()) || typeof c.publicKey !== 'string' || typeof c.signature !== 'string'
  ) {
    throw new UsageError(`--checkpoint ${file}: not a checkpoint (needs insurerCode, seq, headHash, signedAt, publicKey, signature)`);
  }
  return { insurerCode: c.insurerCode, seq: c.seq as number, headHash: c.headHash, signedAt, publicKey: c.publicKey, signature: c.signature };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type { Io };

/**
 * verify-log: the same transfer-log code as verifyTransferLog and
 * createTransferLogCheckpoint, run against the configured database (nothing
 * in the schema is changed). It reads no person's data, so on MySQL it runs
 * without KEXIN_DATA_KEY (the services get a throw-away data key they never
 * use). Returns the exit status.
 */
export async function runVerifyLog(argv: readonly string[], env: Record<string, string | undefined> = process.env, io: Io = processIo): Promise<number> {
  return runCli({ name: 'verify-log', usage: USAGE, parse: parseVerifyLogArgs, needsDataKey: false, work: verify }, argv, env, io);
}

/** Verifies the chain (against --checkpoint when given), then exports it and signs a checkpoint when asked. */
async function verify({ args, config, secrets, services, io }: CliContext<VerifyLogArgs>): Promise<number> {
  const chain = await services.transferLogReader.chainByCode(args.insurer);
  if (!chain) {
    io.err(`verify-log: no insurer (or EXCHANGE) with code ${args.insurer.toUpperCase()}\n`);
    return 2;
  }
  const result = await services.transferLogVerifier.verifyChain(chain, {
    checkpoint: args.checkpoint,
    onProgress: (checked) => io.err(`verify-log: ${checked} entries checked\n`),
  });
  io.out(JSON.stringify({ insurer: chain.code, ...result }, null, 2) + '\n');
  if (!result.valid) io.err(`verify-log: the chain does not verify: ${whyInvalid(result)}\n`);

  if (args.exportFile) {
    const file = fs.createWriteStream(args.exportFile, { encoding: 'utf8' });
    let written = 0;
    await services.transferLogReader.forEachEntry(chain.id, async (row) => {
      if (!file.write(exportLine(row) + '\n')) await once(file, 'drain');
      written += 1;
      if (written % 10_000 === 0) io.err(`verify-log: ${written} entries exported\n`);
    });
    file.end();
    await once(file, 'finish');
    io.err(`verify-log: exported ${written} entries to ${args.exportFile}\n`);
  }

  if (args.saveCheckpoint) {
    if (!result.valid) {
      io.err('verify-log: no checkpoint signed\n');
    } else {
      if (!config.signingKey && !secrets.keyFile) {
        io.err('verify-log: warning: KEXIN_SIGNING_KEY is not set, so this checkpoint is signed with a throw-away key the server does not know\n');
      }
      const row = await services.transferLogCheckpoints.signCheckpoint(chain);
      const claim = {
        insurerCode: row.insurerCode,
        seq: row.seq,
        headHash: row.headHash,
        signedAt: row.signedAt.toISOString(),
        publicKey: row.publicKey,
        signature: row.signature,
        signedPayload: checkpointPayload(row.insurerId, row),
      };
      const text = JSON.stringify({ checkpoint: claim }, null, 2) + '\n';
      fs.writeFileSync(args.saveCheckpoint, text, 'utf8');
      io.out(text);
      io.err(`verify-log: checkpoint of seq ${row.seq} saved to ${args.saveCheckpoint}\n`);
    }
  }
  return result.valid ? 0 : 1;
}

/** One line on why a verification failed, for the operator (the JSON on standard output has the details). */
function whyInvalid(result: LogVerificationResult): string {
  const at = result.firstInvalidSeq === null ? '' : ` at seq ${result.firstInvalidSeq}`;
  switch (result.reason) {
    case 'CHECKPOINT_NOT_EXTENDED':
      return `CHECKPOINT_NOT_EXTENDED${at}: the chain no longer holds the checkpoint's entry ${result.checkpointSeq} with its hash (entries were deleted or rewritten)`;
    case 'CHECKPOINT_SIGNATURE':
      return "CHECKPOINT_SIGNATURE: the checkpoint's signature does not verify (it was altered)";
    case 'CHECKPOINT_KEY':
      return "CHECKPOINT_KEY: the checkpoint was not signed with the exchange's key";
    case 'CHECKPOINT_INSURER':
      return 'CHECKPOINT_INSURER: the checkpoint is of another chain';
    default:
      return `${result.reason}${at}`;
  }
}

if (require.main === module) runMain('verify-log', runVerifyLog);
