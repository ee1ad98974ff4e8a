import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { applyMiddleware, type IMiddlewareTypeMap } from 'graphql-middleware';
import { allow } from 'graphql-shield';
import { buildSchema, type ContainerType } from 'type-graphql';
import { permissions, ruleMap } from '../auth/permissions';
import { AgreementResolver } from '../modules/agreement/agreement.resolver';
import { CorrectionResolver } from '../modules/correction/correction.resolver';
import { OrganizationResolver } from '../modules/organization/organization.resolver';
import { PrincipalResolver } from '../modules/principal/principal.resolver';
import { RemediationProgressResolver, RemediationResolver } from '../modules/remediation/remediation.resolver';
import { SummaryResolver } from '../modules/summary/summary.resolver';
import { PersonResolver, PolicyResolver } from '../modules/policy/policy.resolver';
import { SalesResolver } from '../modules/sales/sales.resolver';
import { TransferLogResolver } from '../modules/transfer-log/transfer-log.resolver';
import { DateTimeScalar } from './scalars';

export const resolvers = [OrganizationResolver, PrincipalResolver, AgreementResolver, TransferLogResolver, PolicyResolver, PersonResolver, SalesResolver, SummaryResolver, RemediationResolver, RemediationProgressResolver, CorrectionResolver] as const;

/**
 * The schema as type-graphql builds it from the decorated classes, before
 * shield. `container` hands type-graphql the resolver instances, built with
 * their services (container.ts); the SDL does not depend on it.
 */
export async function buildBareSchema(container: ContainerType): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...resolvers],
    container,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    emitSchemaFile: false,
  });
}

/** The served schema: the bare one with the shield permissions applied (a new schema object). */
export async function buildServedSchema(container: ContainerType): Promise<GraphQLSchema> {
  const schema = await buildBareSchema(container);
  return applyMiddleware(schema, refusingMiddleware(schema));
}

/**
 * Shield's middleware for every field whose rule can refuse: the root
 * fields, and every field of a type the rule map does not name (shield's
 * deny fallback stays on those). A type the map opens whole (`'*': allow`)
 * gets none: its rule can only let the field through, and wrapping each of
 * its fields made every field of a response async (issue 10: on the point
 * read's CPU profile, microtasks and promise bookkeeping for ~40 fields that
 * `allow` could never refuse).
 */
function refusingMiddleware(schema: GraphQLSchema): IMiddlewareTypeMap {
  const generated = permissions.generate(schema) as IMiddlewareTypeMap;
  return Object.fromEntries(Object.entries(generated).filter(([type]) => !opensWholeType(type)));
}

/** Whether the rule map's entry of `type` is exactly `{ '*': allow }`. */
function opensWholeType(type: string): boolean {
  const rules = (ruleMap as Record<string, unknown>)[type];
  if (!rules || typeof rules !== 'object') return false;
  const names = Object.keys(rules);
  return names.length === 1 && names[0] === '*' && (rules as Record<string, unknown>)['*'] === allow;
}

/** The SDL committed as schema/schema.graphql. */
export function printSdl(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
