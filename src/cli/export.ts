import 'reflect-metadata';
import fs from 'node:fs';
import { once } from 'node:events';
import { ConfigError, loadConfig } from '../config';
import { createServices, type Services } from '../container';
import { openDatabase } from '../db/data-source';
import { resolveSecrets } from '../db/secrets';
import { createLogger } from '../logger';
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

/** Parses the command line; throws a message for the user on anything unknown or missing. */
export function parseExportArgs(argv: readonly string[]): ExportArgs | 'help' {
  const [kind, ...rest] = argv;
  if (kind === undefined || kind === '--help' || kind === '-h') return 'help';
  if (kind !== 'summary' && kind !== 'policies' && kind !== 'holds') throw new Error(`unknown export ${kind}: summary, policies or holds`);
  const allowed: Record<typeof kind, string[]> = {
    summary: ['--insurer', '--group-by', '--from', '--to', '--out'],
    policies: ['--insurer', '--channel', '--completeness', '--status', '--missing-field', '--out'],
    holds: ['--insurer', '--channel', '--out'],
  };
  const values = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name === '--help' || name === '-h') return 'help';
    if (!allowed[kind].includes(name)) throw new Error(`unknown argument ${arg} for ${kind}`);
    const v = inline ?? rest[++i];
    if (v === undefined || v === '') throw new Error(`${name} needs a value`);
    values.set(name, v.trim());
  }
  const insurer = values.get('--insurer');
  if (!insurer) throw new Error('--insurer CODE is required');
  const out = values.get('--out') ?? null;
  if (kind === 'summary') {
    const groupBy = (values.get('--group-by') ?? '').toUpperCase();
    if (!(SUMMARY_DIMENSIONS as readonly string[]).includes(groupBy)) throw new Error('--group-by must be CHANNEL, PRODUCT or APPLICATION_MONTH');
    return { kind, insurer, groupBy: groupBy as SummaryDimension, from: values.get('--from') ?? null, to: values.get('--to') ?? null, out };
  }
  if (kind === 'holds') return { kind, insurer, channel: values.get('--channel') ?? null, out };
  return {
    kind,
    insurer,
    out,
    filter: {
      channelCode: values.get('--channel') ?? null,
      completeness: values.get('--completeness')?.toUpperCase() ?? null,
      status: values.get('--status')?.toUpperCase() ?? null,
      missingField: values.get('--missing-field') ?? null,
    },
  };
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

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
  let args: ExportArgs | 'help';
  let config: ReturnType<typeof loadConfig>;
  try {
    args = parseExportArgs(argv);
    if (args === 'help') {
      io.out(USAGE + '\n');
      return 0;
    }
    config = loadConfig(env);
  } catch (error) {
    io.err(`export: ${(error as Error).message}\n${error instanceof ConfigError ? '' : USAGE + '\n'}`);
    return 2;
  }
  let db: Awaited<ReturnType<typeof openDatabase>>;
  try {
    db = await openDatabase(config.database, { migrate: false });
  } catch (error) {
    io.err(`export: cannot open the database: ${(error as Error).message}\n`);
    return 2;
  }
  const file = args.out ? fs.createWriteStream(args.out, { encoding: 'utf8' }) : null;
  try {
    const services = createServices(db, config, createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel), resolveSecrets(config));
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
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  runExport(process.argv.slice(2)).then(
    (status) => process.exit(status),
    (error: unknown) => {
      process.stderr.write(`export failed: ${(error as Error).message}\n`);
      process.exit(2);
    },
  );
}
