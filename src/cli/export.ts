import 'reflect-metadata';
import fs from 'node:fs';
import { once } from 'node:events';
import type { Services } from '../container';
import { processIo, parseOptions, runCli, runMain, type CliContext, type Io } from './cli-support';
import { holdsCsv, policiesCsv, summaryCsv, SUMMARY_DIMENSIONS, type PolicyExportFilter, type SummaryDimension } from '../modules/summary/summary.service';

const USAGE = `usage: npm run export -- summary  --insurer CODE --group-by CHANNEL|PRODUCT|APPLICATION_MONTH [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--out FILE]
       npm run export -- policies --insurer CODE [--channel CODE|DIRECT] [--completeness COMPLETE|INCOMPLETE|SUSPECT]
                                  [--status PENDING|UNDERWRITTEN] [--missing-field PATH] [--out FILE]
       npm run export -- holds    --insurer CODE [--channel CODE] [--out FILE]

  summary    completenessSummary as CSV (the same columns as exportCompletenessCsv)
  policies   the insurer's policies matching the filter, newest first (policyNo, insurer, channel, product,
             applicationDate, status, completeness, missing), streamed: no row limit
  holds      commissionHolds as CSV: per channel the policies whose commission is withheld (INCOMPLETE or SUSPECT)

Runs with the database's own rights over the whole insurer (like verify-log); no person data is ever written.
Uses DATABASE_URL like the server (pending migrations are refused). Exit status: 0 written, 2 usage or setup error.`;

export type ExportArgs =
  | { kind: 'summary'; insurer: string; groupBy: SummaryDimension; from: string | null; to: string | null; out: string | null }
  | { kind: 'policies'; insurer: string; filter: PolicyExportFilter; out: string | null }
  | { kind: 'holds'; insurer: string; channel: string | null; out: string | null };

const OPTIONS: Record<ExportArgs['kind'], Record<string, 'value'>> = {
  summary: { '--insurer': 'value', '--group-by': 'value', '--from': 'value', '--to': 'value', '--out': 'value' },
  policies: { '--insurer': 'value', '--channel': 'value', '--completeness': 'value', '--status': 'value', '--missing-field': 'value', '--out': 'value' },
  holds: { '--insurer': 'value', '--channel': 'value', '--out': 'value' },
};

/** Parses the command line; throws a message for the user on anything unknown or missing. */
export function parseExportArgs(argv: readonly string[]): ExportArgs | 'help' {
  const [kind, ...rest] = argv;
  if (kind === undefined || kind === '--help' || kind === '-h') return 'help';
  if (kind !== 'summary' && kind !== 'policies' && kind !== 'holds') throw new Error(`unknown export ${kind}: summary, policies or holds`);
  const options = parseOptions(rest, OPTIONS[kind], kind);
  if (options === 'help') return 'help';
  const value = (name: string) => options[name]?.trim();
  const insurer = value('--insurer');
  if (!insurer) throw new Error('--insurer CODE is required');
  const out = value('--out') ?? null;
  if (kind === 'summary') {
    const groupBy = (value('--group-by') ?? '').toUpperCase();
    if (!(SUMMARY_DIMENSIONS as readonly string[]).includes(groupBy)) throw new Error('--group-by must be CHANNEL, PRODUCT or APPLICATION_MONTH');
    return { kind, insurer, groupBy: groupBy as SummaryDimension, from: value('--from') ?? null, to: value('--to') ?? null, out };
  }
  if (kind === 'holds') return { kind, insurer, channel: value('--channel') ?? null, out };
  return {
    kind,
    insurer,
    out,
    filter: {
      channelCode: value('--channel') ?? null,
      completeness: value('--completeness')?.toUpperCase() ?? null,
      status: value('--status')?.toUpperCase() ?? null,
      missingField: value('--missing-field') ?? null,
    },
  };
}

export type { Io };

/**
 * Writes one export through `write` with the SummaryService of `services`
 * (the same code as the GraphQL exports), over the insurer's whole book.
 * Returns the number of data rows written.
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
  await write(header);
  return services.summary.forEachPolicy(book, args.filter, async (rows) => {
    await write(policiesCsv(rows).slice(header.length));
  });
}

/** export: opens the configured database, writes the CSV, returns the exit status. */
export async function runExport(argv: readonly string[], env: Record<string, string | undefined> = process.env, io: Io = processIo): Promise<number> {
  return runCli({ name: 'export', usage: USAGE, parse: parseExportArgs, work: writeExport }, argv, env, io);
}

/** Writes to --out or standard output; an error the services answer with a code (no such insurer, a bad date) is status 2. */
async function writeExport({ args, services, io }: CliContext<ExportArgs>): Promise<number> {
  const file = args.out ? fs.createWriteStream(args.out, { encoding: 'utf8' }) : null;
  try {
    const rows = await produceExport(services, args, async (text) => {
      if (!file) return io.out(text);
      if (!file.write(text)) await once(file, 'drain');
    });
    if (file) {
      file.end();
      await once(file, 'finish');
      io.err(`export: ${rows} row(s) written to ${args.out}\n`);
    }
    return 0;
  } catch (error) {
    file?.destroy();
    const code = (error as { extensions?: { code?: string } }).extensions?.code;
    if (code) {
      io.err(`export: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) runMain('export', runExport);
