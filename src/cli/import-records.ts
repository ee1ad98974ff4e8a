/**
 * The lines of an import file as sales records (`SalesRecordInput`): the
 * column mapping of a CSV file, the shape check of a JSON Lines file. Pure:
 * no I/O. A line that cannot be a record (a bad CSV row, bad JSON, a value
 * of the wrong type, an unknown column) is a {@link MalformedLine} with
 * reason codes, as GraphQL would refuse such input before the service sees
 * it; everything else goes to the service's own checks (`checkRecord`)
 * unchanged, so the import judges exactly as submitSales does.
 */
import { parse as parseCsvLine } from 'csv-parse/sync';
import type { SalesRecordData } from '../modules/sales/sales.validation';

/** Why a line was not sent: a reason code and the field it is about (empty for the whole line). */
export interface LineReason {
  field: string;
  code: ImportReasonCode;
}

/** Reason codes of the import itself; the service adds its own field-error codes (REQUIRED, INVALID, ...). */
export const IMPORT_REASON_CODES = ['MALFORMED_CSV', 'MALFORMED_JSON', 'WRONG_TYPE', 'UNKNOWN_FIELD'] as const;
export type ImportReasonCode = (typeof IMPORT_REASON_CODES)[number];

export type LineResult = { ok: true; record: SalesRecordData } | { ok: false; policyNo: string; reasons: LineReason[] };

const PERSON_FIELDS = ['name', 'gender', 'birthDate', 'idType', 'idNumber', 'phone', 'address'] as const;
const RECORD_STRINGS = ['policyNo', 'productCode', 'applicationDate', 'salesPersonCode', 'insuredRelationship'] as const;
const RECORD_FIELDS = new Set<string>([...RECORD_STRINGS, 'termMonths', 'policyholder', 'insured', 'beneficiaries']);
const BENEFICIARY_FIELDS = new Set(['person', 'relationshipToInsured', 'sharePercent', 'order']);
const PERSON_FIELD_SET = new Set<string>(PERSON_FIELDS);

/** CSV column prefixes of the two people of a record. */
const PEOPLE = { holder_: 'policyholder', insured_: 'insured' } as const;

/**
 * Every CSV column the import knows, in the order of the documented example
 * (docs/import.md). `beneficiaries` holds a JSON array of
 * `BeneficiaryInput` objects; an empty cell is an absent value.
 */
export const CSV_COLUMNS: readonly string[] = [
  'policyNo',
  'productCode',
  'termMonths',
  'applicationDate',
  'salesPersonCode',
  'insuredRelationship',
  ...PERSON_FIELDS.map((f) => `holder_${f}`),
  ...PERSON_FIELDS.map((f) => `insured_${f}`),
  'beneficiaries',
];
const KNOWN_COLUMNS = new Set(CSV_COLUMNS);

/** One physical CSV line as its cells (csv-parse), or null when it is not one well-formed row. */
export function csvCells(line: string): string[] | null {
  try {
    const rows = parseCsvLine(line, { relax_column_count: true, skip_empty_lines: false }) as string[][];
    return rows.length === 1 ? rows[0]! : null;
  } catch {
    return null;
  }
}

/**
 * The header line of a CSV file: its column names, or a message for the user
 * (unknown or repeated columns, no policyNo). Column names are matched exactly.
 */
export function csvHeader(line: string): { columns: string[] } | { problem: string } {
  const cells = csvCells(line.replace(/^\uFEFF/, ''));
  if (!cells) return { problem: 'the header line is not a CSV row' };
  const columns = cells.map((c) => c.trim());
  const unknown = columns.filter((c) => !KNOWN_COLUMNS.has(c));
  if (unknown.length > 0) return { problem: `unknown column(s) ${unknown.slice(0, 5).join(', ')} in the header (see docs/import.md)` };
  const repeated = columns.find((c, i) => columns.indexOf(c) !== i);
  if (repeated) return { problem: `column ${repeated} appears twice in the header` };
  if (!columns.includes('policyNo')) return { problem: 'the header has no policyNo column' };
  return { columns };
}

