import fs from 'node:fs';
import path from 'node:path';
import { parseReportArgs, runReport } from '../../src/cli/report';
import { parseCsv } from '../../src/modules/summary/summary.csv';
import type { TestApp } from '../support/app';
import { expectNoDatabaseRefusal, expectUsageRefusal, runCaptured, startCliApp, stopCliApp } from '../support/cli';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { adult, seedPolicies } from '../support/seed';

const START = `mutation($insurerCode: String!, $issuedBefore: Date!, $deadline: Date!) {
  startRemediation(insurerCode: $insurerCode, issuedBefore: $issuedBefore, deadline: $deadline) {
    id checked progress { channel { code } checked flagged corrected remaining }
  }
}`;

/** `npm run report` against the same database a server writes to: the numbers are GraphQL's. */
describe(`report command line (${TEST_DB})`, () => {
  let app: TestApp;
  let dir: string;
  let env: Record<string, string>;
  let campaign: { id: string; checked: number; progress: Array<{ channel: { code: string } | null; checked: number; flagged: number; corrected: number; remaining: number }> };

  beforeAll(async () => {
    ({ app, dir, env } = await startCliApp('kexin-report-'));
    const insurer = await createParty(app, 'INSURER', ['ADMIN', 'COMPLIANCE']);
    const bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN']);
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
    const policy = (policyNo: string, channelId: string | null, phone: string | null) => ({
      insurerId: insurer.id,
      policyNo,
      channelId,
      applicationDate: '2025-03-01',
      policyholder: adult({ phone }),
      insured: adult(),
      insuredRelationship: 'OTHER' as const,
    });
    await seedPolicies(app, [policy('R-1', bank.id, null), policy('R-2', bank.id, '13800001111'), policy('R-3', null, '55'), policy('R-4', null, '13800002222')]);
    const deadline = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
    campaign = (await app.ok<{ startRemediation: typeof campaign }>(insurer.keys.COMPLIANCE, START, { insurerCode: insurer.code, issuedBefore: '2026-01-01', deadline })).startRemediation;
  });
  afterAll(() => stopCliApp(app, dir));

  const run = (...argv: string[]) => runCaptured(runReport, argv, env);

  it('parses its arguments', () => {
    expect(parseReportArgs(['--campaign', 'X', '--format', 'csv'])).toEqual({ campaign: 'X', format: 'csv', out: null });
    expect(parseReportArgs(['--campaign=X', '--format=MD', '--out', 'r.md'])).toEqual({ campaign: 'X', format: 'md', out: 'r.md' });
    expect(() => parseReportArgs(['--format', 'csv'])).toThrow(/--campaign/);
    expect(() => parseReportArgs(['--campaign', 'X', '--format', 'pdf'])).toThrow(/csv or md/);
    expect(() => parseReportArgs(['--campaign', 'X', '--format', 'csv', '--bogus'])).toThrow(/unknown argument/);
  });

  it('writes the CSV with the numbers GraphQL gives', async () => {
    expect(campaign.progress.map((p) => [p.channel?.code ?? null, p.checked, p.flagged, p.remaining])).toEqual([
      [expect.any(String), 2, 1, 1],
      [null, 2, 1, 1],
    ]);
    const { status, out, err } = await run('--campaign', campaign.id, '--format', 'csv');
    expect([status, err]).toEqual([0, '']);
    const [header, ...lines] = parseCsv(out);
    const at = (name: string) => header!.indexOf(name);
    const numbers = lines.map((l) => [l[at('channel')], ...['checked', 'flagged', 'corrected', 'remaining'].map((k) => Number(l[at(k)]))]);
    expect(numbers).toEqual([
      ...campaign.progress.map((p) => [p.channel?.code ?? 'DIRECT', p.checked, p.flagged, p.corrected, p.remaining]),
      ['TOTAL', campaign.checked, 2, 0, 2],
    ]);
  });

  it('writes the Markdown report to a file with --out', async () => {
    const file = path.join(dir, 'report.md');
    const { status, err } = await run('--campaign', campaign.id, '--format', 'md', '--out', file);
    expect(status).toBe(0);
    expect(err).toContain(file);
    const md = fs.readFileSync(file, 'utf8');
    expect(md).toContain('## 3. Results');
    expect(md).toContain('Checked **4**, problems found **2**');
  });

  it('answers 1 for an unknown campaign', async () => {
    expect((await run('--campaign', '0190a0b0-0000-7000-8000-000000000000', '--format', 'csv')).status).toBe(1);
  });

  it('--help prints the usage and writes nothing', async () => {
    const file = path.join(dir, 'help.md');
    const help = await run('--campaign', campaign.id, '--format', 'md', '--out', file, '--help');
    expect(help).toMatchObject({ status: 0, err: '' });
    expect(help.out).toMatch(/^usage: npm run report -- --campaign ID/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a bad flag, a missing argument or a bad value: one line, status 2, nothing written', async () => {
    const file = path.join(dir, 'refused.md');
    expectUsageRefusal(await run('--campaign', campaign.id, '--format', 'md', '--out', file, '--bogus'), /^report: unknown argument --bogus \(see: npm run report -- --help\)$/);
    expectUsageRefusal(await run('--format', 'csv', '--out', file), /^report: --campaign ID is required/);
    expectUsageRefusal(await run('--campaign', campaign.id, '--format'), /^report: --format needs a value/);
    expectUsageRefusal(await run('--campaign', campaign.id, '--format', 'pdf', '--out', file), /^report: --format must be csv or md/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('before the server created its database: says there is none and how to create it, and creates nothing', async () => {
    await expectNoDatabaseRefusal(runReport, ['--campaign', campaign.id, '--format', 'csv'], env, dir);
  });
});
