import 'reflect-metadata';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { SingleBar } from 'cli-progress';
import type { Actor } from '../auth/actor';
import { insertRows } from '../db/bulk';
import { newId } from '../db/ids';
import { todayInChina } from '../domain/dates';
import { normalizeCode } from '../domain/organization-codes';
import { contextForActor } from '../graphql/context';
import { AppError, BadInputError } from '../graphql/errors';
import { rejected, type SalesRecordOutcome } from '../modules/policy/policy-batch';
import { writeOwnBook, type OwnBookOnce } from '../modules/policy/policy-book';
import type { CleanRecord } from '../modules/policy/policy.validation';
import { SalesBatchEntity, storedResponse } from '../modules/sales/sales.entity';
import { BatchChecker, MAX_BATCH_RECORDS, payloadHash, type SalesRecordData } from '../modules/sales/sales.validation';
import { processIo, parseOptions, runCli, runMain, UsageError, type CliContext, type Io } from './cli-support';
import { csvHeader, csvRecord, jsonRecord, type LineResult } from './import-records';

/** How often a plain progress line is written when standard error is not a terminal. */
const PLAIN_EVERY_MS = 5_000;
/** How much of the file's beginning names it, with its size, in the chunks' keys. */
const IDENTITY_PREFIX_BYTES = 1 << 20;

const USAGE = `usage: npm run import -- --insurer CODE (--channel CODE | --own-book) [options] FILE

Loads sales records from FILE (CSV or JSON Lines, one record per line; column mapping and an
example in docs/import.md) through the same service as GraphQL's submitSales, in chunks:
each chunk is one submitSales call (one transfer-log entry) with an idempotency key made from
the file's identity and the chunk's number, so running the same file again (after an
interruption, or twice) writes each chunk exactly once and replays the rest.

  --insurer CODE     the insurer whose book the records go to
  --channel CODE     the selling BROKER or BANK_CHANNEL: the key must be a SALES principal's of it,
                     with an ACTIVE agreement granting SUBMIT_SALES on the insurer
  --own-book         the insurer's own (direct) book instead (the same without --channel): the key
                     must be an ADMIN principal's of the insurer
  --key-file PATH    the API key, read from PATH; default: the environment variable KEXIN_API_KEY
  --format F         csv or jsonl; default: by FILE's extension (.csv; .jsonl, .ndjson)
  --rejects PATH     where the rejected lines go (line, policyNo, reasons); default: FILE.rejects.csv
  --chunk-size N     records per chunk, 1 to ${MAX_BATCH_RECORDS} (default ${MAX_BATCH_RECORDS}); part of the chunks' keys
  --max-chunks N     stop after N chunks (a deliberate interruption; run again without it to go on)

Progress: a bar with records/s and ETA when standard error is a terminal, else a line every
${PLAIN_EVERY_MS / 1000} s. The summary (accepted by verdict, rejected by reason) goes to standard output.
Uses DATABASE_URL and KEXIN_DATA_KEY like the server, on the database the server created.
Exit status: 0 imported (rejected lines included), 1 stopped by an error (the key refused, no
agreement, the database), 2 usage or setup error.`;

const OPTIONS = {
  '--insurer': 'value',
  '--channel': 'value',
  '--own-book': 'flag',
  '--key-file': 'value',
  '--format': 'value',
  '--rejects': 'value',
  '--chunk-size': 'value',
  '--max-chunks': 'value',
} as const;

export type ImportFormat = 'csv' | 'jsonl';

export interface ImportArgs {
  insurer: string;
  /** Null: the insurer's own book. */
  channel: string | null;
  file: string;
  format: ImportFormat;
  rejects: string;
  keyFile: string | null;
  chunkSize: number;
  maxChunks: number | null;
}

