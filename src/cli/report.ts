import 'reflect-metadata';
import fs from 'node:fs';
import { ConfigError, loadConfig } from '../config';
import { createServices, type Services } from '../container';
import { openDatabase } from '../db/data-source';
import { resolveSecrets } from '../db/secrets';
import { createLogger } from '../logger';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../modules/remediation/remediation.report';

const USAGE = `usage: npm run report -- --campaign ID --format csv|md [--out FILE]

  --campaign ID   the clean-up campaign (the id startRemediation returned; remediationCampaigns lists them)
  --format F      csv: one line per channel and a TOTAL line (checked, flagged, corrected, remaining,
                  and past the deadline the remaining policy numbers); md: the report to the regulator
                  (organisation of the work, method, results, what remains, next steps)
  --out FILE      write to FILE instead of standard output

The figures are computed live by the same service code as GraphQL's remediationCampaign, over every
channel, and list every remaining policy past the deadline. Uses DATABASE_URL like the server
(pending migrations are refused). Exit status: 0 written, 1 no such campaign, 2 usage or setup error.`;

export interface ReportArgs {
  campaign: string;
  format: ReportFormat;
  out: string | null;
}

/** Parses the command line; throws a message for the user on anything unknown or missing. */
export function parseReportArgs(argv: readonly string[]): ReportArgs | 'help' {
  let campaign = '';
  let format = '';
  let out: string | null = null;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${name} needs a value`);
      return v;
    };
    if (name === '--help' || name === '-h') return 'help';
    else if (name === '--campaign') campaign = value().trim();
    else if (name === '--format') format = value().trim().toLowerCase();
    else if (name === '--out') out = value();
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!campaign) throw new Error('--campaign ID is required');
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) throw new Error('--format must be csv or md');
  return { campaign, format: format as ReportFormat, out };
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** The report text of a campaign, or null when there is none (what the command writes; tests call it with a server's services). */
export async function produceReport(services: Pick<Services, 'remediation'>, campaignId: string, format: ReportFormat, now: Date = new Date()): Promise<string | null> {
  const report = await services.remediation.report(campaignId, now);
  return report ? renderReport(report, format) : null;
}

/** report: opens the configured database, writes the report, returns the exit status. */
export async function runReport(argv: readonly string[], env: Record<string, string | undefined> = process.env, io: Io = processIo): Promise<number> {
  let args: ReportArgs | 'help';
  let config: ReturnType<typeof loadConfig>;
  try {
    args = parseReportArgs(argv);
    if (args === 'help') {
      io.out(USAGE + '\n');
      return 0;
    }
    config = loadConfig(env);
  } catch (error) {
    io.err(`report: ${(error as Error).message}\n${error instanceof ConfigError ? '' : USAGE + '\n'}`);
    return 2;
  }
  let db: Awaited<ReturnType<typeof openDatabase>>;
  try {
    db = await openDatabase(config.database, { migrate: false });
  } catch (error) {
    io.err(`report: cannot open the database: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const services = createServices(db, config, createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel), resolveSecrets(config));
    const text = await produceReport(services, args.campaign, args.format);
    if (text === null) {
      io.err(`report: no campaign with id ${args.campaign}\n`);
      return 1;
    }
    if (args.out) {
      fs.writeFileSync(args.out, text, 'utf8');
      io.err(`report: written to ${args.out}\n`);
    } else io.out(text);
    return 0;
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  runReport(process.argv.slice(2)).then(
    (status) => process.exit(status),
    (error: unknown) => {
      process.stderr.write(`report failed: ${(error as Error).message}\n`);
      process.exit(2);
    },
  );
}
