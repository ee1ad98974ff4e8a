import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseImportArgs, runImport } from '../../src/cli/import';
import { CSV_COLUMNS } from '../../src/cli/import-records';
import type { Io } from '../../src/cli/cli-support';
import { parseCsv } from '../../src/modules/summary/summary.csv';
import type { TestApp } from '../support/app';
import { expectUsageRefusal, runCaptured, startCliApp, stopCliApp } from '../support/cli';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty, createPrincipal } from '../support/factories';
import { salesSetup } from '../support/sales';
import { csvLine, expectedKind, importRecord, writeImportFile, type ImportFileOptions } from '../bench/import-file';

/** The summary's figures, read back from its lines. */
function figures(out: string) {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const counts = (label: string) => {
    const m = new RegExp(`^${label}: \\d+(?: \\((.*)\\))?`, 'm').exec(out);
    return Object.fromEntries((m?.[1] ?? '').split(', ').filter(Boolean).map((kv) => [kv.split(' ')[0]!, Number(kv.split(' ')[1])]));
  };
  return {
    lines: num(/^lines: (\d+)/m),
    sent: num(/records sent: (\d+)/),
    malformed: num(/malformed lines: (\d+)/),
    chunks: num(/^chunks: (\d+)/m),
    written: num(/written (\d+)/),
    replayed: num(/replayed (\d+)/),
    accepted: num(/^accepted: (\d+)/m),
    rejected: num(/^rejected: (\d+)/m),
    verdicts: counts('accepted'),
    reasons: counts('rejected'),
  };
}

/** Standard error of a run that went well: nothing but progress lines (one every 5 s, so some on a slow machine). */
function progressOnly(err: string): string[] {
  return err.split('\n').filter((line) => line !== '' && !/^import: \d+ records, [\d.]+%, \d+ records\/s, ETA \d+ s$/.test(line));
}

/** What a generated file must give: counts by kind of line i (test/bench/import-file.ts). */
function expected(options: ImportFileOptions) {
  const kinds: Record<string, number> = { MALFORMED: 0, REJECTED: 0, INCOMPLETE: 0, SUSPECT: 0, COMPLETE: 0 };
  for (let i = 0; i < options.lines; i += 1) kinds[expectedKind(i, options)]! += 1;
  return kinds;
}

/**
 * `npm run import` (issue 12 item 4) on the database a server writes to:
 * the records go through SalesService.submit (or writeOwnBook) as the
 * principal of the API key, one chunk = one call = one transfer-log entry
 * with a key from the file's identity, so re-runs and resumed runs write
 * every chunk exactly once.
 */
