/**
 * The `policies` page as one prepared statement (src/db/raw.ts), issue 10:
 * at 1,000,000 policies the missing-field page took ~15 ms per request
 * while its SQL took ~1.4 ms; the Node time went to TypeORM's query
 * builder and to hydrating two people and two organizations per policy
 * that the selection did not use. Here the people and the organizations
 * are joined only when the caller says the selection needs them; the
 * per-request loaders serve any field that asks otherwise. With a
 * KeyCheck (a key remembered by the HTTP handler, src/server.ts), the page
 * confirms the caller's key in the same statement.
 */
import type { DataSource } from 'typeorm';
import { hydrate, preparedRows, selectColumns } from '../../db/raw';
import type { CompletenessStatus } from '../../domain/enums';
import { OrganizationEntity } from '../organization/organization.entity';
import { PersonEntity } from './person.entity';
import { SHOWN_PERSON_COLUMNS, type ShownPerson } from './person.mapper';
import { PolicyEntity, type PolicyStatusValue } from './policy.entity';
import { KEY_REFUSED, type KeyCheck } from './policy-read.queries';

/** What the page is narrowed to, every code already resolved to ids. */
export interface PageFilter {
  /** The insurers the caller may read (never empty). */
  insurerIds: readonly string[];
  /** A partner's own organization: only what it sold. */
  ownChannelId: string | null;
  /** `channelCode`: a channel's id, 'DIRECT' for policies sold without one, or null for any. */
  channel: { id: string } | 'DIRECT' | null;
  completeness: CompletenessStatus | null;
  status: PolicyStatusValue | null;
  /** A field path (trimmed, validated): the page is driven from policy_missing_field. */
  missingField: string | null;
}

/** What the selection reads beyond the policy's own columns. */
export interface PageJoins {
  people: boolean;
  organizations: boolean;
}

/** A policy of the page with what was joined onto it (empty when not joined). */
export interface PageRow {
  policy: PolicyEntity;
  people: ShownPerson[];
  organizations: OrganizationEntity[];
}

/**
 * Up to `limit` policies matching `filter`, newest first, below the keyset
 * cursor `after` when given. A missing-field page reads the index range
 * insurer × field of policy_missing_field (`ix_missing_field`) backwards
 * and joins each policy by primary key (no filesort: the plan
 * completeness-explain.test.ts pins); any other page reads policy through
 * ix_policy_recent / ix_policy_channel_recent. Every join is to-one, so
 * LIMIT counts policies.
 */
export async function readPolicyPage(db: DataSource, filter: PageFilter, joins: PageJoins, after: string | null, limit: number): Promise<PageRow[]>;
export async function readPolicyPage(db: DataSource, filter: PageFilter, joins: PageJoins, after: string | null, limit: number, check: KeyCheck | null): Promise<PageRow[] | typeof KEY_REFUSED>;
export async function readPolicyPage(db: DataSource, filter: PageFilter, joins: PageJoins, after: string | null, limit: number, check: KeyCheck | null = null): Promise<PageRow[] | typeof KEY_REFUSED> {
  const { sql, params } = pageSql(db, filter, joins, after, limit, check !== null);
  const rows = await preparedRows(db, sql, check ? [check.keyHash, check.principalId, ...params] : params);
  // The key check is a column of every row (an uncorrelated subquery, evaluated once): an empty page confirms nothing.
  if (check && rows.length > 0 && (rows[0]!.key_ok === null || rows[0]!.key_ok === undefined)) return KEY_REFUSED;
  return rows.map((row) => ({
    policy: hydrate(db, PolicyEntity, row, 'p')!,
    people: joins.people ? present(['ph', 'pi'].map((alias) => hydrate(db, PersonEntity, row, alias, SHOWN_PERSON_COLUMNS))) : [],
    organizations: joins.organizations ? present(['pc', 'pn'].map((alias) => hydrate(db, OrganizationEntity, row, alias))) : [],
  }));
}

function present<T>(values: Array<T | null>): T[] {
  return values.filter((v): v is T => v !== null);
}

/**
 * How many policies `filter` matches: a COUNT over the same FROM and WHERE
 * as the page ({@link matching}), sent only when `totalCount` is asked for.
 */
export async function countPolicyPage(db: DataSource, filter: PageFilter): Promise<number> {
  const { from, where, params } = matching(filter);
  const rows = await preparedRows(db, `SELECT COUNT(*) AS n FROM ${from} WHERE ${where.join(' AND ')}`, params);
  return Number(rows[0]?.n ?? 0);
}

/**
 * The policies `filter` selects, as SQL: the tables (a missing-field filter
 * drives from policy_missing_field), the conditions and their parameters,
 * and the id column the page is ordered and keyset-paginated on.
 */
function matching(filter: PageFilter): { from: string; where: string[]; params: string[]; order: string } {
  const params: string[] = [];
  const where: string[] = [];
  const insurers = filter.insurerIds.map(() => '?').join(', ');
  let from = 'policy p';
  let order = 'p.id';
  if (filter.missingField !== null) {
    from = `policy_missing_field m INNER JOIN policy p ON p.id = m.policy_id AND p.insurer_id = m.insurer_id`;
    order = 'm.policy_id';
    where.push(`m.insurer_id IN (${insurers})`, 'm.field = ?');
    params.push(...filter.insurerIds, filter.missingField);
  }
  where.push(`p.insurer_id IN (${insurers})`);
  params.push(...filter.insurerIds);
  const equal = (column: string, value: string | null) => {
    if (value === null) return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  equal('p.channel_id', filter.ownChannelId);
  if (filter.channel === 'DIRECT') where.push('p.channel_id IS NULL');
  else equal('p.channel_id', filter.channel?.id ?? null);
  equal('p.completeness', filter.completeness);
  equal('p.status', filter.status);
  return { from, where, params, order };
}

/**
 * The page statement's text and parameters. The text varies only with which
 * filters are set, the number of insurers and the page size (inlined: a
 * validated integer, and MariaDB refuses a DOUBLE-typed LIMIT parameter),
 * so the prepared statements stay few.
 */
function pageSql(db: DataSource, filter: PageFilter, joins: PageJoins, after: string | null, limit: number, checked = false): { sql: string; params: string[] } {
  const { where, params, order, from: tables } = matching(filter);
  let from = tables;
  if (after !== null) {
    where.push(`${order} < ?`);
    params.push(after);
  }
  const select = [selectColumns(db, PolicyEntity, 'p')];
  if (checked) select.unshift('(SELECT av.id FROM principal av WHERE av.key_hash = ? AND av.id = ? AND av.revoked_at IS NULL) AS key_ok');
  if (joins.people) {
    select.push(selectColumns(db, PersonEntity, 'ph', SHOWN_PERSON_COLUMNS), selectColumns(db, PersonEntity, 'pi', SHOWN_PERSON_COLUMNS));
    from += ' LEFT JOIN person ph ON ph.id = p.policyholder_id LEFT JOIN person pi ON pi.id = p.insured_id';
  }
  if (joins.organizations) {
    select.push(selectColumns(db, OrganizationEntity, 'pc'), selectColumns(db, OrganizationEntity, 'pn'));
    from += ' LEFT JOIN organization pc ON pc.id = p.channel_id LEFT JOIN organization pn ON pn.id = p.insurer_id';
  }
  const sql = `SELECT ${select.join(', ')} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${order} DESC LIMIT ${Math.trunc(limit)}`;
  return { sql, params };
}
