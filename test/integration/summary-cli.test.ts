import fs from 'node:fs';
import path from 'node:path';
import { parseExportArgs, runExport } from '../../src/cli/export';
import type { TestApp } from '../support/app';
import { expectNoDatabaseRefusal, expectUsageRefusal, runCaptured, startCliApp, stopCliApp } from '../support/cli';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { adult, completeSeed, seedPolicies, type PolicySeed } from '../support/seed';
import { recordStatements } from '../support/sql';

const SUMMARY = `query($insurerCode: String!, $groupBy: SummaryDimension!) {
  completenessSummary(insurerCode: $insurerCode, groupBy: $groupBy) { key total complete incomplete suspect missingByField { field count } }
}`;

/**
 * `npm run export` runs the same SummaryService code as the GraphQL exports
 * (so the CSVs are identical), and the summary is a constant number of
 * aggregated SQL statements whatever the size of the book.
 */
describe(`completeness exports on the command line; summary SQL (${TEST_DB})`, () => {
  let app: TestApp;
  let dir: string;
  let env: Record<string, string>;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let bank: Awaited<ReturnType<typeof createParty>>;
  let recorder: ReturnType<typeof recordStatements>;
  let serial = 0;

  const batch = (n: number): PolicySeed[] =>
    Array.from({ length: n }, () => {
      serial += 1;
      const kind = serial % 4;
      return completeSeed(insurer.id, `EX-${String(serial).padStart(4, '0')}`, {
        channelId: kind === 0 ? null : bank.id,
        productCode: kind % 2 ? 'LIFE-20Y' : 'ANNUITY-10Y',
        applicationDate: `2026-0${1 + (serial % 3)}-1${serial % 10}`,
        ...(kind === 1 ? { policyholder: adult({ phone: null }), insured: adult(), insuredRelationship: 'OTHER' as const } : {}),
        ...(kind === 2 ? { policyholder: adult({ address: 'n/a' }), insured: adult(), insuredRelationship: 'OTHER' as const } : {}),
      });
    });

  beforeAll(async () => {
    ({ app, dir, env } = await startCliApp('kexin-export-'));
    insurer = await createParty(app, 'INSURER', ['ADMIN']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN']);
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_COMPLETENESS'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
    await seedPolicies(app, batch(12));

    recorder = recordStatements(app.db);
  });
  afterAll(() => stopCliApp(app, dir));

  const run = (...argv: string[]) => runCaptured(runExport, argv, env);

  it('parses its arguments', () => {
    expect(parseExportArgs(['summary', '--insurer', 'A', '--group-by', 'product', '--from', '2026-01-01'])).toEqual({
      kind: 'summary',
      insurer: 'A',
      groupBy: 'PRODUCT',
      from: '2026-01-01',
      to: null,
      out: null,
    });
    expect(parseExportArgs(['policies', '--insurer=A', '--completeness', 'incomplete', '--channel', 'DIRECT'])).toEqual({
      kind: 'policies',
      insurer: 'A',
      out: null,
      filter: { channelCode: 'DIRECT', completeness: 'INCOMPLETE', status: null, missingField: null },
    });
    expect(parseExportArgs(['holds', '--insurer', 'A'])).toEqual({ kind: 'holds', insurer: 'A', channel: null, out: null });
    expect(() => parseExportArgs([])).toThrow(/say what to export/);
    expect(() => parseExportArgs(['summary', '--insurer', 'A'])).toThrow(/--group-by/);
    expect(() => parseExportArgs(['holds', '--insurer', 'A', '--group-by', 'CHANNEL'])).toThrow(/unknown argument/);
    expect(() => parseExportArgs(['everything'])).toThrow(/unknown export/);
    expect(() => parseExportArgs(['policies', '--insurer', 'A', '--completeness', 'BAD'])).toThrow(/--completeness must be COMPLETE, INCOMPLETE or SUSPECT/);
    expect(() => parseExportArgs(['policies', '--insurer', 'A', '--status', 'PAID'])).toThrow(/--status must be PENDING or UNDERWRITTEN/);
  });

  it('--help prints the usage and writes nothing', async () => {
    const file = path.join(dir, 'help.csv');
    for (const argv of [['--help'], ['policies', '--insurer', insurer.code, '--out', file, '-h']]) {
      const help = await run(...argv);
      expect(help).toMatchObject({ status: 0, err: '' });
      expect(help.out).toMatch(/^usage: npm run export -- summary/);
    }
    expect(fs.existsSync(file)).toBe(false);
  });

  it('no arguments, a bad flag, a missing argument or a bad value: one line, status 2, nothing written (no CSV header)', async () => {
    const file = path.join(dir, 'refused.csv');
    expectUsageRefusal(await run(), /^export: say what to export: summary, policies or holds \(see: npm run export -- --help\)$/);
    expectUsageRefusal(await run('holds', '--insurer', insurer.code, '--bogus'), /^export: unknown argument --bogus for holds/);
    expectUsageRefusal(await run('policies', '--out', file), /^export: --insurer CODE is required/);
    expectUsageRefusal(await run('policies', '--insurer', insurer.code, '--completeness', 'BAD'), /^export: --completeness must be/);
    expectUsageRefusal(await run('policies', '--insurer', insurer.code, '--completeness', 'BAD', '--out', file), /^export: --completeness must be/);
    expectUsageRefusal(await run('summary', '--insurer', insurer.code, '--group-by', 'COLOUR'), /^export: --group-by must be/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a policy export the service refuses writes nothing, not even the header', async () => {
    const file = path.join(dir, 'too-long.csv');
    const refused = await run('policies', '--insurer', insurer.code, '--missing-field', 'x'.repeat(65), '--out', file);
    expect(refused).toMatchObject({ status: 2, out: '' });
    expect(refused.err).toMatch(/^export: missingField is a field path/);
    expect(fs.existsSync(file)).toBe(false);
    expect(await run('policies', '--insurer', insurer.code, '--missing-field', 'x'.repeat(65))).toMatchObject({ status: 2, out: '' });
  });

  it('before the server created its database: says there is none and how to create it, and creates nothing', async () => {
    await expectNoDatabaseRefusal(runExport, ['holds', '--insurer', insurer.code], env, dir);
  });

  it.each(['CHANNEL', 'PRODUCT', 'APPLICATION_MONTH'])('summary CSV: the command line writes what exportCompletenessCsv answers (%s)', async (groupBy) => {
    const graphql = (await app.ok<{ exportCompletenessCsv: string }>(insurer.keys.ADMIN, 'query($c: String!, $g: SummaryDimension!) { exportCompletenessCsv(insurerCode: $c, groupBy: $g) }', { c: insurer.code, g: groupBy }))
      .exportCompletenessCsv;
    const cli = await run('summary', '--insurer', insurer.code, '--group-by', groupBy);
    expect(cli.status).toBe(0);
    expect(cli.out).toBe(graphql);
  });

  it('policies and holds CSV: the command line writes what exportPoliciesCsv and commissionHolds answer', async () => {
    const graphql = (await app.ok<{ exportPoliciesCsv: string }>(insurer.keys.ADMIN, 'query($f: PolicyFilter) { exportPoliciesCsv(filter: $f) }', { f: { completeness: 'INCOMPLETE' } })).exportPoliciesCsv;
    const file = path.join(dir, 'incomplete.csv');
    const cli = await run('policies', '--insurer', insurer.code, '--completeness', 'INCOMPLETE', '--out', file);
    expect(cli.status).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(graphql);
    expect(graphql.split('\r\n').length - 2).toBe(3);
    const all = await run('policies', '--insurer', insurer.code);
    expect(all.out.split('\r\n').length - 2).toBe(12);

    const holds = (await app.ok<{ commissionHolds: Array<{ channel: { code: string }; held: number; policyNos: string[] }> }>(insurer.keys.ADMIN, 'query($c: String!) { commissionHolds(insurerCode: $c) { channel { code } held policyNos } }', { c: insurer.code })).commissionHolds;
    const cliHolds = await run('holds', '--insurer', insurer.code);
    expect(cliHolds.out).toBe(
      `channel,held,incomplete,suspect,listed,policyNos\r\n${holds.map((h) => `${h.channel.code},${h.held},3,3,${h.policyNos.length},${h.policyNos.join(';')}`).join('\r\n')}\r\n`,
    );
  });

  it('refuses an unknown insurer or a bad date with status 2', async () => {
    expect((await run('summary', '--insurer', 'NO_SUCH', '--group-by', 'CHANNEL')).status).toBe(2);
    expect((await run('summary', '--insurer', insurer.code, '--group-by', 'CHANNEL', '--from', '2026-13-01')).status).toBe(2);
  });

  it('the summary is a constant number of aggregated statements, whatever the size of the book', async () => {
    const measure = async (groupBy: string) => {
      recorder.reset();
      const data = await app.ok<{ completenessSummary: Array<{ total: number }> }>(bank.keys.ADMIN, SUMMARY, { insurerCode: insurer.code, groupBy });
      const sql = [...recorder.statements];
      return { sql, total: data.completenessSummary.reduce((n, b) => n + b.total, 0) };
    };
    for (const groupBy of ['CHANNEL', 'PRODUCT', 'APPLICATION_MONTH']) {
      const small = await measure(groupBy);
      await seedPolicies(app, batch(24));
      const large = await measure(groupBy);
      expect(large.total).toBe(small.total + 18);
      expect(large.sql.length).toBe(small.sql.length);
      expect(large.sql.length).toBeLessThanOrEqual(6);
      expect(large.sql.filter((q) => /GROUP BY/i.test(q))).toHaveLength(2);
      // Nothing reads a person.
      expect(large.sql.filter((q) => /\bperson\b/i.test(q))).toEqual([]);
    }
  });
});
