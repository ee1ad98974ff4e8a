/**
 * The SQL of clean-up campaigns: the snapshot's reads and inserts, the live
 * progress joined to the policies' current stored issues, the remaining
 * policy numbers, the report's reason counts and the parties named. Every
 * function takes the database (or the transaction's manager) and plain
 * parameters, and checks nothing: RemediationService authorizes first.
 */
import { pageById } from '../../db/keyset';
import type { DataSource, EntityManager } from 'typeorm';
import { LONG_TERM_THRESHOLD_MONTHS, UNSOUND_CONTACT_FIELDS } from '../../domain/scope';
import { OrganizationEntity } from '../organization/organization.entity';
import { PrincipalEntity } from '../principal/principal.entity';
import type { CampaignScope } from './remediation.access';
import { RemediationCampaignEntity, RemediationItemEntity } from './remediation.entity';

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

/** The policies of a campaign's scope: an insurer's long-term policies applied for before the cut-off. */
const IN_SCOPE = 'p.insurer_id = ? AND p.term_months > ? AND p.application_date < ?';

/** A flagged policy as the snapshot reads it. */
export interface UnsoundPolicyRow {
  id: string;
  policyNo: string;
  channelId: string | null;
  completeness: string;
  issues: string;
}

/** One flagged policy of a snapshot, as stored in `remediation_item`. */
export interface SnapshotItem {
  policyId: string;
  policyNo: string;
  channelId: string | null;
  reasons: string[];
}

/** Flagged and still-unsound items of one campaign and channel (the live progress). */
export interface ProgressCountRow {
  campaignId: string;
  channelId: string | null;
  flagged: number;
  remaining: number;
}

/** Policies in scope per channel ('' for those sold directly): the snapshot's `checked`. */
export async function countInScope(em: EntityManager, insurerId: string, issuedBefore: string): Promise<Record<string, number>> {
  const counted = (await em.query(`SELECT p.channel_id AS channelId, COUNT(*) AS n FROM policy p WHERE ${IN_SCOPE} GROUP BY p.channel_id`, [
    insurerId,
    LONG_TERM_THRESHOLD_MONTHS,
    issuedBefore,
  ])) as Array<{ channelId: string | null; n: number | string }>;
  const byChannel: Record<string, number> = {};
  for (const row of counted) byChannel[row.channelId === null ? '' : String(row.channelId)] = Number(row.n);
  return byChannel;
}

/**
 * One page (ids after `afterId`, in id order) of the policies in scope whose
 * policyholder contact is unsound. Only non-COMPLETE policies can carry a
 * policyholder issue, so the candidates come through ix_policy_completeness.
 */
export async function unsoundPolicyPage(em: EntityManager, insurerId: string, issuedBefore: string, afterId: string, size: number): Promise<UnsoundPolicyRow[]> {
  const rows = (await em.query(
    `SELECT p.id AS id, p.policy_no AS policyNo, p.channel_id AS channelId, p.completeness AS completeness, p.issues AS issues FROM policy p ` +
      `WHERE ${IN_SCOPE} AND p.completeness <> 'COMPLETE' AND ${UNSOUND_SQL} AND p.id > ? ORDER BY p.id LIMIT ${size}`,
    [insurerId, LONG_TERM_THRESHOLD_MONTHS, issuedBefore, afterId],
  )) as UnsoundPolicyRow[];
  return rows.map((row) => ({ ...row, id: String(row.id), policyNo: String(row.policyNo), channelId: row.channelId === null ? null : String(row.channelId) }));
}

/** Inserts a campaign and its items (in chunks) inside the caller's transaction. */
export async function insertCampaign(em: EntityManager, campaign: RemediationCampaignEntity, items: readonly SnapshotItem[]): Promise<void> {
  await em.createQueryBuilder().insert().into(RemediationCampaignEntity).values(campaign).execute();
  for (let i = 0; i < items.length; i += INSERT_CHUNK) {
    const chunk = items.slice(i, i + INSERT_CHUNK).map((item) => ({
      campaignId: campaign.id,
      policyId: item.policyId,
      insurerId: campaign.insurerId,
      channelId: item.channelId,
      reasons: JSON.stringify(item.reasons),
    }));
    await em.createQueryBuilder().insert().into(RemediationItemEntity).values(chunk).execute();
  }
}

export function campaignById(db: DataSource, id: string): Promise<RemediationCampaignEntity | null> {
  return db.getRepository(RemediationCampaignEntity).findOneBy({ id });
}

/** A page of an insurer's campaigns, newest first, below the campaign id `after` (keyset on the UUIDv7 id). */
export function campaignPageOf(db: DataSource, insurerId: string, after: string | null, first: number): Promise<{ rows: RemediationCampaignEntity[]; hasNextPage: boolean }> {
  return pageById(db.getRepository(RemediationCampaignEntity).createQueryBuilder('c').where('c.insurer_id = :insurerId', { insurerId }), 'c', after, first);
}

