/**
 * Import files for `npm run import`, made up and deterministic (test/bench/records.ts):
 * record i is complete, about 5% incomplete (no policyholder phone), about 1%
 * suspect (a resident ID with a wrong check digit); with `rejectEvery` every
 * such line is refused by the service (term of 6 months), with `malformedEvery`
 * every such line is a broken CSV row / JSON text. Written as a stream, so a
 * 1,000,000-line file costs no memory.
 *
 *   node dist/test/bench/import-file.js --lines 1000000 --out /tmp/book.csv [--format jsonl] [--prefix P]
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { CSV_COLUMNS } from '../../src/cli/import-records';
import { benchRecord } from './records';

export interface ImportFileOptions {
  prefix: string;
  lines: number;
  format: 'csv' | 'jsonl';
  /** Every n-th record (i % n === n - 1) has a 6-month term: rejected TERM_TOO_SHORT. 0: none. */
  rejectEvery?: number;
  /** Every n-th record (i % n === n - 2) is a broken line. 0: none. */
  malformedEvery?: number;
  /** First person number (so two files of one test share no one). */
  personBase?: number;
}

/** What line i of a generated file is: how the import must judge it. */
export function expectedKind(i: number, options: Pick<ImportFileOptions, 'rejectEvery' | 'malformedEvery'>): 'MALFORMED' | 'REJECTED' | 'INCOMPLETE' | 'SUSPECT' | 'COMPLETE' {
  const { rejectEvery = 0, malformedEvery = 0 } = options;
  if (malformedEvery > 0 && i % malformedEvery === malformedEvery - 2) return 'MALFORMED';
  if (rejectEvery > 0 && i % rejectEvery === rejectEvery - 1) return 'REJECTED';
  if (i % 20 === 7) return 'INCOMPLETE';
  if (i % 100 === 13) return 'SUSPECT';
  return 'COMPLETE';
}

/** Record i as it is written: benchRecord, with the rejected term where asked. */
export function importRecord(i: number, options: ImportFileOptions): Record<string, unknown> {
  const record = benchRecord(options.prefix, i, options.personBase ?? 0);
  if (expectedKind(i, options) === 'REJECTED') record.termMonths = 6;
  return record;
}

/** A record as a CSV line under {@link CSV_COLUMNS}. */
export function csvLine(record: Record<string, unknown>): string {
  const people = { holder_: record.policyholder, insured_: record.insured } as Record<string, Record<string, unknown> | undefined>;
  return CSV_COLUMNS.map((column) => {
    const prefix = Object.keys(people).find((p) => column.startsWith(p));
    const value = prefix ? people[prefix]?.[column.slice(prefix.length)] : column === 'beneficiaries' ? (record.beneficiaries ? JSON.stringify(record.beneficiaries) : undefined) : record[column];
    return cell(value === undefined || value === null ? '' : String(value));
  }).join(',');
}

function cell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Line i of the file (without its newline). */
export function fileLine(i: number, options: ImportFileOptions): string {
  const record = importRecord(i, options);
  if (expectedKind(i, options) === 'MALFORMED') {
    // A quote closed in the middle of a cell / a JSON object cut short.
    return options.format === 'csv' ? `${record.policyNo},"LIFE"X,240` : JSON.stringify(record).slice(0, 40);
  }
  return options.format === 'csv' ? csvLine(record) : JSON.stringify(record);
}

/** Writes the file with backpressure; answers its size in bytes. */
export async function writeImportFile(file: string, options: ImportFileOptions): Promise<number> {
  const out = fs.createWriteStream(file);
  if (options.format === 'csv' && !out.write(CSV_COLUMNS.join(',') + '\n')) await once(out, 'drain');
  for (let i = 0; i < options.lines; i += 1) {
    if (!out.write(fileLine(i, options) + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return fs.statSync(file).size;
}

if (require.main === module) {
  const { values } = parseArgs({ options: { lines: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, prefix: { type: 'string' } }, strict: true });
  const lines = Number(values.lines ?? '1000000');
  const out = values.out ?? '/tmp/kexin-import.csv';
  const format = values.format === 'jsonl' ? 'jsonl' : 'csv';
  writeImportFile(out, { prefix: values.prefix ?? 'BK', lines, format, rejectEvery: 500, malformedEvery: 1000 }).then(
    (size) => process.stdout.write(`${out}: ${lines} lines, ${size} bytes\n`),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}
