import { parseCsv } from '../../src/modules/summary/summary.csv';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { ADMIN_TOKEN, errorCode, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { adult, completeSeed, seedPolicies, type PersonSeed, type PolicySeed } from '../support/seed';

const SUMMARY = `query($insurerCode: String!, $groupBy: SummaryDimension!, $from: Date, $to: Date) {
  completenessSummary(insurerCode: $insurerCode, groupBy: $groupBy, from: $from, to: $to) {
    key total complete incomplete suspect missingByField { field count }
  }
}`;
const HOLDS = `query($insurerCode: String!, $channelCode: String) {
  commissionHolds(insurerCode: $insurerCode, channelCode: $channelCode) { channel { code } held incomplete suspect policyNos truncated }
}`;
const SUMMARY_CSV = `query($insurerCode: String!, $groupBy: SummaryDimension!, $from: Date, $to: Date) {
  exportCompletenessCsv(insurerCode: $insurerCode, groupBy: $groupBy, from: $from, to: $to)
}`;
const POLICIES_CSV = 'query($filter: PolicyFilter) { exportPoliciesCsv(filter: $filter) }';
const LIST = `query($filter: PolicyFilter) {
  policies(filter: $filter, first: 500) {
    totalCount
    edges { node { policyNo productCode applicationDate status insurer { code } channel { code } completeness { status missing } } }
  }
}`;

type Dimension = 'CHANNEL' | 'PRODUCT' | 'APPLICATION_MONTH';
const DIMENSIONS: Dimension[] = ['CHANNEL', 'PRODUCT', 'APPLICATION_MONTH'];

interface Bucket {
  key: string;
  total: number;
  complete: number;
  incomplete: number;
  suspect: number;
  missingByField: Array<{ field: string; count: number }>;
}
interface Node {
  policyNo: string;
  productCode: string;
  applicationDate: string;
  status: string;
  insurer: { code: string };
  channel: { code: string } | null;
  completeness: { status: 'COMPLETE' | 'INCOMPLETE' | 'SUSPECT'; missing: string[] };
}

/** What the summary must say, computed from the policies themselves (as the insurer lists them). */
function expectedBuckets(nodes: Node[], groupBy: Dimension): Bucket[] {
  const keyOf = (n: Node) => (groupBy === 'CHANNEL' ? (n.channel?.code ?? 'DIRECT') : groupBy === 'PRODUCT' ? n.productCode : n.applicationDate.slice(0, 7));
  const buckets = new Map<string, Bucket>();
  for (const n of nodes) {
    const key = keyOf(n);
    const b = buckets.get(key) ?? { key, total: 0, complete: 0, incomplete: 0, suspect: 0, missingByField: [] };
    b.total += 1;
    if (n.completeness.status === 'COMPLETE') b.complete += 1;
    if (n.completeness.status === 'INCOMPLETE') b.incomplete += 1;
    if (n.completeness.status === 'SUSPECT') b.suspect += 1;
    for (const field of n.completeness.missing) {
      const m = b.missingByField.find((x) => x.field === field);
      if (m) m.count += 1;
      else b.missingByField.push({ field, count: 1 });
    }
    buckets.set(key, b);
  }
  for (const b of buckets.values()) b.missingByField.sort((x, y) => y.count - x.count || (x.field < y.field ? -1 : 1));
  return [...buckets.values()].sort((x, y) => (x.key < y.key ? -1 : 1));
}

describe(`completeness at a glance: summary, commission holds, CSV exports (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let otherInsurer: Awaited<ReturnType<typeof createParty>>;
  let bank: Awaited<ReturnType<typeof createParty>>;
  let broker: Awaited<ReturnType<typeof createParty>>;
  let noGrantBroker: Awaited<ReturnType<typeof createParty>>;
  let regulator: Awaited<ReturnType<typeof createParty>>;
  let insurerNodes: Node[];
  const people: PersonSeed[] = [];

  const summary = async (key: string, insurerCode: string, groupBy: Dimension, range: { from?: string; to?: string } = {}) =>
    (await app.ok<{ completenessSummary: Bucket[] }>(key, SUMMARY, { insurerCode, groupBy, ...range })).completenessSummary;
  const logCount = async () => app.db.getRepository(TransferLogEntryEntity).countBy({ insurerId: insurer.id });

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'SERVICE', 'UNDERWRITER']);
    otherInsurer = await createParty(app, 'INSURER', ['ADMIN']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES']);
    broker = await createParty(app, 'BROKER', ['ADMIN']);
    noGrantBroker = await createParty(app, 'BROKER', ['ADMIN']);
    regulator = await createParty(app, 'REGULATOR', ['COMPLIANCE']);
    const agree = (partner: typeof bank, scopes: string[]) =>
      createAgreement(app, { insurerCode: insurer.code, partnerCode: partner.code, scopes, proposerKey: insurer.keys.ADMIN, signerKey: partner.keys.ADMIN });
    await agree(bank, ['SUBMIT_SALES', 'READ_POLICIES', 'READ_COMPLETENESS']);
    await agree(broker, ['READ_COMPLETENESS']);
    await agree(noGrantBroker, ['SUBMIT_SALES', 'READ_POLICIES']);

    const seed = (policyNo: string, channelId: string | null, productCode: string, applicationDate: string, overrides: Partial<PolicySeed> = {}): PolicySeed => {
      const s = completeSeed(insurer.id, policyNo, { channelId, productCode, applicationDate, ...overrides });
      people.push(s.policyholder, s.insured);
      return s;
    };
    const other = () => ({ insured: adult(), insuredRelationship: 'OTHER' as const });
    await seedPolicies(app, [
      seed('B-1', bank.id, 'LIFE-20Y', '2026-01-10'),
      seed('B-2', bank.id, 'LIFE-20Y', '2026-01-31', { policyholder: adult({ phone: null }), ...other() }),
      seed('B-3', bank.id, 'ANNUITY-10Y', '2026-02-01', { policyholder: adult({ idNumber: '110105198001011235' }), ...other() }),
      seed('B-4', bank.id, 'ANNUITY-10Y', '2026-02-15', { policyholder: adult({ phone: null, address: null }), ...other() }),
      seed('R-1', broker.id, 'LIFE-20Y', '2026-02-28', { policyholder: adult({ address: '不详' }), ...other() }),
      seed('R-2', broker.id, 'LIFE-20Y', '2026-03-01'),
      seed('R-3', broker.id, 'ANNUITY-10Y', '2026-03-31', { policyholder: adult({ name: null }), ...other() }),
      seed('D-1', null, 'LIFE-20Y', '2026-01-05'),
      seed('D-2', null, 'HEALTH-5Y', '2026-03-10', { insuredRelationship: null, insured: adult() }),
      seed('N-1', noGrantBroker.id, 'LIFE-20Y', '2026-02-10', { policyholder: adult({ phone: '12345' }), ...other() }),
    ]);
    await seedPolicies(app, [completeSeed(otherInsurer.id, 'O-1', { channelId: bank.id, policyholder: adult({ phone: null }), insured: adult(), insuredRelationship: 'OTHER' })]);
    insurerNodes = (await app.ok<{ policies: { edges: Array<{ node: Node }> } }>(insurer.keys.ADMIN, LIST, {})).policies.edges.map((e) => e.node);
  });
  afterAll(() => app.close());

  it('the seeded book covers every status (so the checks below mean something)', () => {
    expect(insurerNodes).toHaveLength(10);
    const statuses = new Set(insurerNodes.map((n) => n.completeness.status));
    expect([...statuses].sort()).toEqual(['COMPLETE', 'INCOMPLETE', 'SUSPECT']);
  });

  it.each(DIMENSIONS)('the insurer: totals equal its policies, complete + incomplete + suspect = total, missingByField right (%s)', async (groupBy) => {
    const buckets = await summary(insurer.keys.SERVICE, insurer.code, groupBy);
    expect(buckets.reduce((n, b) => n + b.total, 0)).toBe(insurerNodes.length);
    for (const b of buckets) expect(b.complete + b.incomplete + b.suspect).toBe(b.total);
    expect(buckets).toEqual(expectedBuckets(insurerNodes, groupBy));
  });

  it('bucket keys: channel codes and DIRECT, product codes, YYYY-MM months', async () => {
    expect((await summary(insurer.keys.ADMIN, insurer.code, 'CHANNEL')).map((b) => b.key)).toEqual([bank.code, broker.code, noGrantBroker.code, 'DIRECT'].sort());
    expect((await summary(insurer.keys.ADMIN, insurer.code, 'PRODUCT')).map((b) => b.key)).toEqual(['ANNUITY-10Y', 'HEALTH-5Y', 'LIFE-20Y']);
    expect((await summary(insurer.keys.ADMIN, insurer.code, 'APPLICATION_MONTH')).map((b) => b.key)).toEqual(['2026-01', '2026-02', '2026-03']);
    const bankBucket = (await summary(insurer.keys.ADMIN, insurer.code, 'CHANNEL')).find((b) => b.key === bank.code)!;
    expect(bankBucket).toEqual({
      key: bank.code,
      total: 4,
      complete: 1,
      incomplete: 2,
      suspect: 1,
      missingByField: [
        { field: 'policyholder.phone', count: 2 },
        { field: 'policyholder.address', count: 1 },
      ],
    });
  });

  it('from/to filter the application date, both ends inclusive; from after to is BAD_USER_INPUT', async () => {
    const inFeb = insurerNodes.filter((n) => n.applicationDate >= '2026-02-01' && n.applicationDate <= '2026-02-28');
    expect(inFeb.map((n) => n.policyNo).sort()).toEqual(['B-3', 'B-4', 'N-1', 'R-1']);
    for (const groupBy of DIMENSIONS) {
      expect(await summary(insurer.keys.ADMIN, insurer.code, groupBy, { from: '2026-02-01', to: '2026-02-28' })).toEqual(expectedBuckets(inFeb, groupBy));
    }
    const fromMarch = insurerNodes.filter((n) => n.applicationDate >= '2026-03-01');
    expect(await summary(insurer.keys.ADMIN, insurer.code, 'CHANNEL', { from: '2026-03-01' })).toEqual(expectedBuckets(fromMarch, 'CHANNEL'));
    const toJan = insurerNodes.filter((n) => n.applicationDate <= '2026-01-31');
    expect(await summary(insurer.keys.ADMIN, insurer.code, 'PRODUCT', { to: '2026-01-31' })).toEqual(expectedBuckets(toJan, 'PRODUCT'));
    expect(await summary(insurer.keys.ADMIN, insurer.code, 'PRODUCT', { from: '2030-01-01' })).toEqual([]);
    const bad = await app.gql(insurer.keys.ADMIN, SUMMARY, { insurerCode: insurer.code, groupBy: 'CHANNEL', from: '2026-03-01', to: '2026-02-01' });
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    expect(errorCode(await app.gql(insurer.keys.ADMIN, SUMMARY, { insurerCode: insurer.code, groupBy: 'CHANNEL', from: '2026-02-30' }))).toBe('BAD_USER_INPUT');
  });

  it.each(DIMENSIONS)('a partner with READ_COMPLETENESS sees only the buckets of its own book (%s)', async (groupBy) => {
    const bankNodes = insurerNodes.filter((n) => n.channel?.code === bank.code);
    const bankSees = await summary(bank.keys.SALES, insurer.code, groupBy);
    expect(bankSees).toEqual(expectedBuckets(bankNodes, groupBy));
    // The same as the bank's own policy list says.
    const listed = (await app.ok<{ policies: { edges: Array<{ node: Node }> } }>(bank.keys.SALES, LIST, { filter: { insurerCode: insurer.code } })).policies.edges.map((e) => e.node);
    expect(bankSees.reduce((n, b) => n + b.total, 0)).toBe(listed.length);
    const brokerNodes = insurerNodes.filter((n) => n.channel?.code === broker.code);
    expect(await summary(broker.keys.ADMIN, insurer.code, groupBy)).toEqual(expectedBuckets(brokerNodes, groupBy));
  });

  it('a partner without READ_COMPLETENESS is refused with AGREEMENT_INACTIVE, with no data and nothing logged', async () => {
    const before = await logCount();
    for (const query of [SUMMARY, SUMMARY_CSV]) {
      const result = await app.gql(noGrantBroker.keys.ADMIN, query, { insurerCode: insurer.code, groupBy: 'CHANNEL' });
      expect(errorCode(result)).toBe('AGREEMENT_INACTIVE');
      expect(result.data).toBeNull();
    }
    const holds = await app.gql(noGrantBroker.keys.ADMIN, HOLDS, { insurerCode: insurer.code });
    expect(errorCode(holds)).toBe('AGREEMENT_INACTIVE');
    // A partner without any agreement with that insurer: the same answer.
    expect(errorCode(await app.gql(bank.keys.ADMIN, SUMMARY, { insurerCode: otherInsurer.code, groupBy: 'CHANNEL' }))).toBe('AGREEMENT_INACTIVE');
    expect(await logCount()).toBe(before);
  });

  it.each(DIMENSIONS)('the regulator sees any insurer\'s summary, the same as the insurer (%s)', async (groupBy) => {
    expect(await summary(regulator.keys.COMPLIANCE, insurer.code, groupBy)).toEqual(await summary(insurer.keys.ADMIN, insurer.code, groupBy));
    const other = await summary(regulator.keys.COMPLIANCE, otherInsurer.code, groupBy);
    expect(other.reduce((n, b) => n + b.total, 0)).toBe(1);
  });

  it('refusals: another insurer FORBIDDEN, the exchange FORBIDDEN, unknown insurer NOT_FOUND for the regulator, anonymous UNAUTHENTICATED', async () => {
    const vars = { insurerCode: insurer.code, groupBy: 'CHANNEL' };
    for (const query of [SUMMARY, SUMMARY_CSV, HOLDS]) {
      expect(errorCode(await app.gql(otherInsurer.keys.ADMIN, query, vars))).toBe('FORBIDDEN');
      expect(errorCode(await app.gql(otherInsurer.keys.ADMIN, query, { ...vars, insurerCode: 'NO_SUCH_CODE' }))).toBe('FORBIDDEN');
      expect(errorCode(await app.gql(ADMIN_TOKEN, query, vars))).toBe('FORBIDDEN');
      expect(errorCode(await app.gql(regulator.keys.COMPLIANCE, query, { ...vars, insurerCode: 'NO_SUCH_CODE' }))).toBe('NOT_FOUND');
      expect(errorCode(await app.gql(regulator.keys.COMPLIANCE, query, { ...vars, insurerCode: bank.code }))).toBe('BAD_USER_INPUT');
      const anonymous = await app.gql(null, query, vars);
      expect(errorCode(anonymous)).toBe('UNAUTHENTICATED');
      expect(anonymous.data).toBeNull();
    }
    for (const key of [null, ADMIN_TOKEN, regulator.keys.COMPLIANCE]) {
      const result = await app.gql(key, POLICIES_CSV, { filter: { insurerCode: insurer.code } });
      expect(errorCode(result)).toBe(key === null ? 'UNAUTHENTICATED' : 'FORBIDDEN');
      expect(result.data).toBeNull();
    }
  });

  it('commission holds: per channel the INCOMPLETE and SUSPECT policies, direct sales excluded; partners see their own', async () => {
    const expected = (nodes: Node[]) => {
      const byChannel = new Map<string, Node[]>();
      for (const n of nodes) if (n.channel && n.completeness.status !== 'COMPLETE') byChannel.set(n.channel.code, [...(byChannel.get(n.channel.code) ?? []), n]);
      return [...byChannel]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([code, held]) => ({
          channel: { code },
          held: held.length,
          incomplete: held.filter((n) => n.completeness.status === 'INCOMPLETE').length,
          suspect: held.filter((n) => n.completeness.status === 'SUSPECT').length,
          policyNos: held.map((n) => n.policyNo).sort(),
          truncated: false,
        }));
    };
    const holds = (await app.ok<{ commissionHolds: unknown[] }>(insurer.keys.ADMIN, HOLDS, { insurerCode: insurer.code })).commissionHolds;
    expect(holds).toEqual(expected(insurerNodes));
    expect(holds).toContainEqual({ channel: { code: bank.code }, held: 3, incomplete: 2, suspect: 1, policyNos: ['B-2', 'B-3', 'B-4'], truncated: false });
    expect((await app.ok<{ commissionHolds: unknown[] }>(insurer.keys.ADMIN, HOLDS, { insurerCode: insurer.code, channelCode: broker.code })).commissionHolds).toEqual(
      expected(insurerNodes.filter((n) => n.channel?.code === broker.code)),
    );
    expect((await app.ok<{ commissionHolds: unknown[] }>(bank.keys.SALES, HOLDS, { insurerCode: insurer.code })).commissionHolds).toEqual(
      expected(insurerNodes.filter((n) => n.channel?.code === bank.code)),
    );
    // A partner naming another channel gets nothing of it.
    expect((await app.ok<{ commissionHolds: unknown[] }>(bank.keys.SALES, HOLDS, { insurerCode: insurer.code, channelCode: broker.code })).commissionHolds).toEqual([]);
    expect((await app.ok<{ commissionHolds: unknown[] }>(regulator.keys.COMPLIANCE, HOLDS, { insurerCode: insurer.code })).commissionHolds).toEqual(holds);
  });

  it('exportCompletenessCsv: the summary as CSV, one missing:<path> column per missing field', async () => {
    for (const groupBy of DIMENSIONS) {
      const buckets = await summary(insurer.keys.ADMIN, insurer.code, groupBy);
      const csv = (await app.ok<{ exportCompletenessCsv: string }>(insurer.keys.ADMIN, SUMMARY_CSV, { insurerCode: insurer.code, groupBy })).exportCompletenessCsv;
      const [header, ...rows] = parseCsv(csv);
      const fields = [...new Set(buckets.flatMap((b) => b.missingByField.map((m) => m.field)))].sort();
      expect(header).toEqual([{ CHANNEL: 'channel', PRODUCT: 'product', APPLICATION_MONTH: 'applicationMonth' }[groupBy], 'total', 'complete', 'incomplete', 'suspect', ...fields.map((f) => `missing:${f}`)]);
      expect(rows).toEqual(
        buckets.map((b) => [b.key, ...[b.total, b.complete, b.incomplete, b.suspect].map(String), ...fields.map((f) => String(b.missingByField.find((m) => m.field === f)?.count ?? 0))]),
      );
    }
    const bankCsv = (await app.ok<{ exportCompletenessCsv: string }>(bank.keys.ADMIN, SUMMARY_CSV, { insurerCode: insurer.code, groupBy: 'CHANNEL' })).exportCompletenessCsv;
    expect(parseCsv(bankCsv).slice(1).map((r) => r[0])).toEqual([bank.code]);
  });

  it('exportPoliciesCsv: exactly the policies the caller may list, no person data', async () => {
    const rowsOf = (nodes: Node[]) =>
      nodes.map((n) => [n.policyNo, n.insurer.code, n.channel?.code ?? 'DIRECT', n.productCode, n.applicationDate, n.status, n.completeness.status, n.completeness.missing.join(';')]);
    const header = ['policyNo', 'insurer', 'channel', 'product', 'applicationDate', 'status', 'completeness', 'missing'];
    const csv = (await app.ok<{ exportPoliciesCsv: string }>(insurer.keys.ADMIN, POLICIES_CSV, {})).exportPoliciesCsv;
    expect(parseCsv(csv)).toEqual([header, ...rowsOf(insurerNodes)]);
    for (const p of people) {
      for (const value of [p.name, p.phone, p.idNumber, p.address]) if (value) expect(csv).not.toContain(value);
    }

    const filter = { insurerCode: insurer.code, completeness: 'INCOMPLETE', missingField: 'policyholder.phone' };
    const filtered = (await app.ok<{ exportPoliciesCsv: string }>(insurer.keys.ADMIN, POLICIES_CSV, { filter })).exportPoliciesCsv;
    const listed = (await app.ok<{ policies: { edges: Array<{ node: Node }> } }>(insurer.keys.ADMIN, LIST, { filter })).policies.edges.map((e) => e.node);
    expect(listed.map((n) => n.policyNo).sort()).toEqual(['B-2', 'B-4']);
    expect(parseCsv(filtered)).toEqual([header, ...rowsOf(listed)]);

    const direct = (await app.ok<{ exportPoliciesCsv: string }>(insurer.keys.ADMIN, POLICIES_CSV, { filter: { channelCode: 'DIRECT' } })).exportPoliciesCsv;
    expect(parseCsv(direct).slice(1).map((r) => r[0]).sort()).toEqual(['D-1', 'D-2']);

    // The bank (READ_POLICIES) gets its own sales only; the broker without READ_POLICIES gets nothing, like policies().
    const bankCsv = (await app.ok<{ exportPoliciesCsv: string }>(bank.keys.SALES, POLICIES_CSV, {})).exportPoliciesCsv;
    const bankListed = (await app.ok<{ policies: { edges: Array<{ node: Node }> } }>(bank.keys.SALES, LIST, {})).policies.edges.map((e) => e.node);
    expect(bankListed.every((n) => n.channel?.code === bank.code)).toBe(true);
    expect(parseCsv(bankCsv)).toEqual([header, ...rowsOf(bankListed)]);
    expect(parseCsv((await app.ok<{ exportPoliciesCsv: string }>(broker.keys.ADMIN, POLICIES_CSV, {})).exportPoliciesCsv)).toEqual([header]);
    expect(parseCsv((await app.ok<{ exportPoliciesCsv: string }>(otherInsurer.keys.ADMIN, POLICIES_CSV, { filter: { insurerCode: insurer.code } })).exportPoliciesCsv)).toEqual([header]);
  });

  it('no response names a person: only codes, counts, dates and field paths', async () => {
    const text = JSON.stringify([
      await summary(insurer.keys.ADMIN, insurer.code, 'CHANNEL'),
      await summary(regulator.keys.COMPLIANCE, insurer.code, 'PRODUCT'),
      await app.ok(regulator.keys.COMPLIANCE, HOLDS, { insurerCode: insurer.code }),
      await app.ok(regulator.keys.COMPLIANCE, SUMMARY_CSV, { insurerCode: insurer.code, groupBy: 'APPLICATION_MONTH' }),
    ]);
    for (const p of people) for (const value of [p.name, p.phone, p.idNumber, p.address]) if (value) expect(text).not.toContain(value);
  });
});