/** Parses the command line (--help is answered before); throws a message for the user on anything unknown, missing or bad. */
export function parseImportArgs(argv: readonly string[]): ImportArgs {
  const { values: o, positionals } = parseOptions(argv, OPTIONS, { positionals: 1 });
  const insurer = o['--insurer']?.trim() ?? '';
  if (!insurer) throw new UsageError('--insurer CODE is required');
  const channel = o['--channel']?.trim() ?? null;
  if (channel !== null && o['--own-book']) throw new UsageError('--channel and --own-book exclude each other');
  if (channel === '') throw new UsageError('--channel needs a value');
  const file = positionals[0];
  if (!file) throw new UsageError('say which FILE to import');
  const format = (o['--format']?.trim().toLowerCase() ?? formatOf(file)) as ImportFormat | null;
  if (format === null) throw new UsageError(`cannot tell the format of ${file} by its extension: give --format csv or --format jsonl`);
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError('--format must be csv or jsonl');
  const rejects = o['--rejects'] ?? `${file}.rejects.csv`;
  if (path.resolve(rejects) === path.resolve(file)) throw new UsageError('--rejects must not be the file being imported');
  return {
    insurer,
    channel,
    file,
    format,
    rejects,
    keyFile: o['--key-file'] ?? null,
    chunkSize: count(o['--chunk-size'], '--chunk-size', MAX_BATCH_RECORDS) ?? MAX_BATCH_RECORDS,
    maxChunks: count(o['--max-chunks'], '--max-chunks', Number.MAX_SAFE_INTEGER),
  };
}

function formatOf(file: string): ImportFormat | null {
  const ext = path.extname(file).toLowerCase();
  return ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : null;
}

function count(value: string | undefined, name: string, max: number): number | null {
  if (value === undefined) return null;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > max) throw new UsageError(`${name} must be a whole number from 1 to ${max}`);
  return Number(value);
}

/** import: opens the configured database, imports the file, returns the exit status. */
export async function runImport(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
  io: Io = processIo,
  options: { tty?: boolean; plainEveryMs?: number } = {},
): Promise<number> {
  const tty = options.tty ?? (io === processIo && process.stderr.isTTY === true);
  const display = { tty, plainEveryMs: options.plainEveryMs ?? PLAIN_EVERY_MS };
  return runCli({ name: 'import', usage: USAGE, parse: parseImportArgs, work: (context) => importFile(context, env, display) }, argv, env, io);
}

/** The counts a run prints. */
export interface ImportSummary {
  lines: number;
  sent: number;
  malformed: number;
  accepted: number;
  rejected: number;
  verdicts: Record<string, number>;
  reasons: Record<string, number>;
  chunksWritten: number;
  chunksReplayed: number;
}

/** One line of the current chunk: a record to send, or a line already refused. */
type Pending = { line: number; record: SalesRecordData } | { line: number; policyNo: string; reasons: string[] };