describe(`import command line (${TEST_DB})`, () => {
  let app: TestApp;
  let dir: string;
  let env: Record<string, string>;
  let s: Awaited<ReturnType<typeof salesSetup>>;
  let keyFile: string;

  beforeAll(async () => {
    ({ app, dir, env } = await startCliApp('kexin-import-'));
    s = await salesSetup(app);
    keyFile = path.join(dir, 'sales.key');
    fs.writeFileSync(keyFile, `${s.bank.keys.SALES}\n`, { mode: 0o600 });
  });
  afterAll(() => stopCliApp(app, dir));

  const run = (...argv: string[]) => runCaptured(runImport, argv, env);
  const runWith = (extra: Record<string, string>, ...argv: string[]) => runCaptured(runImport, argv, { ...env, ...extra });

  /** Entries on the insurer's chain by operation and outcome, e.g. `submitSales/OK`. */
  async function entries(insurerId: string): Promise<Record<string, number>> {
    const rows: Array<{ operation: string; outcome: string; n: number | string }> = await app.db.query(
      'SELECT operation, outcome, COUNT(*) AS n FROM transfer_log WHERE insurer_id = ? GROUP BY operation, outcome',
      [insurerId],
    );
    return Object.fromEntries(rows.map((r) => [`${r.operation}/${r.outcome}`, Number(r.n)]));
  }

  /** Policies of `prefix` by completeness, and their highest version (1: none was written twice). */
  async function policies(insurerId: string, prefix: string) {
    const rows: Array<{ completeness: string; n: number | string; v: number | string }> = await app.db.query(
      'SELECT completeness, COUNT(*) AS n, MAX(version) AS v FROM policy WHERE insurer_id = ? AND policy_no LIKE ? GROUP BY completeness',
      [insurerId, `${prefix}-%`],
    );
    return {
      byStatus: Object.fromEntries(rows.map((r) => [r.completeness, Number(r.n)])),
      maxVersion: Math.max(0, ...rows.map((r) => Number(r.v))),
    };
  }

  it('parses its arguments', () => {
    expect(parseImportArgs(['--insurer', 'ins', '--channel', 'bk', 'day.csv'])).toEqual({
      insurer: 'ins', channel: 'bk', file: 'day.csv', format: 'csv', rejects: 'day.csv.rejects.csv', keyFile: null, chunkSize: 1000, maxChunks: null,
    });
    expect(parseImportArgs(['--insurer=INS', '--own-book', '--format', 'JSONL', '--rejects', 'r.csv', '--chunk-size', '50', '--max-chunks', '2', '--key-file', 'k', 'book.txt'])).toMatchObject({
      channel: null, format: 'jsonl', rejects: 'r.csv', chunkSize: 50, maxChunks: 2, keyFile: 'k',
    });
    expect(parseImportArgs(['--insurer', 'I', 'x.ndjson']).format).toBe('jsonl');
  });

  it.each([
    [['--channel', 'B', 'f.csv'], /--insurer CODE is required/],
    [['--insurer', 'I', '--channel', 'B', '--own-book', 'f.csv'], /exclude each other/],
    [['--insurer', 'I', '--channel', 'B'], /say which FILE/],
    [['--insurer', 'I', 'f.txt'], /cannot tell the format/],
    [['--insurer', 'I', '--format', 'xml', 'f.csv'], /--format must be csv or jsonl/],
    [['--insurer', 'I', '--chunk-size', '1001', 'f.csv'], /--chunk-size must be a whole number from 1 to 1000/],
    [['--insurer', 'I', '--max-chunks', '0', 'f.csv'], /--max-chunks must be/],
    [['--insurer', 'I', '--bogus', 'f.csv'], /unknown argument --bogus/],
    [['--insurer', 'I', 'a.csv', 'b.csv'], /unexpected argument b\.csv/],
    [['--insurer', 'I', '--rejects', './a.csv', 'a.csv'], /--rejects must not be the file being imported/],
  ])('bad arguments %j: exit 2, one line, nothing done', async (argv, message) => {
    expectUsageRefusal(await run(...argv), message);
  });

  it('refuses a missing file, a missing key, and a key of another organization with exit 2, writing nothing', async () => {
    const file = path.join(dir, 'tiny.csv');
    fs.writeFileSync(file, `${CSV_COLUMNS.join(',')}\n${csvLine(importRecord(0, { prefix: 'TINY', lines: 1, format: 'csv' }))}\n`);
    const before = await entries(s.insurer.id);
    expect(await run('--insurer', s.insurer.code, '--channel', s.bank.code, '--key-file', keyFile, path.join(dir, 'absent.csv'))).toMatchObject({ status: 2, err: expect.stringMatching(/^import: cannot read .*absent\.csv\n$/) });
    expect(await run('--insurer', s.insurer.code, '--channel', s.bank.code, file)).toMatchObject({ status: 2, err: 'import: no API key: set KEXIN_API_KEY or give --key-file PATH\n' });
    const other = await runWith({ KEXIN_API_KEY: s.bank.keys.SALES }, '--insurer', s.insurer.code, '--own-book', file);
    expect(other).toMatchObject({ status: 2, out: '' });
    expect(other.err).toMatch(new RegExp(`^import: the API key is a principal's of ${s.bank.code}, not of the insurer ${s.insurer.code}`));
    expect(await runWith({ KEXIN_API_KEY: 'kx_not-a-key' }, '--insurer', s.insurer.code, '--channel', s.bank.code, file)).toMatchObject({ status: 1, err: 'import: UNAUTHENTICATED: the API key is unknown or revoked\n' });
    expect(fs.existsSync(`${file}.rejects.csv`)).toBe(false);
    expect(await entries(s.insurer.id)).toEqual(before);
  });

  it('imports a generated CSV in chunks: counts by verdict, the rejects file, one log entry per chunk; a second run changes nothing', async () => {
    const options: ImportFileOptions = { prefix: 'CSV', lines: 430, format: 'csv', rejectEvery: 50, malformedEvery: 100 };
    const file = path.join(dir, 'day.csv');
    await writeImportFile(file, options);
    // Hand-made lines at the end: wrong column count, a number where a word belongs, bad beneficiaries JSON, a blank line.
    const extra = [
      'CSV-X1,LIFE-20Y,240',
      csvLine({ ...importRecord(900, options), termMonths: 'twenty' }),
      csvLine(importRecord(901, options)).replace(/"\[.*\]"$/, '"[{not json"'),
      '',
    ];
    fs.appendFileSync(file, extra.join('\n') + '\n');
    const want = expected(options);
    const sentRecords = options.lines - want.MALFORMED!;
    const chunks = Math.ceil(sentRecords / 100);

    const first = await run('--insurer', s.insurer.code, '--channel', s.bank.code, '--key-file', keyFile, '--chunk-size', '100', file);
    expect(first.status).toBe(0);
    expect(progressOnly(first.err)).toEqual([]);
    const f = figures(first.out);
    expect(f).toEqual({
      lines: 1 + options.lines + extra.length,
      sent: sentRecords,
      malformed: want.MALFORMED! + 3,
      chunks,
      written: chunks,
      replayed: 0,
      accepted: want.COMPLETE! + want.INCOMPLETE! + want.SUSPECT!,
      rejected: want.REJECTED! + want.MALFORMED! + 3,
      verdicts: { COMPLETE: want.COMPLETE, INCOMPLETE: want.INCOMPLETE, SUSPECT: want.SUSPECT },
      reasons: { MALFORMED_CSV: want.MALFORMED! + 1, TERM_TOO_SHORT: want.REJECTED, WRONG_TYPE: 1, MALFORMED_JSON: 1 },
    });
    expect(first.out).toMatch(/peak RSS \d+ MB/);
    // What was written is what the summary says, and nothing else.
    expect(await policies(s.insurer.id, 'CSV')).toEqual({ byStatus: { COMPLETE: want.COMPLETE, INCOMPLETE: want.INCOMPLETE, SUSPECT: want.SUSPECT }, maxVersion: 1 });
    expect(await entries(s.insurer.id)).toMatchObject({ 'submitSales/OK': chunks });

    const [header, ...rows] = parseCsv(fs.readFileSync(`${file}.rejects.csv`, 'utf8'));
    expect(header).toEqual(['line', 'policyNo', 'reasons']);
    const wantRows: string[][] = [];
    for (let i = 0; i < options.lines; i += 1) {
      const kind = expectedKind(i, options);
      if (kind === 'MALFORMED') wantRows.push([String(i + 2), `CSV-${i}`, 'MALFORMED_CSV']);
      if (kind === 'REJECTED') wantRows.push([String(i + 2), `CSV-${i}`, 'termMonths:TERM_TOO_SHORT']);
    }
    const at = options.lines + 2;
    wantRows.push([String(at), 'CSV-X1', 'MALFORMED_CSV'], [String(at + 1), 'CSV-900', 'termMonths:WRONG_TYPE'], [String(at + 2), 'CSV-901', 'beneficiaries:MALFORMED_JSON']);
    expect(rows).toEqual(wantRows);

    const log = await entries(s.insurer.id);
    const rejects = fs.readFileSync(`${file}.rejects.csv`, 'utf8');
    const again = await run('--insurer', s.insurer.code, '--channel', s.bank.code, '--key-file', keyFile, '--chunk-size', '100', file);
    expect(again.status).toBe(0);
    expect(figures(again.out)).toEqual({ ...f, written: 0, replayed: chunks });
    expect(await entries(s.insurer.id)).toEqual(log);
    expect(await policies(s.insurer.id, 'CSV')).toMatchObject({ maxVersion: 1 });
    expect(fs.readFileSync(`${file}.rejects.csv`, 'utf8')).toBe(rejects);
  });

  it('resumes an interrupted JSON Lines import: the done chunks replay, the rest are written once', async () => {
    const options: ImportFileOptions = { prefix: 'JL', lines: 260, format: 'jsonl', rejectEvery: 40, personBase: 10_000 };
    const file = path.join(dir, 'book.jsonl');
    await writeImportFile(file, options);
    const broken = [
      '{"policyNo": "JL-B1", "productCode": ',
      JSON.stringify({ ...importRecord(901, options), termMonths: '240' }),
      JSON.stringify({ ...importRecord(902, options), policyholder: 'someone' }),
      JSON.stringify({ ...importRecord(903, options), discount: 5 }),
      '[1, 2]',
    ];
    fs.appendFileSync(file, broken.join('\n') + '\n');
    const rejects = path.join(dir, 'book.rejects.csv');
    const want = expected(options);
    const argv = ['--insurer', s.insurer.code, '--channel', s.bank.code, '--key-file', keyFile, '--chunk-size', '50', '--rejects', rejects, file];
    const before = (await entries(s.insurer.id))['submitSales/OK'] ?? 0;

    const part = await run(...argv, '--max-chunks', '2');
    expect(part.status).toBe(0);
    expect(progressOnly(part.err)).toEqual([expect.stringMatching(/^import: stopped after 2 chunk\(s\) \(--max-chunks\)/)]);
    expect(figures(part.out)).toMatchObject({ chunks: 2, written: 2, replayed: 0, sent: 100 });
    expect((await entries(s.insurer.id))['submitSales/OK']).toBe(before + 2);

    const rest = await run(...argv);
    expect(rest.status).toBe(0);
    const chunks = Math.ceil(options.lines / 50);
    expect(figures(rest.out)).toEqual({
      lines: options.lines + broken.length,
      sent: options.lines,
      malformed: broken.length,
      chunks,
      written: chunks - 2,
      replayed: 2,
      accepted: want.COMPLETE! + want.INCOMPLETE! + want.SUSPECT!,
      rejected: want.REJECTED! + broken.length,
      verdicts: { COMPLETE: want.COMPLETE, INCOMPLETE: want.INCOMPLETE, SUSPECT: want.SUSPECT },
      reasons: { TERM_TOO_SHORT: want.REJECTED, WRONG_TYPE: 3, MALFORMED_JSON: 1, UNKNOWN_FIELD: 1 },
    });
    expect((await entries(s.insurer.id))['submitSales/OK']).toBe(before + chunks);
    expect(await policies(s.insurer.id, 'JL')).toEqual({ byStatus: { COMPLETE: want.COMPLETE, INCOMPLETE: want.INCOMPLETE, SUSPECT: want.SUSPECT }, maxVersion: 1 });
    const rows = parseCsv(fs.readFileSync(rejects, 'utf8')).slice(-broken.length);
    const at = options.lines + 1;
    expect(rows).toEqual([
      [String(at), '', 'MALFORMED_JSON'],
      [String(at + 1), 'JL-901', 'termMonths:WRONG_TYPE'],
      [String(at + 2), 'JL-902', 'policyholder:WRONG_TYPE'],
      [String(at + 3), 'JL-903', 'discount:UNKNOWN_FIELD'],
      [String(at + 4), '', 'WRONG_TYPE'],
    ]);
  });

  it('resumes after the process is killed (SIGKILL) in the middle of an import: every chunk written exactly once', async () => {
    const cli = path.join(__dirname, '..', '..', 'dist', 'src', 'cli', 'import.js');
    if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` (npm test does it first)`);
    const seller = await createParty(app, 'BROKER', ['ADMIN', 'SALES'], { attested: true });
    await createAgreement(app, { insurerCode: s.insurer.code, partnerCode: seller.code, scopes: ['SUBMIT_SALES'], proposerKey: s.insurer.keys.ADMIN, signerKey: seller.keys.ADMIN });
    const options: ImportFileOptions = { prefix: 'KILL', lines: 300, format: 'csv', personBase: 40_000 };
    const file = path.join(dir, 'killed.csv');
    await writeImportFile(file, options);
    const argv = ['--insurer', s.insurer.code, '--channel', seller.code, '--chunk-size', '10', file];
    const chunks = options.lines / 10;
    const done = async () => {
      const rows: Array<{ n: number | string }> = await app.db.query('SELECT COUNT(*) AS n FROM sales_batch WHERE organization_id = ?', [seller.id]);
      return Number(rows[0]!.n);
    };

    const child = spawn(process.execPath, [cli, ...argv], { env: { ...env, KEXIN_API_KEY: seller.keys.SALES, PATH: process.env.PATH ?? '' }, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let finished = false;
    void exited.then(() => (finished = true));
    while (!finished && (await done()) < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const before = await done();
    expect(before).toBeGreaterThanOrEqual(3);
    expect(before).toBeLessThan(chunks);

    const resumed = await runWith({ KEXIN_API_KEY: seller.keys.SALES }, ...argv);
    expect(resumed.status).toBe(0);
    const want = expected(options);
    expect(figures(resumed.out)).toMatchObject({ chunks, written: chunks - before, replayed: before, accepted: options.lines, verdicts: { COMPLETE: want.COMPLETE, INCOMPLETE: want.INCOMPLETE, SUSPECT: want.SUSPECT } });
    expect(await done()).toBe(chunks);
    const log: Array<{ n: number | string }> = await app.db.query("SELECT COUNT(*) AS n FROM transfer_log WHERE actor_organization_id = ? AND operation = 'submitSales'", [seller.id]);
    expect(Number(log[0]!.n)).toBe(chunks);
    expect(await policies(s.insurer.id, 'KILL')).toEqual({ byStatus: { COMPLETE: want.COMPLETE, INCOMPLETE: want.INCOMPLETE, SUSPECT: want.SUSPECT }, maxVersion: 1 });
  });

  it("loads an insurer's own book (--own-book, the key from KEXIN_API_KEY) through writeOwnBook, once", async () => {
    const admin = await createPrincipal(app, s.insurer.code, ['ADMIN'], { attested: true });
    const options: ImportFileOptions = { prefix: 'OWN', lines: 120, format: 'csv', rejectEvery: 30, personBase: 20_000 };
    const file = path.join(dir, 'own.csv');
    await writeImportFile(file, options);
    const want = expected(options);
    const argv = ['--insurer', s.insurer.code, '--chunk-size', '50', file];
    const before = await entries(s.insurer.id);
    const first = await runWith({ KEXIN_API_KEY: admin.key }, ...argv);
    expect([first.status, progressOnly(first.err)]).toEqual([0, []]);
    expect(figures(first.out)).toMatchObject({ chunks: 3, written: 3, accepted: options.lines - want.REJECTED!, rejected: want.REJECTED, reasons: { TERM_TOO_SHORT: want.REJECTED } });
    const log = await entries(s.insurer.id);
    expect(log['writeOwnBook/OK']).toBe((before['writeOwnBook/OK'] ?? 0) + 3);
    const rows: Array<{ n: number | string }> = await app.db.query('SELECT COUNT(*) AS n FROM policy WHERE insurer_id = ? AND policy_no LIKE ? AND channel_id IS NULL', [s.insurer.id, 'OWN-%']);
    expect(Number(rows[0]!.n)).toBe(options.lines - want.REJECTED!);

    const again = await runWith({ KEXIN_API_KEY: admin.key }, ...argv);
    expect(figures(again.out)).toMatchObject({ chunks: 3, written: 0, replayed: 3, accepted: options.lines - want.REJECTED! });
    expect(await entries(s.insurer.id)).toEqual(log);
    expect(await policies(s.insurer.id, 'OWN')).toMatchObject({ maxVersion: 1 });
  });

  it('imports the example files of docs/import.md as the document says', async () => {
    const examples = path.join(__dirname, '..', '..', 'docs', 'examples');
    const second = await createParty(app, 'INSURER', ['ADMIN']);
    await createAgreement(app, { insurerCode: second.code, partnerCode: s.bank.code, scopes: ['SUBMIT_SALES'], proposerKey: second.keys.ADMIN, signerKey: s.bank.keys.ADMIN });
    for (const [insurer, name, malformed] of [[s.insurer.code, 'import-example.csv', 'MALFORMED_CSV'], [second.code, 'import-example.jsonl', 'WRONG_TYPE']] as const) {
      const rejects = path.join(dir, `${name}.rejects.csv`);
      const result = await run('--insurer', insurer, '--channel', s.bank.code, '--key-file', keyFile, '--rejects', rejects, path.join(examples, name));
      expect(result.status).toBe(0);
      expect(figures(result.out)).toMatchObject({ accepted: 2, verdicts: { COMPLETE: 1, INCOMPLETE: 1, SUSPECT: 0 }, rejected: 2, reasons: { TERM_TOO_SHORT: 1, [malformed]: 1 } });
      const first = name.endsWith('.csv') ? 2 : 1;
      expect(parseCsv(fs.readFileSync(rejects, 'utf8'))).toEqual([
        ['line', 'policyNo', 'reasons'],
        [String(first + 2), 'EX-1', 'termMonths:TERM_TOO_SHORT'],
        [String(first + 3), 'EX-BAD', malformed === 'MALFORMED_CSV' ? malformed : 'termMonths:WRONG_TYPE policyholder:WRONG_TYPE insured:WRONG_TYPE'],
      ]);
    }
  });

  it('stops with exit 1 when the service refuses (no agreement): the refusal is on the record as for submitSales, nothing written', async () => {
    const lonely = await createParty(app, 'BROKER', ['SALES'], { attested: true });
    const file = path.join(dir, 'lonely.csv');
    await writeImportFile(file, { prefix: 'LONE', lines: 5, format: 'csv' });
    const before = await entries(s.insurer.id);
    const result = await runWith({ KEXIN_API_KEY: lonely.keys.SALES }, '--insurer', s.insurer.code, '--channel', lonely.code, file);
    expect(result.status).toBe(1);
    expect(progressOnly(result.err).join('\n')).toMatch(/^import: stopped at chunk 1 \(lines 2-6; the chunks before it are written, run again to resume\): AGREEMENT_INACTIVE: No active data-sharing agreement/);
    expect(figures(result.out)).toMatchObject({ written: 0, accepted: 0 });
    expect(await entries(s.insurer.id)).toEqual({ ...before, 'submitSales/REFUSED': (before['submitSales/REFUSED'] ?? 0) + 1 });
    expect(await policies(s.insurer.id, 'LONE')).toEqual({ byStatus: {}, maxVersion: 0 });
  });

  it('writes plain progress lines to standard error when it is not a terminal, and never a key', async () => {
    const err: string[] = [];
    const io: Io = { out: () => undefined, err: (t) => err.push(t) };
    const other = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES'], { attested: true });
    await createAgreement(app, { insurerCode: s.insurer.code, partnerCode: other.code, scopes: ['SUBMIT_SALES'], proposerKey: s.insurer.keys.ADMIN, signerKey: other.keys.ADMIN });
    const file = path.join(dir, 'quiet.jsonl');
    await writeImportFile(file, { prefix: 'Q', lines: 30, format: 'jsonl', personBase: 30_000 });
    const status = await runImport(['--insurer', s.insurer.code, '--channel', other.code, '--chunk-size', '10', file], { ...env, KEXIN_API_KEY: other.keys.SALES }, io, { tty: false, plainEveryMs: 0 });
    expect(status).toBe(0);
    const lines = err.join('').split('\n').filter(Boolean);
    expect(lines).toEqual([
      expect.stringMatching(/^import: 10 records, \d+\.\d%, \d+ records\/s, ETA \d+ s$/),
      expect.stringMatching(/^import: 20 records, /),
      expect.stringMatching(/^import: 30 records, 100\.0%, /),
    ]);
    expect(err.join('')).not.toContain(other.keys.SALES);

    // On a terminal the bar (cli-progress, on process.stderr) replaces the plain lines.
    err.splice(0);
    const out: string[] = [];
    const bar = await runImport(['--insurer', s.insurer.code, '--channel', other.code, '--chunk-size', '10', file], { ...env, KEXIN_API_KEY: other.keys.SALES }, { out: (t) => out.push(t), err: (t) => err.push(t) }, { tty: true, plainEveryMs: 0 });
    expect([bar, err]).toEqual([0, []]);
    expect(figures(out.join(''))).toMatchObject({ chunks: 3, replayed: 3 });
  });
});
