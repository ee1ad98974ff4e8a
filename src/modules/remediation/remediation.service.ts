import { LONG_TERM_THRESHOLD_MONTHS, UNSOUND_CONTACT_FIELDS, unsoundContactIssues } from '../../domain/scope';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { newId, isId } from '../../db/ids';
import { inTransaction } from '../../db/transaction';
import { isIsoDate, todayInChina } from '../../domain/dates';
import type { RequestContext } from '../../graphql/context';
import { BadInputError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../../graphql/errors';
import type { GrantService } from '../agreement/grant.service';
import { OrganizationEntity } from '../organization/organization.entity';
import { normalizeCode, type OrganizationService } from '../organization/organization.service';
import { PrincipalEntity } from '../principal/principal.entity';
import { storedCompleteness } from '../policy/stored-completeness';
import { actorFields, type TransferLogWriter } from '../transfer-log/transfer-log.writer';
import { ALL_ROWS, campaignScope, mayStartRemediation, type CampaignScope } from './remediation.access';
import { RemediationCampaignEntity, RemediationItemEntity } from './remediation.entity';

/** The two fields the notice on historical policies is about. */
export const REMEDIATION_FIELDS = UNSOUND_CONTACT_FIELDS;
/** Remaining policy numbers listed per channel through GraphQL (the count is always complete; the report lists all). */
export const REMAINING_LIST_LIMIT = 500;

const SNAPSHOT_PAGE = 1000;
const INSERT_CHUNK = 500;

/**
 * "The policyholder's phone or address is unsound", in SQL on the policy
 * alias `p`: its stored issues (JSON of {field, code, message}, rewritten
 * with every change) hold an issue on `policyholder.phone` or
 * `policyholder.address`. Those fields only ever carry the codes the notice
 * is about: MISSING, PHONE_FORMAT (malformed), PHONE_SHARED (shared),
 * PHONE_IS_SALES_PERSON (a placeholder: the seller's own phone, a false
 * phone in the measures' practice) and ADDRESS_PLACEHOLDER (a placeholder or
 * too vague). Matching the quoted path keeps it independent of key order.
 * The snapshot and the live progress use this same predicate, so a flagged
 * policy counts as corrected exactly when its current record is sound.
 */
export const UNSOUND_SQL = `(${UNSOUND_CONTACT_FIELDS.map((field) => `p.issues LIKE '%${JSON.stringify(field)}%'`).join(' OR ')})`;

export interface ProgressRow {
  /** Null for policies sold directly. */
  channelId: string | null;
  /** Channel code, or null for DIRECT. */
  channelCode: string | null;
  channelName: string | null;
  /** Policies of this channel examined by the snapshot. */
  checked: number;
  flagged: number;
  corrected: number;
  remaining: number;
  /** Past the deadline: the remaining policy numbers (capped per channel when asked); before it: empty. */
  remainingPolicyNos: string[];
}

export interface CampaignView {
  campaign: RemediationCampaignEntity;
  insurer: Pick<OrganizationEntity, 'id' | 'code' | 'name'>;
  /** The day after the deadline has begun (in China). */
  pastDeadline: boolean;
  /** Policies examined for the snapshot, within the caller's rows. */
  checked: number;
  /** Per channel (code order, DIRECT last), within the caller's rows. */
  progress: ProgressRow[];
}

export interface ReasonCount {
  /** `field:CODE`, e.g. `policyholder.phone:PHONE_SHARED`. */
  reason: string;
  /** Flagged policies with this reason (a policy may have several). */
  count: number;
}

/** What the regulator's report says (src/cli/report.ts renders it). */
export interface CampaignReport extends CampaignView {
  /** 'YYYY-MM-DD' in China when the report was made. */
  today: string;
  startedBy: { name: string; organizationCode: string } | null;
  flagged: number;
  corrected: number;
  remaining: number;
  reasons: ReasonCount[];
}

interface ProgressQueryRow {
  campaignId: string;
  channelId: string | null;
  flagged: number | string;
  remaining: number | string | null;
}

/**
 * Clean-up of historical policies (DOMAIN.md "Historical policies", issue 5
 * item 3). `start` snapshots, in one transaction with its transfer-log
 * entry, the insurer's long-term policies applied for before a cut-off whose
 * policyholder phone or address is unsound ({@link UNSOUND_SQL}); the
 * progress (flagged / corrected / remaining per channel) is computed live
 * from the policies' current stored completeness with one aggregated query,
 * so a correction shows at once and nothing per item has to be kept in sync.
 * GraphQL and the report command (src/cli/report.ts) read through the same
 * {@link views} code, so their numbers agree.
 */
export class RemediationService {
  constructor(
    private readonly db: DataSource,
    private readonly organizations: OrganizationService,
    private readonly grants: GrantService,
    private readonly transferLog: TransferLogWriter,
  ) {}

  /**
   * startRemediation: the insurer's ADMIN or COMPLIANCE takes the snapshot.
   * `issuedBefore` may not be in the future and `deadline` must be after
   * today (both in China's calendar; BAD_USER_INPUT otherwise). Logged on the
   * insurer's chain as 'startRemediation' (no counterparty, no policy
   * numbers: the digest covers the snapshot's policy numbers). A refused
   * attempt (FORBIDDEN, BAD_USER_INPUT) changes nothing and is not recorded:
   * no customer data moved, and an outsider must not be able to write into
   * an insurer's chain by asking.
   */
  async start(ctx: RequestContext, insurerCode: string, issuedBefore: string, deadline: string): Promise<CampaignView> {
    const actor = ctx.actor;
    if (!actor) throw new UnauthenticatedError();
    const insurer = await this.organizations.findByCode(insurerCode);
    if (!insurer || insurer.kind !== 'INSURER' || !mayStartRemediation(actor, insurer.id)) {
      throw new ForbiddenError('Only the insurer\'s ADMIN or COMPLIANCE principals start a clean-up of its policies');
    }
    const today = todayInChina(ctx.now);
    if (!isIsoDate(issuedBefore)) throw new BadInputError('issuedBefore must be a calendar date YYYY-MM-DD', { field: 'issuedBefore' });
    if (!isIsoDate(deadline)) throw new BadInputError('deadline must be a calendar date YYYY-MM-DD', { field: 'deadline' });
    if (issuedBefore > today) throw new BadInputError('issuedBefore may not be in the future', { field: 'issuedBefore' });
    if (deadline <= today) throw new BadInputError('deadline must be after today', { field: 'deadline' });

    const campaign = await inTransaction(this.db, async (em) => {
      // The chain lock first: the only lock this transaction takes besides its own inserts.
      await this.transferLog.lockChain(em, insurer.id);
      const snapshot = await this.snapshot(em, insurer.id, issuedBefore);
      const row = em.getRepository(RemediationCampaignEntity).create({
        id: newId(),
        insurerId: insurer.id,
        issuedBefore,
        deadline,
        checked: snapshot.checked,
        flagged: snapshot.items.length,
        checkedByChannel: JSON.stringify(snapshot.checkedByChannel),
        createdBy: actor.principalId,
        createdAt: new Date(),
      });
      await em.createQueryBuilder().insert().into(RemediationCampaignEntity).values(row).execute();
      for (let i = 0; i < snapshot.items.length; i += INSERT_CHUNK) {
        const chunk = snapshot.items.slice(i, i + INSERT_CHUNK).map((item) => ({
          campaignId: row.id,
          policyId: item.policyId,
          insurerId: insurer.id,
          channelId: item.channelId,
          reasons: JSON.stringify(item.reasons),
        }));
        await em.createQueryBuilder().insert().into(RemediationItemEntity).values(chunk).execute();
      }
      await this.transferLog.append(em, {
        insurerId: insurer.id,
        operation: 'startRemediation',
        ...actorFields(ctx),
        counterpartyId: null,
        fields: [...REMEDIATION_FIELDS],
        change: {
          campaignId: row.id,
          issuedBefore,
          deadline,
          checked: snapshot.checked,
          flagged: snapshot.items.length,
          policyNos: snapshot.items.map((item) => item.policyNo).sort(),
        },
      });
      return row;
    });
    const [view] = await this.views([campaign], ALL_ROWS, { today, listLimit: REMAINING_LIST_LIMIT });
    return view!;
  }

  /** remediationCampaign: the campaign with the rows the caller may see, or null (unknown, or not the caller's to see). */
  async campaign(ctx: RequestContext, id: string): Promise<CampaignView | null> {
    if (!ctx.actor) throw new UnauthenticatedError();
    if (!isId(id)) return null;
    const campaign = await this.db.getRepository(RemediationCampaignEntity).findOneBy({ id });
    if (!campaign) return null;
    const scope = await this.scopeOf(ctx, campaign.insurerId);
    if (!scope) return null;
    const [view] = await this.views([campaign], scope, { today: todayInChina(ctx.now), listLimit: REMAINING_LIST_LIMIT });
    return view ?? null;
  }

  /**
   * remediationCampaigns: an insurer's campaigns, newest first, with the rows
   * the caller may see. Another insurer's principals: FORBIDDEN; a partner
   * without an ACTIVE agreement with the insurer: an empty list.
   */
  async campaigns(ctx: RequestContext, insurerCode: string): Promise<CampaignView[]> {
    const actor = ctx.actor;
    if (!actor) throw new UnauthenticatedError();
    const insurer = await ctx.loaders.organizationByCode.load(normalizeCode(insurerCode));
    if (actor.organizationKind === 'INSURER') {
      if (!insurer || !mayStartRemediation(actor, insurer.id)) throw new ForbiddenError('Only the insurer\'s ADMIN or COMPLIANCE principals see its campaigns');
    } else if (!insurer || insurer.kind !== 'INSURER') {
      throw new NotFoundError('Insurer');
    }
    const scope = await this.scopeOf(ctx, insurer.id);
    if (!scope) return [];
    const rows = await this.db.getRepository(RemediationCampaignEntity).find({ where: { insurerId: insurer.id }, order: { id: 'DESC' } });
    return this.views(rows, scope, { today: todayInChina(ctx.now), listLimit: REMAINING_LIST_LIMIT });
  }

  /**
   * The regulator's report of one campaign (the command line runs it with the
   * database's own rights): every channel, every remaining policy number past
   * the deadline, the reasons found. Null when there is no such campaign.
   */
  async report(campaignId: string, now: Date = new Date()): Promise<CampaignReport | null> {
    if (!isId(campaignId)) return null;
    const campaign = await this.db.getRepository(RemediationCampaignEntity).findOneBy({ id: campaignId });
    if (!campaign) return null;
    const today = todayInChina(now);
    const [view] = await this.views([campaign], ALL_ROWS, { today, listLimit: null });
    const principal = await this.db.getRepository(PrincipalEntity).findOneBy({ id: campaign.createdBy });
    const principalOrg = principal ? await this.db.getRepository(OrganizationEntity).findOneBy({ id: principal.organizationId }) : null;
    const reasonRows = (await this.db.query('SELECT i.reasons AS reasons, COUNT(*) AS n FROM remediation_item i WHERE i.campaign_id = ? GROUP BY i.reasons', [
      campaign.id,
    ])) as Array<{ reasons: string; n: number | string }>;
    const reasons = new Map<string, number>();
    for (const row of reasonRows) for (const reason of parseReasons(row.reasons)) reasons.set(reason, (reasons.get(reason) ?? 0) + Number(row.n));
    const progress = view!.progress;
    return {
      ...view!,
      today,
      startedBy: principal ? { name: principal.name, organizationCode: principalOrg?.code ?? '' } : null,
      flagged: sum(progress, 'flagged'),
      corrected: sum(progress, 'corrected'),
      remaining: sum(progress, 'remaining'),
      reasons: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1)),
    };
  }

  // ------------------------------------------------------------- helpers ---

  /** Which rows of `insurerId`'s campaigns the caller sees (null: none). */
  private async scopeOf(ctx: RequestContext, insurerId: string): Promise<CampaignScope | null> {
    const actor = ctx.actor!;
    const partner = actor.organizationKind === 'BROKER' || actor.organizationKind === 'BANK_CHANNEL';
    const grant = partner ? await this.grants.of(ctx, actor.organizationId, insurerId) : null;
    return campaignScope(actor, insurerId, grant);
  }

  /**
   * The snapshot: how many policies are in scope (per channel), and the
   * flagged ones with their reasons, read page by page inside the
   * transaction. Only non-COMPLETE policies can carry a policyholder issue,
   * so the candidates come through ix_policy_completeness.
   */
  private async snapshot(
    em: EntityManager,
    insurerId: string,
    issuedBefore: string,
  ): Promise<{ checked: number; checkedByChannel: Record<string, number>; items: Array<{ policyId: string; policyNo: string; channelId: string | null; reasons: string[] }> }> {
    const scope = 'p.insurer_id = ? AND p.term_months > ? AND p.application_date < ?';
    const counted = (await em.query(`SELECT p.channel_id AS channelId, COUNT(*) AS n FROM policy p WHERE ${scope} GROUP BY p.channel_id`, [
      insurerId,
      LONG_TERM_THRESHOLD_MONTHS,
      issuedBefore,
    ])) as Array<{ channelId: string | null; n: number | string }>;
    const checkedByChannel: Record<string, number> = {};
    for (const row of counted) checkedByChannel[row.channelId === null ? '' : String(row.channelId)] = Number(row.n);
    const items: Array<{ policyId: string; policyNo: string; channelId: string | null; reasons: string[] }> = [];
    let cursor = '';
    for (;;) {
      const rows = (await em.query(
        `SELECT p.id AS id, p.policy_no AS policyNo, p.channel_id AS channelId, p.completeness AS completeness, p.issues AS issues FROM policy p ` +
          `WHERE ${scope} AND p.completeness <> 'COMPLETE' AND ${UNSOUND_SQL} AND p.id > ? ORDER BY p.id LIMIT ${SNAPSHOT_PAGE}`,
        [insurerId, LONG_TERM_THRESHOLD_MONTHS, issuedBefore, cursor],
      )) as Array<{ id: string; policyNo: string; channelId: string | null; completeness: string; issues: string }>;
      for (const row of rows) {
        items.push({ policyId: String(row.id), policyNo: String(row.policyNo), channelId: row.channelId === null ? null : String(row.channelId), reasons: reasonsOf(row) });
      }
      if (rows.length < SNAPSHOT_PAGE) break;
      cursor = String(rows[rows.length - 1]!.id);
    }
    return { checked: Object.values(checkedByChannel).reduce((a, b) => a + b, 0), checkedByChannel, items };
  }

  /**
   * Campaigns as the caller sees them: per channel checked (from the
   * snapshot), flagged, corrected and remaining (one aggregated query over
   * all the campaigns, joining the items to the policies' current stored
   * issues) and, past the deadline, the remaining policy numbers (one more
   * query, at most `listLimit` per channel when given).
   */
  async views(campaigns: RemediationCampaignEntity[], scope: CampaignScope, options: { today: string; listLimit: number | null }): Promise<CampaignView[]> {
    if (campaigns.length === 0) return [];
    const ids = campaigns.map((c) => c.id);
    const marks = ids.map(() => '?').join(', ');
    const channelWhere = scope.all ? '' : ' AND i.channel_id = ?';
    const channelParams = scope.all ? [] : [scope.channelId];
    const counts = (await this.db.query(
      `SELECT i.campaign_id AS campaignId, i.channel_id AS channelId, COUNT(*) AS flagged, ` +
        `SUM(CASE WHEN p.id IS NULL OR ${UNSOUND_SQL} THEN 1 ELSE 0 END) AS remaining ` +
        `FROM remediation_item i LEFT JOIN policy p ON p.id = i.policy_id AND p.insurer_id = i.insurer_id ` +
        `WHERE i.campaign_id IN (${marks})${channelWhere} GROUP BY i.campaign_id, i.channel_id`,
      [...ids, ...channelParams],
    )) as ProgressQueryRow[];

    const past = campaigns.filter((c) => options.today > c.deadline).map((c) => c.id);
    const remainingNos = new Map<string, string[]>();
    if (past.length > 0) {
      const pastMarks = past.map(() => '?').join(', ');
      const inner =
        `SELECT i.campaign_id AS campaignId, i.channel_id AS channelId, p.policy_no AS policyNo` +
        (options.listLimit === null ? '' : ', ROW_NUMBER() OVER (PARTITION BY i.campaign_id, i.channel_id ORDER BY p.policy_no) AS rn') +
        ` FROM remediation_item i INNER JOIN policy p ON p.id = i.policy_id AND p.insurer_id = i.insurer_id` +
        ` WHERE i.campaign_id IN (${pastMarks})${channelWhere} AND ${UNSOUND_SQL}`;
      const sql =
        options.listLimit === null
          ? `${inner} ORDER BY p.policy_no`
          : `SELECT t.campaignId AS campaignId, t.channelId AS channelId, t.policyNo AS policyNo FROM (${inner}) t WHERE t.rn <= ? ORDER BY t.policyNo`;
      const params = options.listLimit === null ? [...past, ...channelParams] : [...past, ...channelParams, options.listLimit];
      const rows = (await this.db.query(sql, params)) as Array<{ campaignId: string; channelId: string | null; policyNo: string }>;
      for (const row of rows) {
        const key = progressKey(String(row.campaignId), row.channelId === null ? null : String(row.channelId));
        remainingNos.set(key, [...(remainingNos.get(key) ?? []), String(row.policyNo)]);
      }
    }

    const checkedOf = new Map(campaigns.map((c) => [c.id, parseCheckedByChannel(c.checkedByChannel)]));
    const channelIds = new Set<string>();
    for (const row of counts) if (row.channelId !== null) channelIds.add(String(row.channelId));
    for (const byChannel of checkedOf.values()) for (const id of Object.keys(byChannel)) if (id !== '') channelIds.add(id);
    const orgs = await this.orgsById([...channelIds, ...campaigns.map((c) => c.insurerId)]);

    return campaigns.map((campaign) => {
      const checkedByChannel = checkedOf.get(campaign.id)!;
      const rows = new Map<string, ProgressRow>();
      const rowFor = (channelId: string | null): ProgressRow => {
        const key = channelId ?? '';
        let row = rows.get(key);
        if (!row) {
          const org = channelId === null ? null : orgs.get(channelId);
          row = {
            channelId,
            channelCode: channelId === null ? null : (org?.code ?? channelId),
            channelName: channelId === null ? null : (org?.name ?? null),
            checked: checkedByChannel[key] ?? 0,
            flagged: 0,
            corrected: 0,
            remaining: 0,
            remainingPolicyNos: remainingNos.get(progressKey(campaign.id, channelId)) ?? [],
          };
          rows.set(key, row);
        }
        return row;
      };
      for (const key of Object.keys(checkedByChannel)) {
        const channelId = key === '' ? null : key;
        if (scope.all || channelId === scope.channelId) rowFor(channelId);
      }
      for (const count of counts.filter((c) => String(c.campaignId) === campaign.id)) {
        const row = rowFor(count.channelId === null ? null : String(count.channelId));
        row.flagged = Number(count.flagged);
        row.remaining = Number(count.remaining ?? 0);
        row.corrected = row.flagged - row.remaining;
      }
      const progress = [...rows.values()].sort(byChannelCode);
      const insurer = orgs.get(campaign.insurerId);
      return {
        campaign,
        insurer: { id: campaign.insurerId, code: insurer?.code ?? '', name: insurer?.name ?? '' },
        pastDeadline: options.today > campaign.deadline,
        checked: sum(progress, 'checked'),
        progress,
      };
    });
  }

  private async orgsById(ids: string[]): Promise<Map<string, OrganizationEntity>> {
    const wanted = [...new Set(ids)];
    if (wanted.length === 0) return new Map();
    const rows = await this.db.getRepository(OrganizationEntity).findBy({ id: In(wanted) });
    return new Map(rows.map((row) => [row.id, row]));
  }
}

function progressKey(campaignId: string, channelId: string | null): string {
  return `${campaignId}:${channelId ?? ''}`;
}

/** Channels in code order, policies sold directly last. */
function byChannelCode(a: ProgressRow, b: ProgressRow): number {
  if (a.channelCode === null) return b.channelCode === null ? 0 : 1;
  if (b.channelCode === null) return -1;
  return a.channelCode < b.channelCode ? -1 : a.channelCode > b.channelCode ? 1 : 0;
}

function sum<K extends 'checked' | 'flagged' | 'corrected' | 'remaining'>(rows: ProgressRow[], key: K): number {
  return rows.reduce((total, row) => total + row[key], 0);
}

/** `field:CODE` of every policyholder phone/address issue of a stored verdict, sorted, distinct. */
export function reasonsOf(row: { completeness: string; issues: string }): string[] {
  const reasons = unsoundContactIssues(storedCompleteness(row).issues).map((issue) => `${issue.field}:${issue.code}`);
  return [...new Set(reasons)].sort();
}

function parseReasons(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

function parseCheckedByChannel(text: string): Record<string, number> {
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, Number(v) || 0]));
  } catch {
    return {};
  }
}