async function importFile({ args, services, io }: CliContext<ImportArgs>, env: Record<string, string | undefined>, display: { tty: boolean; plainEveryMs: number }): Promise<number> {
  const fail = (status: number, message: string) => {
    io.err(`import: ${message}\n`);
    return status;
  };
  let size: number;
  try {
    size = fs.statSync(args.file).size;
  } catch {
    return fail(2, `cannot read ${args.file}`);
  }
  let key: string;
  try {
    key = (args.keyFile !== null ? fs.readFileSync(args.keyFile, 'utf8') : (env.KEXIN_API_KEY ?? '')).trim();
  } catch {
    return fail(2, `cannot read the key file ${args.keyFile}`);
  }
  if (!key) return fail(2, 'no API key: set KEXIN_API_KEY or give --key-file PATH');

  // Authenticated as the HTTP server does (the principal's key hash, revoked keys refused), again before every chunk.
  const authenticate = async (): Promise<Actor> => {
    const actor = await services.principals.authenticate(key);
    if (!actor) throw new AppError('UNAUTHENTICATED', 'the API key is unknown or revoked');
    return actor;
  };
  let actor: Actor;
  try {
    actor = await authenticate();
  } catch (error) {
    return fail(1, describe(error));
  }
  const insurerCode = normalizeCode(args.insurer);
  const expected = args.channel === null ? insurerCode : normalizeCode(args.channel);
  if (actor.organizationCode !== expected) {
    return fail(2, `the API key is a principal's of ${actor.organizationCode}, not of ${args.channel === null ? `the insurer ${insurerCode} (--own-book)` : `the channel ${expected}`}`);
  }

  const identity = fileIdentity(args, size, insurerCode, expected);
  const rejects = fs.openSync(args.rejects, 'w');
  fs.writeSync(rejects, 'line,policyNo,reasons\n');
  const summary: ImportSummary = { lines: 0, sent: 0, malformed: 0, accepted: 0, rejected: 0, verdicts: { COMPLETE: 0, INCOMPLETE: 0, SUSPECT: 0 }, reasons: {}, chunksWritten: 0, chunksReplayed: 0 };
  const started = Date.now();
  const input = fs.createReadStream(args.file);
  const progress = new Progress(io, display, size, started);
  let chunkNo = 0;
  let pending: Pending[] = [];
  let records = 0;
  let stopped: string | null = null;
  let current = '';

  const reject = (line: number, policyNo: string, reasons: string[]) => {
    summary.rejected += 1;
    for (const code of new Set(reasons.map((r) => r.slice(r.lastIndexOf(':') + 1)))) summary.reasons[code] = (summary.reasons[code] ?? 0) + 1;
    fs.writeSync(rejects, `${line},${csvCell(policyNo)},${csvCell(reasons.join(' '))}\n`);
  };

  const flush = async () => {
    const lines = pending;
    pending = [];
    records = 0;
    current = `lines ${lines[0]!.line}-${lines[lines.length - 1]!.line}`;
    const sent = lines.filter((p): p is Extract<Pending, { record: SalesRecordData }> => 'record' in p);
    let outcomes: SalesRecordOutcome[] = [];
    if (sent.length > 0) {
      const idempotencyKey = `import:${identity}:${chunkNo}`;
      actor = await authenticate();
      const ctx = contextForActor(actor, new Date(), { db: services.db, log: services.log });
      const batch = sent.map((p) => p.record);
      let replayed: boolean;
      if (args.channel !== null) {
        const result = await services.sales.submit(ctx, insurerCode, idempotencyKey, batch);
        outcomes = result.results;
        replayed = result.replayed;
      } else {
        ({ outcomes, replayed } = await writeOwnChunk(services, ctx, actor, insurerCode, idempotencyKey, batch));
      }
      chunkNo += 1;
      if (replayed) summary.chunksReplayed += 1;
      else summary.chunksWritten += 1;
      summary.sent += sent.length;
    }
    let at = 0;
    for (const p of lines) {
      if (!('record' in p)) {
        reject(p.line, p.policyNo, p.reasons);
        continue;
      }
      const outcome = outcomes[at++]!;
      if (outcome.accepted) {
        summary.accepted += 1;
        const status = outcome.completeness?.status ?? 'COMPLETE';
        summary.verdicts[status] = (summary.verdicts[status] ?? 0) + 1;
      } else reject(p.line, outcome.policyNo, outcome.errors.map((e) => `${e.field}:${e.code}`));
    }
    progress.update(summary.accepted + summary.rejected, input.bytesRead);
  };

  let status = 0;
  try {
    let header: string[] | null = null;
    const lines = readline.createInterface({ input, crlfDelay: Infinity });
    for await (const text of lines) {
      summary.lines += 1;
      const line = summary.lines;
      if (args.format === 'csv' && header === null) {
        const parsed = csvHeader(text);
        if ('problem' in parsed) {
          status = fail(1, `${args.file}: ${parsed.problem}; nothing imported`);
          break;
        }
        header = parsed.columns;
        continue;
      }
      if (text.trim() === '') continue;
      const result: LineResult = args.format === 'csv' ? csvRecord(header!, text) : jsonRecord(text);
      if (result.ok) {
        pending.push({ line, record: result.record });
        records += 1;
      } else {
        summary.malformed += 1;
        pending.push({ line, policyNo: result.policyNo, reasons: result.reasons.map((r) => (r.field ? `${r.field}:${r.code}` : r.code)) });
      }
      if (records >= args.chunkSize) {
        await flush();
        if (args.maxChunks !== null && chunkNo >= args.maxChunks) {
          stopped = `stopped after ${chunkNo} chunk(s) (--max-chunks): run the same command without it to go on`;
          break;
        }
      }
      if (pending.length >= args.chunkSize * 4) flushRejectsOnly();
    }
    lines.close();
    if (status === 0 && stopped === null && pending.length > 0) await flush();
  } catch (error) {
    status = fail(1, `stopped at chunk ${chunkNo + 1} (${current}; the chunks before it are written, run again to resume): ${describe(error)}`);
  } finally {
    input.destroy();
    progress.stop();
    fs.closeSync(rejects);
  }
  if (stopped) io.err(`import: ${stopped}\n`);
  io.out(renderSummary(args, summary, Date.now() - started, stopped !== null));
  return status;

  /** A run of malformed lines with few records between them: written out so the chunk's memory stays bounded. */
  function flushRejectsOnly() {
    const kept: Pending[] = [];
    for (const p of pending) {
      if ('record' in p) kept.push(p);
      else reject(p.line, p.policyNo, p.reasons);
    }
    pending = kept;
  }
}