/** A CSV data line under `columns` as a record: numbers for termMonths, the beneficiaries' JSON parsed, empty cells absent. */
export function csvRecord(columns: readonly string[], line: string): LineResult {
  const cells = csvCells(line);
  const policyNoAt = columns.indexOf('policyNo');
  if (!cells) return { ok: false, policyNo: guessPolicyNo(line, policyNoAt), reasons: [{ field: '', code: 'MALFORMED_CSV' }] };
  const policyNo = (cells[policyNoAt] ?? '').trim();
  if (cells.length !== columns.length) return { ok: false, policyNo, reasons: [{ field: '', code: 'MALFORMED_CSV' }] };
  const record: Record<string, unknown> = {};
  const people: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < columns.length; i += 1) {
    const column = columns[i]!;
    const cell = cells[i]!;
    if (cell.trim() === '') continue;
    const prefix = (Object.keys(PEOPLE) as Array<keyof typeof PEOPLE>).find((p) => column.startsWith(p));
    if (prefix) (people[PEOPLE[prefix]] ??= {})[column.slice(prefix.length)] = cell;
    else if (column === 'termMonths') record.termMonths = /^\s*[+-]?\d+\s*$/.test(cell) ? Number(cell) : cell;
    else if (column === 'beneficiaries') {
      try {
        record.beneficiaries = JSON.parse(cell);
      } catch {
        return { ok: false, policyNo, reasons: [{ field: 'beneficiaries', code: 'MALFORMED_JSON' }] };
      }
    } else record[column] = cell;
  }
  // A person with no column filled is sent as an empty person, as a GraphQL client sends `{}`: every gap is reported.
  record.policyholder = people.policyholder ?? {};
  record.insured = people.insured ?? {};
  return shaped(record);
}

/** For the rejects file: the policy number of a row that is not CSV, when no quote comes before its cell. */
function guessPolicyNo(line: string, at: number): string {
  const naive = line.split(',', at + 1);
  if (naive.length <= at || naive.some((c) => c.includes('"'))) return '';
  const cell = naive[at]!.trim();
  return /^[A-Za-z0-9_/-]{1,64}$/.test(cell) ? cell : '';
}

/** A JSON Lines line as a record: one JSON object with SalesRecordInput's fields. */
export function jsonRecord(line: string): LineResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, policyNo: '', reasons: [{ field: '', code: 'MALFORMED_JSON' }] };
  }
  return shaped(value);
}

/**
 * What GraphQL's input coercion would refuse, line by line: not an object,
 * unknown fields, a string field holding a number, `termMonths` not a
 * number, a person or beneficiary that is not an object. Values of the
 * right type go on to `checkRecord` (enum values, dates, ranges).
 */
export function shaped(value: unknown): LineResult {
  if (!isObject(value)) return { ok: false, policyNo: '', reasons: [{ field: '', code: 'WRONG_TYPE' }] };
  const policyNo = typeof value.policyNo === 'string' ? value.policyNo.trim() : '';
  const reasons: LineReason[] = [];
  for (const key of Object.keys(value)) if (!RECORD_FIELDS.has(key)) reasons.push({ field: key, code: 'UNKNOWN_FIELD' });
  for (const key of RECORD_STRINGS) if (!isStringOrAbsent(value[key])) reasons.push({ field: key, code: 'WRONG_TYPE' });
  if (!isAbsent(value.termMonths) && typeof value.termMonths !== 'number') reasons.push({ field: 'termMonths', code: 'WRONG_TYPE' });
  for (const who of ['policyholder', 'insured'] as const) checkPerson(value[who], who, reasons, true);
  const beneficiaries = value.beneficiaries;
  if (!isAbsent(beneficiaries)) {
    if (!Array.isArray(beneficiaries)) reasons.push({ field: 'beneficiaries', code: 'WRONG_TYPE' });
    else
      beneficiaries.forEach((b: unknown, i) => {
        const at = `beneficiaries[${i}]`;
        if (!isObject(b)) return reasons.push({ field: at, code: 'WRONG_TYPE' });
        for (const key of Object.keys(b)) if (!BENEFICIARY_FIELDS.has(key)) reasons.push({ field: `${at}.${key}`, code: 'UNKNOWN_FIELD' });
        if (!isStringOrAbsent(b.relationshipToInsured)) reasons.push({ field: `${at}.relationshipToInsured`, code: 'WRONG_TYPE' });
        for (const key of ['sharePercent', 'order'] as const) if (!isAbsent(b[key]) && typeof b[key] !== 'number') reasons.push({ field: `${at}.${key}`, code: 'WRONG_TYPE' });
        checkPerson(b.person, `${at}.person`, reasons, true);
        return undefined;
      });
  }
  if (reasons.length > 0) return { ok: false, policyNo, reasons };
  return { ok: true, record: value as SalesRecordData };
}

function checkPerson(value: unknown, at: string, reasons: LineReason[], required: boolean): void {
  if (isAbsent(value)) {
    // GraphQL refuses a missing non-null input object: the record has no such person at all.
    if (required) reasons.push({ field: at, code: 'WRONG_TYPE' });
    return;
  }
  if (!isObject(value)) return void reasons.push({ field: at, code: 'WRONG_TYPE' });
  for (const key of Object.keys(value)) {
    if (!PERSON_FIELD_SET.has(key)) reasons.push({ field: `${at}.${key}`, code: 'UNKNOWN_FIELD' });
    else if (!isStringOrAbsent(value[key])) reasons.push({ field: `${at}.${key}`, code: 'WRONG_TYPE' });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAbsent(value: unknown): boolean {
  return value === null || value === undefined;
}

function isStringOrAbsent(value: unknown): boolean {
  return isAbsent(value) || typeof value === 'string';
}
