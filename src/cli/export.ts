import 'reflect-metadata';
import fs from 'node:fs';
import { once } from 'node:events';
import type { Services } from '../container';
import { isCompletenessStatus } from '../domain/enums';
import { POLICY_STATUSES } from '../modules/policy/policy.entity';
import { processIo, parseOptions, runCli, runMain, UsageError, type CliContext, type Io, type OptionSpec } from './cli-support';
import { holdsCsv, policiesCsv, summaryCsv } from '../modules/summary/summary.csv';
import { SUMMARY_DIMENSIONS, type PolicyExportFilter, type SummaryDimension } from '../modules/summary/summary.queries';

const USAGE = `usage: npm run export -- summary  --insurer CODE --group-by CHANNEL|PRODUCT|APPLICATION_MONTH [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--out FILE]
       npm run export -- policies --insurer CODE [--channel CODE|DIRECT] [--completeness COMPLETE|INCOMPLETE|SUSPECT]
                                  [--status PENDING|UNDERWRITTEN] [--missing-field PATH] [--out FILE]
       npm run export -- holds    --insurer CODE [--channel CODE] [--out FILE]

  summary    completenessSummary as CSV (the same columns as exportCompletenessCsv)
  policies   the insurer's policies matching the filter, newest first (policyNo, insurer, channel, product,
             applicationDate, status, completeness, missing), streamed: no row limit
  holds      commissionHolds as CSV: per channel the policies whose commission is withheld (INCOMPLETE or SUSPECT)

Runs with the database's own rights over the whole insurer (like verify-log); no person data is ever written.
Uses DATABASE_URL (and KEXIN_DATA_KEY) like the server, on the database the server created (npm start);
changes nothing in it. Exit status: 0 written, 2 usage or setup error (no database, pending migrations).`;

export type ExportArgs =
  | { kind: 'summary'; insurer: string; groupBy: SummaryDimension; from: string | null; to: string | null; out: string | null }
  | { kind: 'policies'; insurer: string; filter: PolicyExportFilter; out: string | null }
  | { kind: 'holds'; insurer: string; channel: string | null; out: string | null };

const OPTIONS: Record<ExportArgs['kind'], OptionSpec> = {
  summary: { '--insurer': 'value', '--group-by': 'value', '--from': 'value', '--to': 'value', '--out': 'value' },
  policies: { '--insurer': 'value', '--channel': 'value', '--completeness': 'value', '--status': 'value', '--missing-field': 'value', '--out': 'value' },
  holds: { '--insurer': 'value', '--channel': 'value', '--out': 'value' },
};

/**
 * Parses the command line (--help is answered before); throws a message for
 * the user on anything unknown, missing or bad, so that nothing is written
 * for a command line that cannot run.
 */
export function parseExportArgs(argv: readonly string[]): ExportArgs {
  const [kind, ...rest] = argv;
  if (kind === undefined) throw new UsageError('say what to export: summary, policies or holds');
  if (kind !== 'summary' && kind !== 'policies' && kind !== 'holds') throw new UsageError(`unknown export ${kind}: summary, policies or holds`);
  const { values: options } = parseOptions(rest, OPTIONS[kind], { scope: kind });
  const value = (name: `--${string}`) => (options[name] as string | undefined)?.trim();
  const insurer = value('--insurer');
  if (!insurer) throw new UsageError('--insurer CODE is required');
  const out = value('--out') ?? null;
  if (kind === 'summary') {
    const groupBy = (value('--group-by') ?? '').toUpperCase();
    if (!(SUMMARY_DIMENSIONS as readonly string[]).includes(groupBy)) throw new UsageError('--group-by must be CHANNEL, PRODUCT or APPLICATION_MONTH');
    return { kind, insurer, groupBy: groupBy as SummaryDimension, from: value('--from') ?? null, to: value('--to') ?? null, out };
  }
  if (kind === 'holds') return { kind, insurer, channel: value('--channel') ?? null, out };
  const completeness = value('--completeness')?.toUpperCase() ?? null;
  if (completeness !== null && !isCompletenessStatus(completeness)) throw new UsageError('--completeness must be COMPLETE, INCOMPLETE or SUSPECT');
  const status = value('--status')?.toUpperCase() ?? null;
  if (status !== null && !(POLICY_STATUSES as readonly string[]).includes(status)) throw new UsageError('--status must be PENDING or UNDERWRITTEN');
  return { kind, insurer, out, filter: { channelCode: value('--channel') ?? null, completeness, status, missingField: value('--missing-field') ?? null } };
}

export type { Io };

/**
 * Writes one export through `write` with the SummaryService of `services`
 * (the same code as the GraphQL exports), over the insurer's whole book.
 * Nothing is written before the service has accepted the export (a policy
 * export's header goes with its first rows), so a refusal leaves no partial
 * CSV. Returns the number of data rows written.
 */
export async function produceExport(services: Pick<Services, 'summary'>, args: ExportArgs, write: (text: string) => void | Promise<void>): Promise<number> {
  const book = await services.summary.bookOfInsurer(args.insurer);
  if (args.kind === 'summary') {
    const buckets = await services.summary.summarize(book, args.groupBy, { from: args.from, to: args.to });
    await write(summaryCsv(args.groupBy, buckets));
    return buckets.length;
  }
  if (args.kind === 'holds') {
    const holds = await services.summary.holdsOf(book, args.channel);
    await write(holdsCsv(holds));
    return holds.length;
  }
  const header = policiesCsv([]);
  let started = false;
  const rows = await services.summary.forEachPolicy(book, args.filter, async (batch) => {
    await write(started ? policiesCsv(batch).slice(header.length) : policiesCsv(batch));
    started = true;
  });
  if (!started) await write(header);
  return rows;
}

/** export: opens the configured database, writes the CSV, returns the exit status. */
export async function runExport(argv: readonly string[], env: Record<string, string | undefined> = process.env, io: Io = processIo): Promise<number> {
  return runCli({ name: 'export', usage: USAGE, parse: parseExportArgs, work: writeExport }, argv, env, io);
}

/** Writes to --out or standard output; an error the services answer with a code (no such insurer, a bad date) is status 2. */
async function writeExport({ args, services, io }: CliContext<ExportArgs>): Promise<number> {
  const file = args.out ? lazyFile(args.out) : null;
  try {
    const rows = await produceExport(services, args, (text) => (file ? file.write(text) : io.out(text)));
    if (file) {
      await file.close();
      io.err(`export: ${rows} row(s) written to ${args.out}\n`);
    }
    return 0;
  } catch (error) {
    await file?.remove();
    const code = (error as { extensions?: { code?: string } }).extensions?.code;
    if (code) {
      io.err(`export: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

/** A file created at its first write, so an export refused before any text leaves none; `remove` deletes a partial one. */
function lazyFile(name: string): { write: (text: string) => Promise<void>; close: () => Promise<void>; remove: () => Promise<void> } {
  let stream: fs.WriteStream | null = null;
  return {
    write: async (text) => {
      stream ??= fs.createWriteStream(name, { encoding: 'utf8' });
      if (!stream.write(text)) await once(stream, 'drain');
    },
    close: async () => {
      if (!stream) return;
      stream.end();
      await once(stream, 'finish');
    },
    remove: async () => {
      if (!stream) return;
      stream.destroy();
      if (!stream.closed) await once(stream, 'close');
      fs.rmSync(name, { force: true });
    },
  };
}

if (require.main === module) runMain('export', runExport);
