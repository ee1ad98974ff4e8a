import { isRelationship } from '../../domain/enums';
import { encodeCursor, pageInfo } from '../../graphql/pagination';
import { Completeness, CompletenessIssue } from './completeness.type';
import type { PiiView } from './person.type';
import { POLICY_STATUSES, type PolicyEntity, type PolicyStatusValue } from './policy.entity';
import { POLICY_CURSOR } from './policy.service';
import { Policy, PolicyConnection, PolicyEdge } from './policy.type';
import { storedCompleteness } from './stored-completeness';

/** Re-exported for callers that page through policies with the same cursors (summary exports). */
export { POLICY_CURSOR };

export function toCompleteness(entity: Pick<PolicyEntity, 'completeness' | 'issues'>): Completeness {
  const verdict = storedCompleteness(entity);
  return Object.assign(new Completeness(), {
    status: verdict.status,
    missing: verdict.missing,
    issues: verdict.issues.map((i) => Object.assign(new CompletenessIssue(), { field: i.field, code: i.code, message: i.message })),
  });
}

/**
 * A policy for the wire. Its people, beneficiaries and organizations are
 * resolved by PolicyResolver through the per-request loaders; `view` says how
 * their ID numbers and phones may be shown (person.mapper applies it).
 */
export function toPolicy(entity: PolicyEntity, view: PiiView): Policy {
  return Object.assign(new Policy(), {
    id: entity.id,
    policyNo: entity.policyNo,
    salesPersonCode: entity.salesPersonCode,
    productCode: entity.productCode,
    termMonths: entity.termMonths,
    applicationDate: entity.applicationDate,
    status: (POLICY_STATUSES as readonly string[]).includes(entity.status) ? (entity.status as PolicyStatusValue) : 'PENDING',
    insuredRelationship: isRelationship(entity.insuredRelationship) ? entity.insuredRelationship : null,
    completeness: toCompleteness(entity),
    version: entity.version,
    underwrittenAt: entity.underwrittenAt,
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
    insurerId: entity.insurerId,
    channelId: entity.channelId,
    policyholderId: entity.policyholderId,
    insuredId: entity.insuredId,
    view,
  });
}

/**
 * The page for the wire. `totalCount` may be a function: then it is counted
 * only when the selection resolves the field (a lazy property, so graphql-js
 * awaits it like any resolved value; issue 10 (c), the COUNT cost as much as
 * the page and was sent when nobody asked for it).
 */
export function toPolicyConnection(page: {
  items: Array<{ entity: PolicyEntity; view: PiiView }>;
  hasNextPage: boolean;
  totalCount: number | (() => Promise<number>);
}): PolicyConnection {
  const edges = page.items.map(({ entity, view }) =>
    Object.assign(new PolicyEdge(), { cursor: encodeCursor(POLICY_CURSOR, entity.id), node: toPolicy(entity, view) }),
  );
  const connection = Object.assign(new PolicyConnection(), {
    edges,
    pageInfo: pageInfo(page.hasNextPage, edges.length ? edges[edges.length - 1]!.cursor : null),
  });
  const { totalCount } = page;
  if (typeof totalCount === 'number') connection.totalCount = totalCount;
  else Object.defineProperty(connection, 'totalCount', { enumerable: true, get: totalCount });
  return connection;
}
