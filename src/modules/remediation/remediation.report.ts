/**
 * The report to the regulator on a clean-up campaign (DOMAIN.md "Historical
 * policies": the organisation of the work, the method, how many policies
 * were checked and corrected, what remains, the next steps), rendered from a
 * {@link CampaignReport} as CSV or Markdown. Pure: the numbers are the ones
 * RemediationService computed, the same code GraphQL's remediationCampaign
 * reads through. Codes, counts and policy numbers only: no person's data.
 */
import { csvText, type CsvCell } from '../summary/summary.csv';
import { LONG_TERM_THRESHOLD_MONTHS } from '../../domain/scope';
import type { CampaignReport, ProgressRow } from './remediation.service';
import { DIRECT_CHANNEL_CODE } from '../../domain/organization-codes';

export const REPORT_FORMATS = ['csv', 'md'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Label of the policies sold without a channel. */
export const DIRECT_LABEL = DIRECT_CHANNEL_CODE;
/** Label of the totals line of the CSV. */
export const TOTAL_LABEL = 'TOTAL';

export const REPORT_CSV_HEADER = [
  'campaign',
  'insurer',
  'issuedBefore',
  'deadline',
  'pastDeadline',
  'channel',
  'checked',
  'flagged',
  'corrected',
  'remaining',
  'remainingPolicyNos',
] as const;

const REASON_WORDS: Record<string, string> = {
  'policyholder.phone:MISSING': 'policyholder phone missing',
  'policyholder.phone:PHONE_FORMAT': 'policyholder phone malformed (not a mainland mobile or a landline with area code)',
  'policyholder.phone:PHONE_SHARED': 'policyholder phone shared by policyholders of 3 or more ID numbers',
  'policyholder.phone:PHONE_IS_SALES_PERSON': 'policyholder phone is the seller\'s own phone',
  'policyholder.address:MISSING': 'policyholder address missing',
  'policyholder.address:ADDRESS_PLACEHOLDER': 'policyholder address a placeholder or too vague',
};

function channelLabel(row: Pick<ProgressRow, 'channelCode'>): string {
  return row.channelCode ?? DIRECT_LABEL;
}

/**
 * One line per channel (channels in code order, DIRECT last) and a TOTAL
 * line; the campaign's columns repeat on every line so each line stands
 * alone. `remainingPolicyNos` (joined with ';') is filled past the deadline.
 */
export function reportCsv(report: CampaignReport): string {
  const head = (channel: string): CsvCell[] => [report.campaign.id, report.insurer.code, report.campaign.issuedBefore, report.campaign.deadline, String(report.pastDeadline), channel];
  const rows: CsvCell[][] = report.progress.map((row) => [
    ...head(channelLabel(row)),
    row.checked,
    row.flagged,
    row.corrected,
    row.remaining,
    row.remainingPolicyNos.join(';'),
  ]);
  rows.push([
    ...head(TOTAL_LABEL),
    report.checked,
    report.flagged,
    report.corrected,
    report.remaining,
    report.progress.flatMap((row) => row.remainingPolicyNos).join(';'),
  ]);
  return csvText(REPORT_CSV_HEADER, rows);
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '0.0%' : `${((100 * part) / whole).toFixed(1)}%`;
}

/** Markdown table cell: no pipes or line breaks from the data. */
function md(text: string | number): string {
  return String(text).replace(/[|\r\n]/g, ' ');
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** The report as Markdown: the five headings the notice asks for, with the numbers filled in. */
export function reportMarkdown(report: CampaignReport): string {
  const c = report.campaign;
  const channels = report.progress.filter((row) => row.channelId !== null);
  const behind = report.progress.filter((row) => row.remaining > 0);
  const out: string[] = [];
  out.push(`# Clean-up of historical policies: report of ${md(report.insurer.name)} (${md(report.insurer.code)})`);
  out.push('');
  out.push(`Campaign \`${c.id}\` · policies applied for before ${c.issuedBefore} · deadline ${c.deadline} · figures as of ${report.today} (China time), read live from the records.`);
  out.push('');
  out.push('## 1. Organisation of the work');
  out.push('');
  out.push(`- Started on ${c.createdAt.toISOString().slice(0, 10)} by ${report.startedBy ? `${md(report.startedBy.name)} (${md(report.startedBy.organizationCode)})` : 'the insurer'}; the start is recorded in the insurer's transfer log (operation \`startRemediation\`).`);
  out.push(`- ${channels.length} selling channel(s) took part${channels.length ? `: ${channels.map((row) => md(channelLabel(row))).join(', ')}` : ''}; policies sold directly are corrected by the insurer's own service staff.`);
  out.push('- Each channel sees the progress of its own book and corrects its policies with its customers; commission on policies still flagged is withheld (缓发手续费) until they are corrected.');
  out.push(
    report.pastDeadline
      ? `- The deadline (${c.deadline}) has passed.`
      : `- The deadline is ${c.deadline} (${daysBetween(report.today, c.deadline)} day(s) from ${report.today}).`,
  );
  out.push('');
  out.push('## 2. Method');
  out.push('');
  out.push(`- Scope: every individual policy with a term over ${LONG_TERM_THRESHOLD_MONTHS} months applied for before ${c.issuedBefore}: **${report.checked}** policies checked.`);
  out.push('- A policy is flagged when its policyholder\'s phone or address is missing, malformed, shared by policyholders of 3 or more ID numbers, the seller\'s own phone, or a placeholder / too vague, as recorded by the automatic completeness checks.');
  out.push('- Records are corrected only at the customer\'s request and with evidence of it (signed form, e-signature, call-back recording or in-person check); every change is logged.');
  out.push('- A policy counts as corrected as soon as its current record has a sound phone and address: the figures below are recomputed from the records when the report is made.');
  out.push('');
  out.push('## 3. Results');
  out.push('');
  out.push(`Checked **${report.checked}**, problems found **${report.flagged}** (${percent(report.flagged, report.checked)}), corrected **${report.corrected}** (${percent(report.corrected, report.flagged)} of those found), remaining **${report.remaining}**.`);
  out.push('');
  out.push('| channel | checked | problems found | corrected | remaining |');
  out.push('| --- | ---: | ---: | ---: | ---: |');
  for (const row of report.progress) out.push(`| ${md(channelLabel(row))} | ${row.checked} | ${row.flagged} | ${row.corrected} | ${row.remaining} |`);
  out.push(`| **${TOTAL_LABEL}** | **${report.checked}** | **${report.flagged}** | **${report.corrected}** | **${report.remaining}** |`);
  out.push('');
  if (report.reasons.length > 0) {
    out.push('Problems found, by kind (a policy may have several):');
    out.push('');
    out.push('| problem | policies |');
    out.push('| --- | ---: |');
    for (const r of report.reasons) out.push(`| ${md(REASON_WORDS[r.reason] ?? r.reason)} | ${r.count} |`);
    out.push('');
  }
  out.push('## 4. What remains');
  out.push('');
  if (report.remaining === 0) {
    out.push('Nothing: every policy found has been corrected.');
  } else if (!report.pastDeadline) {
    out.push(`${report.remaining} policies remain in ${behind.length} channel(s); they are listed here by policy number once the deadline (${c.deadline}) has passed.`);
  } else {
    out.push(`${report.remaining} policies remain after the deadline, by channel:`);
    for (const row of behind) {
      out.push('');
      out.push(`### ${md(channelLabel(row))}${row.channelName ? ` (${md(row.channelName)})` : ''}: ${row.remaining}`);
      out.push('');
      out.push(row.remainingPolicyNos.map((no) => `\`${md(no)}\``).join(', '));
    }
  }
  out.push('');
  out.push('## 5. Next steps');
  out.push('');
  if (report.remaining === 0) {
    out.push('- Keep the records sound: completeness is checked at every sale, servicing and correction (Art. 6), and customers are reminded to report changes of phone and address (Art. 7).');
  } else {
    const list = behind.map((row) => `${md(channelLabel(row))} (${row.remaining})`).join(', ');
    out.push(
      report.pastDeadline
        ? `- The channels still behind the deadline, ${list}, are asked to finish with their customers; their commission on these ${report.remaining} policies stays withheld until each is corrected.`
        : `- The channels with policies left, ${list}, correct them with their customers by ${c.deadline}; commission on these ${report.remaining} policies stays withheld until each is corrected.`,
    );
    out.push('- Progress is followed in the campaign view and a new report is made at the deadline.');
    out.push('- Customers are reminded to report changes of phone and address (Art. 7); new sales are checked at entry, so no new gaps enter the book.');
  }
  out.push('');
  return out.join('\n');
}

export function renderReport(report: CampaignReport, format: ReportFormat): string {
  return format === 'csv' ? reportCsv(report) : reportMarkdown(report);
}
