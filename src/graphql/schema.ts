import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { buildSchema, type ContainerType } from 'type-graphql';
import { permissions } from '../auth/permissions';
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
  return applyMiddleware(await buildBareSchema(container), permissions);
}

/** The SDL committed as schema/schema.graphql. */
export function printSdl(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
