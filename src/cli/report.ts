import 'reflect-metadata';
import fs from 'node:fs';
import type { Services } from '../container';
import { processIo, parseOptions, runCli, runMain, UsageError, type CliContext, type Io } from './cli-support';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../modules/remediation/remediation.report';

const USAGE = `usage: npm run report -- --campaign ID --format csv|md [--out FILE]

  --campaign ID   the clean-up campaign (the id startRemediation returned; remediationCampaigns lists them)
  --format F      csv: one line per channel and a TOTAL line (checked, flagged, corrected, remaining,
                  and past the deadline the remaining policy numbers); md: the report to the regulator
                  (organisation of the work, method, results, what remains, next steps)
  --out FILE      write to FILE instead of standard output

The figures are computed live by the same service code as GraphQL's remediationCampaign, over every
channel, and list every remaining policy past the deadline. Uses DATABASE_URL (and KEXIN_DATA_KEY)
like the server, on the database the server created (npm start); changes nothing in it.
Exit status: 0 written, 1 no such campaign, 2 usage or setup error (no database, pending migrations).`;

export interface ReportArgs {
  campaign: string;
  format: ReportFormat;
  out: string | null;
}

const OPTIONS = { '--campaign': 'value', '--format': 'value', '--out': 'value' } as const;

/** Parses the command line (--help is answered before); throws a message for the user on anything unknown, missing or bad. */
export function parseReportArgs(argv: readonly string[]): ReportArgs {
  const { values: options } = parseOptions(argv, OPTIONS);
  const campaign = options['--campaign']?.trim() ?? '';
  const format = options['--format']?.trim().toLowerCase() ?? '';
  const out = options['--out'] ?? null;
  if (!campaign) throw new UsageError('--campaign ID is required');
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError('--format must be csv or md');
  return { campaign, format: format as ReportFormat, out };
}

export type { Io };

/** The report text of a campaign, or null when there is none (what the command writes; tests call it with a server's services). */
export async function produceReport(services: Pick<Services, 'remediation'>, campaignId: string, format: ReportFormat, now: Date = new Date()): Promise<string | null> {
  const report = await services.remediation.report(campaignId, now);
  return report ? renderReport(report, format) : null;
}

/** report: opens the configured database, writes the report, returns the exit status. */
export async function runReport(argv: readonly string[], env: Record<string, string | undefined> = process.env, io: Io = processIo): Promise<number> {
  return runCli({ name: 'report', usage: USAGE, parse: parseReportArgs, work: writeReport }, argv, env, io);
}

async function writeReport({ args, services, io }: CliContext<ReportArgs>): Promise<number> {
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
}

if (require.main === module) runMain('report', runReport);
