/**
 * CSV text (RFC 4180: comma-separated, CRLF line ends, fields quoted when
 * they hold a comma, quote or line break, quotes doubled). Text cells that a
 * spreadsheet would run as a formula (starting with = + - @ or a tab/CR) get
 * a leading apostrophe: policy numbers and product codes come from partners.
 * Pure; no personal data ever reaches these functions (codes, counts, dates).
 * Below the generic CSV functions, the renderings of the completeness
 * views: summaries, commission holds and policy lists.
 */
import type { PolicyEntity } from '../policy/policy.entity';
import { storedCompleteness } from '../policy/stored-completeness';
import { DIRECT_KEY, type BucketRow, type CommissionHoldRow, type SummaryDimension } from './summary.queries';

export type CsvCell = string | number | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: readonly CsvCell[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

export function csvText(header: readonly string[], rows: ReadonlyArray<readonly CsvCell[]>): string {
  return csvLine(header) + rows.map(csvLine).join('');
}

/** Splits CSV text back into rows of strings (for tests and tools; handles quoting). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** One line of a policy export: codes, dates and field paths only, never a person's data. */
export interface PolicyExportRow {
  policyNo: string;
  insurerCode: string;
  /** Channel code, or DIRECT. */
  channel: string;
  productCode: string;
  applicationDate: string;
  status: string;
  completeness: string;
  missing: string[];
}

/** A policy as a line of an export: channel code (DIRECT for none) and the missing paths of its stored verdict. */
export function exportRow(
  p: Pick<PolicyEntity, 'policyNo' | 'channelId' | 'productCode' | 'applicationDate' | 'status' | 'completeness' | 'issues'>,
  insurerCode: string,
  codes: ReadonlyMap<string, string>,
): PolicyExportRow {
  return {
    policyNo: p.policyNo,
    insurerCode,
    channel: p.channelId === null ? DIRECT_KEY : (codes.get(p.channelId) ?? p.channelId),
    productCode: p.productCode,
    applicationDate: p.applicationDate,
    status: p.status,
    completeness: p.completeness,
    missing: storedCompleteness(p).missing,
  };
}

/** Header of the key column of a summary CSV. */
const KEY_HEADER: Record<SummaryDimension, string> = { CHANNEL: 'channel', PRODUCT: 'product', APPLICATION_MONTH: 'applicationMonth' };

/**
 * A summary as CSV: the key, total, complete, incomplete, suspect, then one
 * column `missing:<field path>` per field missing anywhere (sorted by code
 * unit, as the buckets are), with the bucket's count (0 when none).
 */
export function summaryCsv(groupBy: SummaryDimension, buckets: readonly BucketRow[]): string {
  const fields = [...new Set(buckets.flatMap((b) => b.missingByField.map((m) => m.field)))].sort();
  const header = [KEY_HEADER[groupBy], 'total', 'complete', 'incomplete', 'suspect', ...fields.map((f) => `missing:${f}`)];
  const rows = buckets.map((b): CsvCell[] => {
    const byField = new Map(b.missingByField.map((m) => [m.field, m.count]));
    return [b.key, b.total, b.complete, b.incomplete, b.suspect, ...fields.map((f) => byField.get(f) ?? 0)];
  });
  return csvText(header, rows);
}

/** Policies as CSV: policyNo, insurer, channel, product, applicationDate, status, completeness, missing (paths joined with ';'). */
export function policiesCsv(rows: readonly PolicyExportRow[]): string {
  return csvText(
    ['policyNo', 'insurer', 'channel', 'product', 'applicationDate', 'status', 'completeness', 'missing'],
    rows.map((r) => [r.policyNo, r.insurerCode, r.channel, r.productCode, r.applicationDate, r.status, r.completeness, r.missing.join(';')]),
  );
}

/** Commission holds as CSV: channel, held, incomplete, suspect, truncated, policyNos (joined with ';'). */
export function holdsCsv(rows: readonly CommissionHoldRow[]): string {
  return csvText(
    ['channel', 'held', 'incomplete', 'suspect', 'listed', 'policyNos'],
    rows.map((r) => [r.channelCode, r.held, r.incomplete, r.suspect, r.policyNos.length, r.policyNos.join(';')]),
  );
}
