import type { DataSource } from 'typeorm';
import { hydrate, preparedRows, selectColumns } from '../../db/raw';
import { ACTIVE_AGREEMENT_SQL } from '../agreement/grant.queries';
import { OWN_GRANT, unionGrant, type Grant } from '../agreement/agreement.status';
import { OrganizationEntity } from '../organization/organization.entity';
import { PersonEntity } from './person.entity';
import { SHOWN_PERSON_COLUMNS, type ShownPerson } from './person.mapper';
import { PolicyBeneficiaryEntity, PolicyEntity } from './policy.entity';

/** What the point read found: the policy with its people, organizations, beneficiaries, and the caller's grant on its insurer. */
export interface PointRead {
  policy: PolicyEntity;
  insurer: OrganizationEntity;
  channel: OrganizationEntity | null;
  /** The people shown (person.mapper's columns only). */
  people: ShownPerson[];
  beneficiaries: PolicyBeneficiaryEntity[];
  grant: Grant;
}

/** Who reads: an insurer's principal its own book, a partner what it sold (its organization as the policy's channel). */
export type PointReader = { kind: 'insurer'; insurerId: string } | { kind: 'partner'; partnerId: string };

/** The ACTIVE condition with positional parameters (the request's instant, twice). */
const ACTIVE = ACTIVE_AGREEMENT_SQL.replaceAll(':now', '?');

/**
 * A caller whose actor came from the recent-keys cache (PrincipalService.recentActor):
 * the read confirms, in its own statement, that the principal still holds
 * this key and is not revoked.
 */
export interface KeyCheck {
  keyHash: string;
  principalId: string;
}

/** What the point read answers when the {@link KeyCheck} fails: no principal holds that key unrevoked (UNAUTHENTICATED). */
export const KEY_REFUSED = 'KEY_REFUSED';

type PointSql = Record<PointReader['kind'] | `${PointReader['kind']}Checked`, string>;

/** The SQL of each kind of reader, built from the entities' columns once per data source. */
const sqlOf = new WeakMap<DataSource, PointSql>();

/**
 * One statement for the whole point read (issue 10 (a), measured by the read
 * bench: the insurer, the grant and the policy were three): the insurer by
 * its code, the policy by its number, scoped in SQL to the reader (an
 * insurer's own id, a partner's own channel), its two people, its channel,
 * its beneficiaries with their people, and for a partner its ACTIVE
 * agreements on that insurer: one row per beneficiary and agreement (a
 * join: two correlated subqueries for the ids and scopes doubled the
 * statement's MariaDB CPU, measured). Of the people only what
 * person.mapper shows: every column is sent, parsed and matched against
 * mysql2's parser cache on each execution.
 */
function pointReadSql(db: DataSource): PointSql {
  let sql = sqlOf.get(db);
  if (sql) return sql;
  const people = `
    LEFT JOIN person ph ON ph.id = p.policyholder_id
    LEFT JOIN person pi ON pi.id = p.insured_id
    LEFT JOIN organization pc ON pc.id = p.channel_id
    LEFT JOIN policy_beneficiary b ON b.policy_id = p.id
    LEFT JOIN person bp ON bp.id = b.person_id`;
  // The agreements are joined last: joined before the policy, they made MariaDB read the policy and its
  // people per agreement row (eq_ref) instead of once as constants (~20% of the partner statement's
  // MariaDB CPU, measured at 1M policies).
  const body = (scope: string, join = '') => `
    FROM organization pn
    INNER JOIN policy p ON p.insurer_id = pn.id AND p.policy_no = ? ${people} ${join}
    WHERE pn.code = ? AND pn.kind = 'INSURER' AND ${scope}`;
  // The checked form: driven by the caller's principal (uq_principal_key_hash, one row or none), the rest
  // LEFT JOINed so that a missing insurer or policy still answers the principal's row (issue 10 (a): the
  // key check rides on the read instead of a statement of its own).
  const checked = (scope: string, join = '') => `
    FROM principal av
    LEFT JOIN organization pn ON pn.code = ? AND pn.kind = 'INSURER'
    LEFT JOIN policy p ON p.insurer_id = pn.id AND p.policy_no = ? AND ${scope} ${people} ${join}
    WHERE av.key_hash = ? AND av.id = ? AND av.revoked_at IS NULL`;
  const select = [
    selectColumns(db, OrganizationEntity, 'pn'),
    selectColumns(db, PolicyEntity, 'p'),
    selectColumns(db, PersonEntity, 'ph', SHOWN_PERSON_COLUMNS),
    selectColumns(db, PersonEntity, 'pi', SHOWN_PERSON_COLUMNS),
    selectColumns(db, OrganizationEntity, 'pc'),
    selectColumns(db, PolicyBeneficiaryEntity, 'b'),
    selectColumns(db, PersonEntity, 'bp', SHOWN_PERSON_COLUMNS),
  ].join(', ');
  const agreement = `LEFT JOIN agreement a ON a.insurer_id = pn.id AND a.partner_id = ? AND ${ACTIVE}`;
  const grant = 'a.id AS grant_id, a.scopes AS grant_scopes';
  sql = {
    insurer: `SELECT ${select} ${body('pn.id = ?')}`,
    partner: `SELECT ${select}, ${grant} ${body('p.channel_id = ?', agreement)}`,
    insurerChecked: `SELECT av.id AS av__id, ${select} ${checked('pn.id = ?')}`,
    partnerChecked: `SELECT av.id AS av__id, ${select}, ${grant} ${checked('p.channel_id = ?', agreement)}`,
  };
  sqlOf.set(db, sql);
  return sql;
}

