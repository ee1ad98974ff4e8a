import { produceReport } from '../../src/cli/report';
import { inTransaction } from '../../src/db/transaction';
import { assessCompleteness, type CompletenessContext } from '../../src/domain/completeness';
import { todayInChina } from '../../src/domain/dates';
import { PolicyEntity, PolicyMissingFieldEntity } from '../../src/modules/policy/policy.entity';
import { ALL_ROWS } from '../../src/modules/remediation/remediation.access';
import { RemediationCampaignEntity, RemediationItemEntity } from '../../src/modules/remediation/remediation.entity';
import { parseCsv } from '../../src/modules/summary/summary.csv';
import { changeDigest } from '../../src/modules/transfer-log/transfer-log.chain';
import { ADMIN_TOKEN, errorCode, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { adult, seedPolicies, type PersonSeed, type PolicySeed } from '../support/seed';
import { loggedEntries } from '../support/log';

const CAMPAIGN_FIELDS = `id insurer { code } issuedBefore deadline createdAt pastDeadline checked
  progress { channel { code } checked flagged corrected remaining remainingPolicyNos }`;
const START = `mutation($insurerCode: String!, $issuedBefore: Date!, $deadline: Date!) {
  startRemediation(insurerCode: $insurerCode, issuedBefore: $issuedBefore, deadline: $deadline) { ${CAMPAIGN_FIELDS} }
}`;
const ONE = `query($id: ID!) { remediationCampaign(id: $id) { ${CAMPAIGN_FIELDS} } }`;
const LIST = `query($insurerCode: String!) { remediationCampaigns(insurerCode: $insurerCode) { ${CAMPAIGN_FIELDS} } }`;

interface Progress {
  channel: { code: string } | null;
  checked: number;
  flagged: number;
  corrected: number;
  remaining: number;
  remainingPolicyNos: string[];
}
interface Campaign {
  id: string;
  insurer: { code: string };
  issuedBefore: string;
  deadline: string;
  createdAt: string;
  pastDeadline: boolean;
  checked: number;
  progress: Progress[];
}

const ISSUED_BEFORE = '2026-01-01';
const OLD = '2025-06-01';

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

describe(`historical clean-up: startRemediation, remediationCampaign(s), the report (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let otherInsurer: Awaited<ReturnType<typeof createParty>>;
  let bank: Awaited<ReturnType<typeof createParty>>;
  let broker: Awaited<ReturnType<typeof createParty>>;
  let strayBroker: Awaited<ReturnType<typeof createParty>>;
  let regulator: Awaited<ReturnType<typeof createParty>>;
  let today: string;
  let deadline: string;
  let campaign: Campaign;
  const seeds = new Map<string, PolicySeed>();
  const people: PersonSeed[] = [];

  /** Rewrites a policy's stored verdict the way a write path does (status, issues, missing rows) for the record as it now is. */
  async function restamp(policyNo: string, change: Partial<PolicySeed>, context: CompletenessContext = {}): Promise<void> {
    const seed = { ...seeds.get(policyNo)!, ...change };
    seeds.set(policyNo, seed);
    const verdict = assessCompleteness(
      { policyholder: seed.policyholder, insured: seed.insured, insuredRelationship: seed.insuredRelationship ?? null, applicationDate: seed.applicationDate ?? null },
      { today, ...context },
    );
    await inTransaction(app.db, async (em) => {
      const policy = await em.getRepository(PolicyEntity).findOneByOrFail({ insurerId: seed.insurerId, policyNo });
      await em.getRepository(PolicyEntity).update({ id: policy.id }, { completeness: verdict.status, issues: JSON.stringify(verdict.issues), version: policy.version + 1, updatedAt: new Date() });
      await em.getRepository(PolicyMissingFieldEntity).delete({ policyId: policy.id });
      for (const field of verdict.missing) await em.getRepository(PolicyMissingFieldEntity).insert({ policyId: policy.id, field, insurerId: seed.insurerId });
    });
  }

  const startVars = (overrides: Record<string, unknown> = {}) => ({ insurerCode: insurer.code, issuedBefore: ISSUED_BEFORE, deadline, ...overrides });
  const logEntries = () => loggedEntries(app.db, { where: { insurerId: insurer.id, operation: 'startRemediation' } });
  const campaignCount = () => app.db.getRepository(RemediationCampaignEntity).count();
  const row = (c: Campaign, code: string | null) => c.progress.find((p) => (p.channel?.code ?? null) === code);
  const read = async (key: string, id: string) => (await app.ok<{ remediationCampaign: Campaign | null }>(key, ONE, { id })).remediationCampaign;

  beforeAll(async () => {
    app = await startTestApp();
    today = todayInChina();
    deadline = addDays(today, 30);
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'COMPLIANCE', 'SERVICE']);
    otherInsurer = await createParty(app, 'INSURER', ['ADMIN', 'COMPLIANCE']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SERVICE', 'SALES']);
    broker = await createParty(app, 'BROKER', ['ADMIN', 'COMPLIANCE']);
    strayBroker = await createParty(app, 'BROKER', ['ADMIN']);
    regulator = await createParty(app, 'REGULATOR', ['COMPLIANCE']);
    // Any ACTIVE agreement lets a partner follow its own book; strayBroker has none (its proposal is never signed).
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES', 'CORRECT_RECORDS'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['READ_COMPLETENESS'], proposerKey: insurer.keys.ADMIN, signerKey: broker.keys.ADMIN });
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: strayBroker.code, scopes: ['READ_COMPLETENESS'], proposerKey: insurer.keys.ADMIN });

    const add = (policyNo: string, channelId: string | null, holder: PersonSeed, overrides: Partial<PolicySeed> = {}) => {
      const seed: PolicySeed = { insurerId: insurer.id, policyNo, channelId, applicationDate: OLD, termMonths: 240, policyholder: holder, insured: adult(), insuredRelationship: 'OTHER', ...overrides };
      people.push(seed.policyholder, seed.insured);
      seeds.set(policyNo, seed);
      return seed;
    };
    await seedPolicies(app, [
      add('BK-OK', bank.id, adult()),
      add('BK-NOPHONE', bank.id, adult({ phone: null })),
      add('BK-BADPHONE', bank.id, adult({ phone: '12345' })),
      add('BK-BADID', bank.id, adult({ idNumber: '110105198001011235' })),
      add('BK-INSURED-GAP', bank.id, adult(), { insured: adult({ name: null }) }),
      add('BR-PLACEHOLDER', broker.id, adult({ address: '不详' })),
      add('BR-SHARED', broker.id, adult()),
      add('DI-SELLER', null, adult()),
      add('DI-NOADDR', null, adult({ address: null })),
      add('DI-OK', null, adult()),
      add('SB-NOPHONE', strayBroker.id, adult({ phone: null })),
      // Out of scope: applied for on or after the cut-off, or short-term.
      add('BK-NEW-NOPHONE', bank.id, adult({ phone: null }), { applicationDate: '2026-06-01' }),
      add('BK-CUTOFF-NOPHONE', bank.id, adult({ phone: null }), { applicationDate: ISSUED_BEFORE }),
      add('BK-SHORT-NOPHONE', bank.id, adult({ phone: null })),
    ]);
    // Every writer refuses a term of one year or less: a short-term row can only be legacy data, so it is made from a policy written whole.
    await app.db.getRepository(PolicyEntity).update({ insurerId: insurer.id, policyNo: 'BK-SHORT-NOPHONE' }, { termMonths: 12 });
    // Signals that need other records: a phone shared by 3 ID numbers, the seller's own phone.
    await restamp('BR-SHARED', {}, { phoneSharedCount: 3 });
    await restamp('DI-SELLER', {}, { salesPersonPhone: seeds.get('DI-SELLER')!.policyholder.phone });
    await seedPolicies(app, [{ insurerId: otherInsurer.id, policyNo: 'OT-NOPHONE', channelId: bank.id, applicationDate: OLD, policyholder: adult({ phone: null }), insured: adult(), insuredRelationship: 'OTHER' }]);
  });
  afterAll(() => app.close());

  describe('startRemediation', () => {
    it('is refused for bad dates with BAD_USER_INPUT, storing and logging nothing', async () => {
      const cases = [
        startVars({ deadline: today }),
        startVars({ deadline: addDays(today, -1) }),
        startVars({ issuedBefore: addDays(today, 1) }),
        startVars({ deadline: '2026-02-30' }),
      ];
      for (const vars of cases) {
        const result = await app.gql(insurer.keys.COMPLIANCE, START, vars);
        expect(errorCode(result)).toBe('BAD_USER_INPUT');
        expect(result.data?.startRemediation ?? null).toBeNull();
      }
      expect(await campaignCount()).toBe(0);
      expect(await logEntries()).toEqual([]);
    });

    it('is refused to everyone but the insurer\'s own ADMIN or COMPLIANCE, storing and logging nothing', async () => {
      const refusals: Array<[string | null, string]> = [
        [null, 'UNAUTHENTICATED'],
        [insurer.keys.SERVICE, 'FORBIDDEN'],
        [otherInsurer.keys.ADMIN, 'FORBIDDEN'],
        [otherInsurer.keys.COMPLIANCE, 'FORBIDDEN'],
        [bank.keys.ADMIN, 'FORBIDDEN'],
        [broker.keys.COMPLIANCE, 'FORBIDDEN'],
        [regulator.keys.COMPLIANCE, 'FORBIDDEN'],
        [ADMIN_TOKEN, 'FORBIDDEN'],
      ];
      for (const [key, code] of refusals) {
        const result = await app.gql(key, START, startVars());
        expect([key === null ? 'anonymous' : key.slice(0, 6), errorCode(result)]).toEqual([key === null ? 'anonymous' : key.slice(0, 6), code]);
        expect(result.data).toBeNull();
      }
      expect(await campaignCount()).toBe(0);
      expect(await logEntries()).toEqual([]);
    });

    it('flags exactly the long-term policies applied for before the cut-off whose policyholder phone or address is unsound', async () => {
      campaign = (await app.ok<{ startRemediation: Campaign }>(insurer.keys.COMPLIANCE, START, startVars())).startRemediation;
      expect(campaign).toMatchObject({ insurer: { code: insurer.code }, issuedBefore: ISSUED_BEFORE, deadline, pastDeadline: false, checked: 11 });

      const items = await app.db.getRepository(RemediationItemEntity).findBy({ campaignId: campaign.id });
      const policies = await app.db.getRepository(PolicyEntity).findBy({ insurerId: insurer.id });
      const noOf = new Map(policies.map((p) => [p.id, p.policyNo]));
      const flagged = Object.fromEntries(items.map((i) => [noOf.get(i.policyId), JSON.parse(i.reasons)]));
      expect(flagged).toEqual({
        'BK-NOPHONE': ['policyholder.phone:MISSING'],
        'BK-BADPHONE': ['policyholder.phone:PHONE_FORMAT'],
        'BR-PLACEHOLDER': ['policyholder.address:ADDRESS_PLACEHOLDER'],
        'BR-SHARED': ['policyholder.phone:PHONE_SHARED'],
        'DI-SELLER': ['policyholder.phone:PHONE_IS_SALES_PERSON'],
        'DI-NOADDR': ['policyholder.address:MISSING'],
        'SB-NOPHONE': ['policyholder.phone:MISSING'],
      });
      expect(items.every((i) => i.insurerId === insurer.id)).toBe(true);

      const expected = [
        { channel: { code: bank.code }, checked: 5, flagged: 2, corrected: 0, remaining: 2, remainingPolicyNos: [] },
        { channel: { code: broker.code }, checked: 2, flagged: 2, corrected: 0, remaining: 2, remainingPolicyNos: [] },
        { channel: { code: strayBroker.code }, checked: 1, flagged: 1, corrected: 0, remaining: 1, remainingPolicyNos: [] },
      ].sort((a, b) => (a.channel.code < b.channel.code ? -1 : 1));
      expect(campaign.progress).toEqual([...expected, { channel: null, checked: 3, flagged: 2, corrected: 0, remaining: 2, remainingPolicyNos: [] }]);
    });

    it('is logged once on the insurer\'s chain: no counterparty, no policy numbers, the digest of the snapshot', async () => {
      const [entry, ...more] = await logEntries();
      expect(more).toEqual([]);
      expect(entry).toMatchObject({ outcome: 'OK', counterpartyId: null, agreementId: null, actorOrganizationId: insurer.id, actorPrincipalId: insurer.principalIds.COMPLIANCE });
      expect(entry!.policyNos).toEqual([]);
      expect(JSON.parse(entry!.fields)).toEqual(['policyholder.phone', 'policyholder.address']);
      const policyNos = ['BK-NOPHONE', 'BK-BADPHONE', 'BR-PLACEHOLDER', 'BR-SHARED', 'DI-SELLER', 'DI-NOADDR', 'SB-NOPHONE'].sort();
      expect(entry!.digest).toBe(changeDigest({ campaignId: campaign.id, issuedBefore: ISSUED_BEFORE, deadline, checked: 11, flagged: 7, policyNos }));
      const verified = await app.ok<{ verifyTransferLog: { valid: boolean } }>(regulator.keys.COMPLIANCE, 'query($c: String!) { verifyTransferLog(insurerCode: $c) { valid } }', { c: insurer.code });
      expect(verified.verifyTransferLog.valid).toBe(true);
    });
  });

  describe('remediationCampaign', () => {
    it('the insurer\'s ADMIN and COMPLIANCE and the regulator see every row; the same numbers as at the start', async () => {
      expect(await read(insurer.keys.ADMIN, campaign.id)).toEqual(campaign);
      expect(await read(regulator.keys.COMPLIANCE, campaign.id)).toEqual(campaign);
    });

    it('a partner under an ACTIVE agreement sees only the rows of its own book', async () => {
      for (const key of [bank.keys.SERVICE, bank.keys.ADMIN]) {
        const seen = await read(key, campaign.id);
        expect(seen!.progress).toEqual([row(campaign, bank.code)]);
        expect(seen!.checked).toBe(5);
      }
      expect((await read(broker.keys.COMPLIANCE, campaign.id))!.progress).toEqual([row(campaign, broker.code)]);
    });

    it('others get null (no agreement, another insurer, unknown id) or FORBIDDEN (roles that never see campaigns), anonymous UNAUTHENTICATED', async () => {
      expect(await read(strayBroker.keys.ADMIN, campaign.id)).toBeNull();
      expect(await read(otherInsurer.keys.ADMIN, campaign.id)).toBeNull();
      expect(await read(insurer.keys.ADMIN, '0190a0b0-0000-7000-8000-000000000000')).toBeNull();
      expect(await read(insurer.keys.ADMIN, 'not-an-id')).toBeNull();
      for (const [key, code] of [
        [insurer.keys.SERVICE, 'FORBIDDEN'],
        [bank.keys.SALES, 'FORBIDDEN'],
        [ADMIN_TOKEN, 'FORBIDDEN'],
        [null, 'UNAUTHENTICATED'],
      ] as const) {
        const result = await app.gql(key, ONE, { id: campaign.id });
        expect(errorCode(result)).toBe(code);
        expect(result.data?.remediationCampaign ?? null).toBeNull();
      }
    });

    it('remediationCampaigns lists an insurer\'s campaigns newest first, scoped like remediationCampaign', async () => {
      const second = (await app.ok<{ startRemediation: Campaign }>(insurer.keys.ADMIN, START, startVars({ issuedBefore: '2025-01-01' }))).startRemediation;
      expect(second).toMatchObject({ checked: 0, progress: [] });
      const list = (await app.ok<{ remediationCampaigns: Campaign[] }>(insurer.keys.COMPLIANCE, LIST, { insurerCode: insurer.code })).remediationCampaigns;
      expect(list.map((c) => c.id)).toEqual([second.id, campaign.id]);
      expect(list[1]).toEqual(campaign);
      expect((await app.ok<{ remediationCampaigns: Campaign[] }>(regulator.keys.COMPLIANCE, LIST, { insurerCode: insurer.code })).remediationCampaigns).toEqual(list);
      const bankList = (await app.ok<{ remediationCampaigns: Campaign[] }>(bank.keys.SERVICE, LIST, { insurerCode: insurer.code })).remediationCampaigns;
      expect(bankList.map((c) => c.progress)).toEqual([[], [row(campaign, bank.code)]]);
      expect((await app.ok<{ remediationCampaigns: Campaign[] }>(strayBroker.keys.ADMIN, LIST, { insurerCode: insurer.code })).remediationCampaigns).toEqual([]);
      expect((await app.ok<{ remediationCampaigns: Campaign[] }>(otherInsurer.keys.ADMIN, LIST, { insurerCode: otherInsurer.code })).remediationCampaigns).toEqual([]);
      expect(errorCode(await app.gql(otherInsurer.keys.ADMIN, LIST, { insurerCode: insurer.code }))).toBe('FORBIDDEN');
      expect(errorCode(await app.gql(regulator.keys.COMPLIANCE, LIST, { insurerCode: 'NO_SUCH_CODE' }))).toBe('NOT_FOUND');
      expect(errorCode(await app.gql(null, LIST, { insurerCode: insurer.code }))).toBe('UNAUTHENTICATED');
      expect(errorCode(await app.gql(insurer.keys.SERVICE, LIST, { insurerCode: insurer.code }))).toBe('FORBIDDEN');
    });
  });

  describe('progress is live', () => {
    it('correcting a policy\'s phone moves it from remaining to corrected; an unsound one again moves it back', async () => {
      const holder = seeds.get('BK-NOPHONE')!.policyholder;
      await restamp('BK-NOPHONE', { policyholder: { ...holder, phone: '13912345678' } });
      let now = (await read(insurer.keys.ADMIN, campaign.id))!;
      expect(row(now, bank.code)).toMatchObject({ flagged: 2, corrected: 1, remaining: 1 });
      expect(row(now, broker.code)).toMatchObject({ flagged: 2, corrected: 0, remaining: 2 });
      expect((await read(bank.keys.SERVICE, campaign.id))!.progress).toEqual([row(now, bank.code)]);

      // Fixing another problem of the policyholder (here the ID number) does not count: only phone and address do.
      const badId = seeds.get('BK-BADPHONE')!.policyholder;
      await restamp('BK-BADPHONE', { policyholder: { ...badId, idNumber: '110105198001011235' } });
      expect(row((await read(insurer.keys.ADMIN, campaign.id))!, bank.code)).toMatchObject({ corrected: 1, remaining: 1 });

      // The placeholder address fixed: corrected; then a placeholder written again: remaining again.
      const placeholder = seeds.get('BR-PLACEHOLDER')!.policyholder;
      await restamp('BR-PLACEHOLDER', { policyholder: { ...placeholder, address: '上海市浦东新区测试大道88号' } });
      expect(row((await read(insurer.keys.ADMIN, campaign.id))!, broker.code)).toMatchObject({ corrected: 1, remaining: 1 });
      await restamp('BR-PLACEHOLDER', { policyholder: { ...placeholder, address: '无' } });
      now = (await read(insurer.keys.ADMIN, campaign.id))!;
      expect(row(now, broker.code)).toMatchObject({ corrected: 0, remaining: 2 });
      // Policies that were sound at the snapshot never join it, whatever happens to them since.
      await restamp('BK-OK', { policyholder: { ...seeds.get('BK-OK')!.policyholder, phone: null } });
      expect(row((await read(insurer.keys.ADMIN, campaign.id))!, bank.code)).toMatchObject({ flagged: 2, checked: 5 });
    });

    it('past the deadline, what remains is listed per channel (a partner sees its own list)', async () => {
      const before = (await read(insurer.keys.ADMIN, campaign.id))!;
      expect(before.progress.every((p) => p.remainingPolicyNos.length === 0)).toBe(true);
      // Time passes: the deadline is moved into the past (startRemediation refuses a past deadline).
      await app.db.getRepository(RemediationCampaignEntity).update({ id: campaign.id }, { deadline: addDays(today, -1) });
      const after = (await read(insurer.keys.ADMIN, campaign.id))!;
      expect(after.pastDeadline).toBe(true);
      const lists = Object.fromEntries(after.progress.map((p) => [p.channel?.code ?? 'DIRECT', p.remainingPolicyNos]));
      expect(lists).toEqual({
        [bank.code]: ['BK-BADPHONE'],
        [broker.code]: ['BR-PLACEHOLDER', 'BR-SHARED'],
        [strayBroker.code]: ['SB-NOPHONE'],
        DIRECT: ['DI-NOADDR', 'DI-SELLER'],
      });
      for (const p of after.progress) expect(p.remainingPolicyNos).toHaveLength(p.remaining);
      expect((await read(bank.keys.SERVICE, campaign.id))!.progress).toEqual([row(after, bank.code)]);
      // GraphQL lists at most REMAINING_LIST_LIMIT per channel (the report lists all): the cap is per channel, in policy-number order.
      const entity = await app.db.getRepository(RemediationCampaignEntity).findOneByOrFail({ id: campaign.id });
      const [capped] = await app.services.remediation.views([entity], ALL_ROWS, { today, listLimit: 1 });
      const brokerRow = capped!.progress.find((p) => p.channelCode === broker.code)!;
      expect([brokerRow.remaining, brokerRow.remainingPolicyNos]).toEqual([2, ['BR-PLACEHOLDER']]);
    });
  });

  describe('the report', () => {
    it('its CSV matches the GraphQL numbers, channel by channel and in total', async () => {
      const seen = (await read(regulator.keys.COMPLIANCE, campaign.id))!;
      const csv = await produceReport(app.services, campaign.id, 'csv');
      const [header, ...lines] = parseCsv(csv!);
      expect(header).toEqual(['campaign', 'insurer', 'issuedBefore', 'deadline', 'pastDeadline', 'channel', 'checked', 'flagged', 'corrected', 'remaining', 'remainingPolicyNos']);
      const expectedLines = seen.progress.map((p) => [
        campaign.id,
        insurer.code,
        ISSUED_BEFORE,
        seen.deadline,
        'true',
        p.channel?.code ?? 'DIRECT',
        ...[p.checked, p.flagged, p.corrected, p.remaining].map(String),
        p.remainingPolicyNos.join(';'),
      ]);
      const total = (k: 'checked' | 'flagged' | 'corrected' | 'remaining') => String(seen.progress.reduce((n, p) => n + p[k], 0));
      expect(lines).toEqual([
        ...expectedLines,
        [campaign.id, insurer.code, ISSUED_BEFORE, seen.deadline, 'true', 'TOTAL', total('checked'), total('flagged'), total('corrected'), total('remaining'), seen.progress.flatMap((p) => p.remainingPolicyNos).join(';')],
      ]);
      expect(total('checked')).toBe(String(seen.checked));
    });

    it('its Markdown has the five headings with the numbers filled in, and no person\'s data', async () => {
      const md = (await produceReport(app.services, campaign.id, 'md'))!;
      for (const heading of ['## 1. Organisation of the work', '## 2. Method', '## 3. Results', '## 4. What remains', '## 5. Next steps']) expect(md).toContain(heading);
      expect(md).toContain('**11** policies checked');
      expect(md).toContain('Checked **11**, problems found **7**');
      expect(md).toContain(`| ${bank.code} | 5 | 2 | 1 | 1 |`);
      expect(md).toContain('`BR-PLACEHOLDER`');
      expect(md).toContain('policyholder phone shared by policyholders of 3 or more ID numbers | 1 |');
      const csv = (await produceReport(app.services, campaign.id, 'csv'))!;
      for (const p of people) for (const value of [p.name, p.phone, p.idNumber, p.address]) if (value) {
        expect(md).not.toContain(value);
        expect(csv).not.toContain(value);
      }
      expect(await produceReport(app.services, '0190a0b0-0000-7000-8000-000000000000', 'md')).toBeNull();
    });
  });
});
