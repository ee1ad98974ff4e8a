import 'reflect-metadata';
import { processIo, parseOptions, runCli, runMain, UsageError, type CliContext, type Io } from './cli-support';
import { checkDataKey, DataKeyMismatchError, IndexKeyMismatchError } from '../db/key-registry';
import { rotateKeys, type RotationResult } from '../db/key-rotation';
import { PiiCipher, PiiDecryptError } from '../modules/person/pii';

const USAGE = `usage: npm run rotate-key -- [--from-key-env NAME] [--batch-size N] [--max-batches N]

Re-encrypts every stored ID number and phone (people, sales persons, the sealed values of corrections)
under KEXIN_DATA_KEY, the new key, while the server keeps serving. Before: restart every server with
KEXIN_DATA_KEY=<new key> and KEXIN_DATA_KEY_PREVIOUS=<old key> (both decrypt during the rotation, new
values are sealed with the new key). After it finished: remove KEXIN_DATA_KEY_PREVIOUS; a start with
only the old key is refused from then on. The blind indexes do not change (the database keeps its index
key sealed under the new key), so lookups, matching and the transfer log are unaffected.

  --from-key-env NAME  the environment variable holding the old key(s), base64, comma-separated
                       (default KEXIN_DATA_KEY_PREVIOUS)
  --batch-size N       rows per batch, each batch one transaction (default 1000, 1 to 100000)
  --max-batches N      stop after N batches (run it again to go on)

Resumable: a killed or stopped run is simply started again; values already under the new key are
skipped, none is encrypted twice. SIGINT/SIGTERM stop after the batch in progress. Progress on standard
error, a JSON summary on standard output. Uses DATABASE_URL like the server, on the database the server
created. Exit status: 0 finished, 1 failed, 2 usage or setup error, 3 stopped before the end (run again).`;

export interface RotateKeyArgs {
  fromKeyEnv: string;
  batchSize: number;
  maxBatches: number | null;
}

const OPTIONS = { '--from-key-env': 'value', '--batch-size': 'value', '--max-batches': 'value' } as const;
const DEFAULT_FROM_ENV = 'KEXIN_DATA_KEY_PREVIOUS';

function wholeNumber(name: string, value: string | undefined, min: number, max: number): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

/** Parses the command line (--help is answered before); throws a message for the user on anything unknown, missing or bad. */
export function parseRotateKeyArgs(argv: readonly string[]): RotateKeyArgs {
  const { values } = parseOptions(argv, OPTIONS);
  const fromKeyEnv = values['--from-key-env'] ?? DEFAULT_FROM_ENV;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(fromKeyEnv)) throw new UsageError(`--from-key-env must name an environment variable, got ${JSON.stringify(fromKeyEnv)}`);
  return {
    fromKeyEnv,
    batchSize: wholeNumber('--batch-size', values['--batch-size'], 1, 100_000) ?? 1000,
    maxBatches: wholeNumber('--max-batches', values['--max-batches'], 1, Number.MAX_SAFE_INTEGER),
  };
}

/**
 * rotate-key: re-seals the stored personal data under KEXIN_DATA_KEY
 * ({@link rotateKeys}), reading the old key(s) from --from-key-env
 * (KEXIN_DATA_KEY_PREVIOUS by default). Returns the exit status.
 */
export async function runRotateKey(argv: readonly string[], env: Record<string, string | undefined> = process.env, io: Io = processIo): Promise<number> {
  let fromEnv = DEFAULT_FROM_ENV;
  try {
    fromEnv = parseRotateKeyArgs(argv).fromKeyEnv;
  } catch {
    // runCli reports it
  }
  // The old keys go through the configuration's own check of KEXIN_DATA_KEY_PREVIOUS, whichever variable holds them.
  const configured = { ...env, KEXIN_DATA_KEY_PREVIOUS: env[fromEnv] };
  return runCli({ name: 'rotate-key', usage: USAGE, parse: parseRotateKeyArgs, work: rotate }, argv, configured, io);
}

async function rotate({ args, config, services, io }: CliContext<RotateKeyArgs>): Promise<number> {
  const fail = (message: string) => {
    io.err(`rotate-key: ${message}\n`);
    return 2;
  };
  if (!config.dataKey) return fail('KEXIN_DATA_KEY must hold the new key (32 bytes, base64: `openssl rand -base64 32`)');
  if (config.previousDataKeys.length === 0) return fail(`${args.fromKeyEnv} must hold the old key(s) (base64, comma-separated)`);
  const pii = new PiiCipher(config.dataKey, config.previousDataKeys);
  const from = new Set(config.previousDataKeys.map((k) => new PiiCipher(k).keyId));
  if (from.has(pii.keyId)) return fail(`the new key (KEXIN_DATA_KEY) is also an old key in ${args.fromKeyEnv}`);
  try {
    // The same check as a start with these keys: every recorded key must open, the new one is recorded, the index key unwrapped and wrapped under it.
    await checkDataKey(services.db, pii);
  } catch (error) {
    if (error instanceof DataKeyMismatchError || error instanceof IndexKeyMismatchError) return fail(error.message);
    throw error;
  }

  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  let result: RotationResult;
  try {
    result = await rotateKeys(services.db, pii, {
      batchSize: args.batchSize,
      maxBatches: args.maxBatches,
      shouldStop: () => stop,
      onBatch: (p) => {
        const seconds = Math.max((Date.now() - started) / 1000, 0.001);
        const pct = p.total === 0 ? 100 : Math.min(100, Math.floor((p.done / p.total) * 100));
        io.err(`rotate-key: ${p.target} batch ${p.batches}: ${p.done}/${p.total} values (${pct}%), ${Math.round(p.done / seconds)} values/s\n`);
      },
    });
  } catch (error) {
    if (!(error instanceof PiiDecryptError)) throw error;
    io.err(`rotate-key: failed: a stored value ${error.message.replace(/^personal data /, '')} (a key id none of the given keys has?); nothing after the last committed batch changed\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const seconds = (Date.now() - started) / 1000;
  io.out(JSON.stringify({ keyId: pii.keyId, ...result, seconds: Math.round(seconds * 10) / 10 }, null, 2) + '\n');
  if (result.finished) {
    const retired = result.retired.length ? `; retired key id ${result.retired.join(', ')}: remove ${args.fromKeyEnv} from the servers' settings` : '';
    io.err(`rotate-key: done: ${result.resealed} values re-encrypted under key id ${pii.keyId} in ${seconds.toFixed(1)} s${retired}\n`);
    return 0;
  }
  io.err(`rotate-key: stopped with ${result.remaining} values still under an old key (${result.resealed} re-encrypted in this run): run it again to go on\n`);
  return 3;
}

if (require.main === module) runMain('rotate-key', runRotateKey);