/**
 * The point read of `policyNo` of the insurer `insurerCode` (both
 * normalised) as `reader` may read it at `now`; null when there is none the
 * reader may see (unknown insurer, unknown policy, another's policy: one
 * answer). Whether the grant lets a partner read it is the caller's to
 * decide (policy.access.ts). A prepared statement (src/db/raw.ts).
 */
export async function readPointPolicy(db: DataSource, reader: PointReader, insurerCode: string, policyNo: string, now: Date): Promise<PointRead | null>;
export async function readPointPolicy(db: DataSource, reader: PointReader, insurerCode: string, policyNo: string, now: Date, check: KeyCheck | null): Promise<PointRead | null | typeof KEY_REFUSED>;
export async function readPointPolicy(db: DataSource, reader: PointReader, insurerCode: string, policyNo: string, now: Date, check: KeyCheck | null = null): Promise<PointRead | null | typeof KEY_REFUSED> {
  const sql = pointReadSql(db);
  let rows;
  if (check === null) {
    rows =
      reader.kind === 'insurer'
        ? await preparedRows(db, sql.insurer, [policyNo, insurerCode, reader.insurerId])
        : await preparedRows(db, sql.partner, [policyNo, reader.partnerId, now, now, insurerCode, reader.partnerId]);
  } else {
    const key = [check.keyHash, check.principalId];
    rows =
      reader.kind === 'insurer'
        ? await preparedRows(db, sql.insurerChecked, [insurerCode, policyNo, reader.insurerId, ...key])
        : await preparedRows(db, sql.partnerChecked, [insurerCode, policyNo, reader.partnerId, reader.partnerId, now, now, ...key]);
    if (rows.length === 0) return KEY_REFUSED;
  }
  const first = rows[0];
  if (!first || first.p__id === null || first.p__id === undefined) return null;
  const people: ShownPerson[] = [];
  for (const alias of ['ph', 'pi']) {
    const person = hydrate(db, PersonEntity, first, alias, SHOWN_PERSON_COLUMNS);
    if (person) people.push(person);
  }
  const beneficiaries: PolicyBeneficiaryEntity[] = [];
  const agreements = new Map<string, string>(); // id -> scopes, each once whatever the beneficiaries
  const seen = new Set<string>(); // beneficiary ids, each once whatever the agreements
  for (const row of rows) {
    if (row.grant_id !== null && row.grant_id !== undefined) agreements.set(String(row.grant_id), String(row.grant_scopes));
    const beneficiary = hydrate(db, PolicyBeneficiaryEntity, row, 'b');
    if (!beneficiary || seen.has(beneficiary.id)) continue;
    seen.add(beneficiary.id);
    beneficiaries.push(beneficiary);
    const person = hydrate(db, PersonEntity, row, 'bp', SHOWN_PERSON_COLUMNS);
    if (person) people.push(person);
  }
  beneficiaries.sort(byOrder);
  return {
    policy: hydrate(db, PolicyEntity, first, 'p')!,
    insurer: hydrate(db, OrganizationEntity, first, 'pn')!,
    channel: hydrate(db, OrganizationEntity, first, 'pc'),
    people,
    beneficiaries,
    grant: reader.kind === 'insurer' ? OWN_GRANT : unionGrant([...agreements].map(([id, scopes]) => ({ id, scopes }))),
  };
}

/**
 * Beneficiaries in their order, then by id, as the lists sort them (ord
 * NULL first, as both databases sort NULL in ascending order; ids are
 * lower-case UUIDs, which compare alike in JavaScript and in the columns'
 * collation). Sorted here, not in SQL: an ORDER BY over the joined rows made
 * MariaDB build a temporary table of ~90 columns, TEXT ones among them, for
 * every read (0.9 ms of its CPU per point read, measured).
 */
function byOrder(a: PolicyBeneficiaryEntity, b: PolicyBeneficiaryEntity): number {
  if (a.ord !== b.ord) return a.ord === null ? -1 : b.ord === null ? 1 : a.ord - b.ord;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