/**
 * The part of every chunk key that names the run: SHA-256 of the file's
 * first MiB, its size, the insurer, the channel (or the own book), the
 * format and the chunk size. The same file imported the same way gives the
 * same keys, so a re-run replays its done chunks; a changed file (another
 * size or beginning) is a new import.
 */
function fileIdentity(args: ImportArgs, size: number, insurerCode: string, source: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(args.file, 'r');
  try {
    const prefix = Buffer.alloc(Math.min(size, IDENTITY_PREFIX_BYTES));
    fs.readSync(fd, prefix, 0, prefix.length, 0);
    hash.update(prefix);
  } finally {
    fs.closeSync(fd);
  }
  hash.update(JSON.stringify({ size, insurerCode, source: args.channel === null ? `OWN:${source}` : source, format: args.format, chunkSize: args.chunkSize }));
  return hash.digest('base64url').slice(0, 43);
}

/**
 * A chunk of the insurer's own book: the sales record checks (as
 * submitSales makes them), then `writeOwnBook` made at-most-once by its
 * key with a `sales_batch` row of the insurer, checked and written under
 * the chain lock in the write's transaction.
 */
async function writeOwnChunk(
  services: CliContext<ImportArgs>['services'],
  ctx: ReturnType<typeof contextForActor>,
  actor: Actor,
  insurerCode: string,
  idempotencyKey: string,
  batch: SalesRecordData[],
): Promise<{ outcomes: SalesRecordOutcome[]; replayed: boolean }> {
  const today = todayInChina(ctx.now);
  const hash = payloadHash(insurerCode, batch);
  const outcomes: Array<SalesRecordOutcome | null> = batch.map(() => null);
  const clean: CleanRecord[] = [];
  const at: number[] = [];
  const checker = new BatchChecker(today);
  batch.forEach((input, index) => {
    const check = checker.check(input);
    if (check.ok) {
      clean.push(check.record);
      at.push(index);
    } else outcomes[index] = rejected(check.policyNo, check.errors);
  });
  let replayed = false;
  const once: OwnBookOnce = {
    find: async (em) => {
      const stored = await em.getRepository(SalesBatchEntity).findOneBy({ organizationId: actor.organizationId, idempotencyKey });
      if (!stored) return null;
      if (stored.payloadHash !== hash) throw new BadInputError('This chunk key was used for different records: the file changed since its first import', { field: 'idempotencyKey' });
      replayed = true;
      const response = storedResponse<{ results: SalesRecordOutcome[] }>(stored);
      return response.results;
    },
    store: async (em, batchId, written) => {
      await insertRows(em, SalesBatchEntity, [
        { id: newId(), insurerId: actor.organizationId, organizationId: actor.organizationId, idempotencyKey, payloadHash: hash, response: { batchId, results: written }, createdAt: ctx.now },
      ]);
    },
  };
  const written = await writeOwnBook({ pii: services.pii, log: services.transferLog }, ctx, clean, once);
  written.forEach((outcome, i) => (outcomes[at[i]!] = outcome));
  return { outcomes: outcomes.map((o) => o!), replayed };
}

