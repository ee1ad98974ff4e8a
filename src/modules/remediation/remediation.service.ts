import type { DataSource, EntityManager } from 'typeorm';
import { newId, isId } from '../../db/ids';
import { decodeCursor, pageSize, type IdPage } from '../../graphql/pagination';

import { isIsoDate, todayInChina } from '../../domain/dates';
import { UNSOUND_CONTACT_FIELDS, unsoundContactIssues } from '../../domain/scope';
import type { Actor } from '../../auth/actor';
import type { RequestContext } from '../../graphql/context';
import { BadInputError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../../graphql/errors';
import type { GrantService } from '../agreement/grant.service';
import type { OrganizationEntity } from '../organization/organization.entity';
import { normalizeCode } from '../../domain/organization-codes';
import type { OrganizationService } from '../organization/organization.service';
import { storedCompleteness } from '../policy/stored-completeness';
import type { TransferLogWriter } from '../transfer-log/transfer-log.writer';
import { isPartner } from '../agreement/agreement.access';
import { logActor } from '../../auth/actor';
import { ALL_ROWS, campaignScope, mayStartRemediation, type CampaignScope } from './remediation.access';
import { RemediationCampaignEntity } from './remediation.entity';
import {
  campaignById,
  campaignPageOf,
  campaignsOf,
  countInScope,
  insertCampaign,
  parseCheckedByChannel,
  principalWithOrganization,
  progressCounts,
  reasonCounts,
  remainingPolicyNos,
  unsoundPolicyPage,
  type SnapshotItem,
} from './remediation.queries';
import { organizationsById } from '../organization/organization.queries';

/** The cursor tag of `remediationCampaignsConnection` pages. */
export const CAMPAIGN_CURSOR = 'campaign';

/** The two fields the notice on historical policies is about. */
export const REMEDIATION_FIELDS = UNSOUND_CONTACT_FIELDS;
/** Remaining policy numbers listed per channel through GraphQL (the count is always complete; the report lists all). */
export const REMAINING_LIST_LIMIT = 500;

const SNAPSHOT_PAGE = 1000;

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

/**
 * Clean-up of historical policies (DOMAIN.md "Historical policies", issue 5
 * item 3). `start` snapshots, in one transaction with its transfer-log
 * entry, the insurer's long-term policies applied for before a cut-off whose
 * policyholder phone or address is unsound (`UNSOUND_SQL`, remediation.queries.ts); the
 * progress (flagged / corrected / remaining per channel) is computed live
 * from the policies' current stored completeness with one aggregated query,
 * so a correction shows at once and nothing per item has to be kept in sync.
 * GraphQL and the report command (src/cli/report.ts) read through the same
 * {@link views} code, so their numbers agree. The SQL is in
 * remediation.queries.ts, the report's rendering in remediation.report.ts:
 * this class decides who sees which rows and composes.
 */
export class RemediationService {
  constructor(
    private readonly db: DataSource,
    private readonly organizations: OrganizationService,
    private readonly grants: GrantService,
    private readonly transferLog: Pick<TransferLogWriter, 'append' | 'writeOnChain'>,
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
    if (!insurer || insurer.kind !== 'INSURER') throw notStarter();
    assertMayStart(actor, insurer.id);
    const today = todayInChina(ctx.now);
    if (!isIsoDate(issuedBefore)) throw new BadInputError('issuedBefore must be a calendar date YYYY-MM-DD', { field: 'issuedBefore' });
    if (!isIsoDate(deadline)) throw new BadInputError('deadline must be a calendar date YYYY-MM-DD', { field: 'deadline' });
    if (issuedBefore > today) throw new BadInputError('issuedBefore may not be in the future', { field: 'issuedBefore' });
    if (deadline <= today) throw new BadInputError('deadline must be after today', { field: 'deadline' });

    const campaign = await this.transferLog.writeOnChain(
      insurer.id,
      async (em) => {
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
        await insertCampaign(em, row, snapshot.items);
        await this.transferLog.append(em, {
          insurerId: insurer.id,
          operation: 'startRemediation',
          ...logActor(actor),
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
      },
      // The same predicate under the chain lock; a refusal stays off the chain (see above).
      { refuseOn: async () => assertMayStart(actor, insurer.id), refusal: null },
    );
    const [view] = await this.views([campaign], ALL_ROWS, { today, listLimit: REMAINING_LIST_LIMIT });
    return view!;
  }

  /** remediationCampaign: the campaign with the rows the caller may see, or null (unknown, or not the caller's to see). */
  async campaign(ctx: RequestContext, id: string): Promise<CampaignView | null> {
    if (!ctx.actor) throw new UnauthenticatedError();
    if (!isId(id)) return null;
    const campaign = await campaignById(this.db, id);
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
    const readable = await this.readableCampaigns(ctx, insurerCode);
    if (!readable) return [];
    const rows = await campaignsOf(this.db, readable.insurerId);
    return this.views(rows, readable.scope, { today: todayInChina(ctx.now), listLimit: REMAINING_LIST_LIMIT });
  }

  /**
   * {@link campaigns} as a Relay page (issue 12): the same refusals and rows,
   * newest first, keyset on the campaign id.
   */
  async campaignPage(ctx: RequestContext, insurerCode: string, args: { first?: number | null; after?: string | null }): Promise<IdPage<CampaignView>> {
    const first = pageSize(args.first);
    const after = decodeCursor(CAMPAIGN_CURSOR, args.after, isId);
    const readable = await this.readableCampaigns(ctx, insurerCode);
    if (!readable) return { rows: [], hasNextPage: false };
    const page = await campaignPageOf(this.db, readable.insurerId, after, first);
    return { rows: await this.views(page.rows, readable.scope, { today: todayInChina(ctx.now), listLimit: REMAINING_LIST_LIMIT }), hasNextPage: page.hasNextPage };
  }

  /** Whose campaigns `insurerCode` names and which of their rows the caller sees (null: none); FORBIDDEN / NOT_FOUND as {@link campaigns}. */
  private async readableCampaigns(ctx: RequestContext, insurerCode: string): Promise<{ insurerId: string; scope: CampaignScope } | null> {
    const actor = ctx.actor;
    if (!actor) throw new UnauthenticatedError();
    const insurer = await ctx.loaders.organizationByCode.load(normalizeCode(insurerCode));
    if (actor.organizationKind === 'INSURER') {
      if (!insurer || !mayStartRemediation(actor, insurer.id)) throw new ForbiddenError('Only the insurer\'s ADMIN or COMPLIANCE principals see its campaigns');
    } else if (!insurer || insurer.kind !== 'INSURER') {
      throw new NotFoundError('Insurer');
    }
    const scope = await this.scopeOf(ctx, insurer.id);
    return scope ? { insurerId: insurer.id, scope } : null;
  }

  /**
   * The regulator's report of one campaign (the command line runs it with the
   * database's own rights): every channel, every remaining policy number past
   * the deadline, the reasons found. Null when there is no such campaign.
   */
  async report(campaignId: string, now: Date = new Date()): Promise<CampaignReport | null> {
    if (!isId(campaignId)) return null;
    const campaign = await campaignById(this.db, campaignId);
    if (!campaign) return null;
    const today = todayInChina(now);
    const [view] = await this.views([campaign], ALL_ROWS, { today, listLimit: null });
    const reasons = await reasonCounts(this.db, campaign.id);
    const progress = view!.progress;
    return {
      ...view!,
      today,
      startedBy: await principalWithOrganization(this.db, campaign.createdBy),
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
    const grant = isPartner(actor) ? await this.grants.of(ctx, actor.organizationId, insurerId) : null;
    return campaignScope(actor, insurerId, grant);
  }

  /**
   * The snapshot: how many policies are in scope (per channel), and the
   * flagged ones with their reasons, read page by page inside the
   * transaction.
   */
  private async snapshot(em: EntityManager, insurerId: string, issuedBefore: string): Promise<{ checked: number; checkedByChannel: Record<string, number>; items: SnapshotItem[] }> {
    const checkedByChannel = await countInScope(em, insurerId, issuedBefore);
    const items: SnapshotItem[] = [];
    let cursor = '';
    for (;;) {
      const rows = await unsoundPolicyPage(em, insurerId, issuedBefore, cursor, SNAPSHOT_PAGE);
      for (const row of rows) items.push({ policyId: row.id, policyNo: row.policyNo, channelId: row.channelId, reasons: reasonsOf(row) });
      if (rows.length < SNAPSHOT_PAGE) break;
      cursor = rows[rows.length - 1]!.id;
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
    const counts = await progressCounts(this.db, campaigns.map((c) => c.id), scope);
    const past = campaigns.filter((c) => options.today > c.deadline).map((c) => c.id);
    const remainingNos = new Map<string, string[]>();
    for (const row of past.length > 0 ? await remainingPolicyNos(this.db, past, scope, options.listLimit) : []) {
      const key = progressKey(row.campaignId, row.channelId);
      remainingNos.set(key, [...(remainingNos.get(key) ?? []), row.policyNo]);
    }

    const checkedOf = new Map(campaigns.map((c) => [c.id, parseCheckedByChannel(c.checkedByChannel)]));
    const channelIds = new Set<string>();
    for (const row of counts) if (row.channelId !== null) channelIds.add(row.channelId);
    for (const byChannel of checkedOf.values()) for (const id of Object.keys(byChannel)) if (id !== '') channelIds.add(id);
    const orgs = await organizationsById(this.db, [...channelIds, ...campaigns.map((c) => c.insurerId)]);

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
      for (const count of counts.filter((c) => c.campaignId === campaign.id)) {
        const row = rowFor(count.channelId);
        row.flagged = count.flagged;
        row.remaining = count.remaining;
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
}

function notStarter(): ForbiddenError {
  return new ForbiddenError('Only the insurer\'s ADMIN or COMPLIANCE principals start a clean-up of its policies');
}

/** startRemediation's right (remediation.access.ts), checked before the snapshot and again under the chain lock. */
function assertMayStart(actor: Actor, insurerId: string): void {
  if (!mayStartRemediation(actor, insurerId)) throw notStarter();
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