/** An insurer's campaigns, newest first. */
export function campaignsOf(db: DataSource, insurerId: string): Promise<RemediationCampaignEntity[]> {
  return db.getRepository(RemediationCampaignEntity).find({ where: { insurerId }, order: { id: 'DESC' } });
}

/** Per campaign and channel (within `scope`), the flagged items and those whose policy is still unsound (or gone): one aggregated query. */
export async function progressCounts(db: DataSource, campaignIds: readonly string[], scope: CampaignScope): Promise<ProgressCountRow[]> {
  const { where, params } = channelCondition(scope);
  const rows = (await db.query(
    `SELECT i.campaign_id AS campaignId, i.channel_id AS channelId, COUNT(*) AS flagged, ` +
      `SUM(CASE WHEN p.id IS NULL OR ${UNSOUND_SQL} THEN 1 ELSE 0 END) AS remaining ` +
      `FROM remediation_item i LEFT JOIN policy p ON p.id = i.policy_id AND p.insurer_id = i.insurer_id ` +
      `WHERE i.campaign_id IN (${marks(campaignIds)})${where} GROUP BY i.campaign_id, i.channel_id`,
    [...campaignIds, ...params],
  )) as Array<{ campaignId: string; channelId: string | null; flagged: number | string; remaining: number | string | null }>;
  return rows.map((row) => ({
    campaignId: String(row.campaignId),
    channelId: row.channelId === null ? null : String(row.channelId),
    flagged: Number(row.flagged),
    remaining: Number(row.remaining ?? 0),
  }));
}

/**
 * The policy numbers of the campaigns' items whose policy is still unsound,
 * in policy-number order, at most `listLimit` per campaign and channel when
 * given (within `scope`).
 */
export async function remainingPolicyNos(
  db: DataSource,
  campaignIds: readonly string[],
  scope: CampaignScope,
  listLimit: number | null,
): Promise<Array<{ campaignId: string; channelId: string | null; policyNo: string }>> {
  const { where, params } = channelCondition(scope);
  const inner =
    `SELECT i.campaign_id AS campaignId, i.channel_id AS channelId, p.policy_no AS policyNo` +
    (listLimit === null ? '' : ', ROW_NUMBER() OVER (PARTITION BY i.campaign_id, i.channel_id ORDER BY p.policy_no) AS rn') +
    ` FROM remediation_item i INNER JOIN policy p ON p.id = i.policy_id AND p.insurer_id = i.insurer_id` +
    ` WHERE i.campaign_id IN (${marks(campaignIds)})${where} AND ${UNSOUND_SQL}`;
  const sql =
    listLimit === null
      ? `${inner} ORDER BY p.policy_no`
      : `SELECT t.campaignId AS campaignId, t.channelId AS channelId, t.policyNo AS policyNo FROM (${inner}) t WHERE t.rn <= ? ORDER BY t.policyNo`;
  const rows = (await db.query(sql, listLimit === null ? [...campaignIds, ...params] : [...campaignIds, ...params, listLimit])) as Array<{
    campaignId: string;
    channelId: string | null;
    policyNo: string;
  }>;
  return rows.map((row) => ({ campaignId: String(row.campaignId), channelId: row.channelId === null ? null : String(row.channelId), policyNo: String(row.policyNo) }));
}

/** How many of a campaign's items carry each reason (`field:CODE`); an item may carry several. */
export async function reasonCounts(db: DataSource, campaignId: string): Promise<Map<string, number>> {
  const rows = (await db.query('SELECT i.reasons AS reasons, COUNT(*) AS n FROM remediation_item i WHERE i.campaign_id = ? GROUP BY i.reasons', [
    campaignId,
  ])) as Array<{ reasons: string; n: number | string }>;
  const reasons = new Map<string, number>();
  for (const row of rows) for (const reason of parseReasons(row.reasons)) reasons.set(reason, (reasons.get(reason) ?? 0) + Number(row.n));
  return reasons;
}

/** The principal who started a campaign, with its organization's code ('' when that is gone); null when the principal is gone. */
export async function principalWithOrganization(db: DataSource, principalId: string): Promise<{ name: string; organizationCode: string } | null> {
  const principal = await db.getRepository(PrincipalEntity).findOneBy({ id: principalId });
  if (!principal) return null;
  const org = await db.getRepository(OrganizationEntity).findOneBy({ id: principal.organizationId });
  return { name: principal.name, organizationCode: org?.code ?? '' };
}

/** The stored `checked_by_channel` JSON of a campaign ({} when unreadable). */
export function parseCheckedByChannel(text: string): Record<string, number> {
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, Number(v) || 0]));
  } catch {
    return {};
  }
}

function parseReasons(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** The item alias `i` restricted to a partner's channel (nothing for every row). */
function channelCondition(scope: CampaignScope): { where: string; params: string[] } {
  return scope.all ? { where: '', params: [] } : { where: ' AND i.channel_id = ?', params: [scope.channelId] };
}

function marks(ids: readonly string[]): string {
  return ids.map(() => '?').join(', ');
}