function describe(error: unknown): string {
  if (error instanceof AppError) return `${error.code}: ${error.message}`;
  return (error as Error).message;
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) || /^[=+\-@]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function renderSummary(args: ImportArgs, s: ImportSummary, elapsedMs: number, partial: boolean): string {
  const seconds = Math.max(elapsedMs, 1) / 1000;
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const rssMb = process.resourceUsage().maxRSS / 1024;
  return [
    `import: ${args.file} (${args.format}) into ${normalizeCode(args.insurer)} ${args.channel === null ? 'own book' : `from ${normalizeCode(args.channel)}`}${partial ? ' (partial)' : ''}`,
    `lines: ${s.lines}, records sent: ${s.sent}, malformed lines: ${s.malformed}`,
    `chunks: ${s.chunksWritten + s.chunksReplayed} (written ${s.chunksWritten}, replayed ${s.chunksReplayed})`,
    `accepted: ${s.accepted} (${list(s.verdicts)})`,
    `rejected: ${s.rejected}${s.rejected > 0 ? ` (${list(s.reasons)})` : ''} -> ${args.rejects}`,
    `time: ${seconds.toFixed(1)} s, ${Math.round((s.accepted + s.rejected) / seconds)} records/s, peak RSS ${rssMb.toFixed(0)} MB`,
    '',
  ].join('\n');
}

/** A cli-progress bar on a terminal (bytes of the file read, records/s, ETA), plain lines every few seconds elsewhere. */
class Progress {
  private readonly bar: SingleBar | null;
  private lastPlain: number;

  constructor(
    private readonly io: Io,
    private readonly display: { tty: boolean; plainEveryMs: number },
    private readonly size: number,
    private readonly started: number,
  ) {
    this.lastPlain = started;
    this.bar = display.tty
      ? new SingleBar({
          format: 'import |{bar}| {percentage}% | {records} records | {rate} records/s | ETA {eta_formatted}',
          stream: process.stderr,
          etaBuffer: 50,
          hideCursor: true,
        })
      : null;
    this.bar?.start(Math.max(size, 1), 0, { records: 0, rate: 0 });
  }

  /** After a chunk: `records` data lines handled so far (sent or refused), `bytes` of the file read. */
  update(records: number, bytes: number): void {
    const now = Date.now();
    const rate = Math.round(records / Math.max((now - this.started) / 1000, 0.001));
    if (this.bar) {
      this.bar.update(Math.min(bytes, this.size), { records, rate });
      return;
    }
    if (now - this.lastPlain < this.display.plainEveryMs) return;
    this.lastPlain = now;
    const done = this.size > 0 ? Math.min(bytes / this.size, 1) : 1;
    const eta = done > 0 ? Math.round(((now - this.started) / 1000) * (1 / done - 1)) : 0;
    this.io.err(`import: ${records} records, ${(done * 100).toFixed(1)}%, ${rate} records/s, ETA ${eta} s\n`);
  }

  stop(): void {
    this.bar?.stop();
  }
}

if (require.main === module) runMain('import', runImport);
