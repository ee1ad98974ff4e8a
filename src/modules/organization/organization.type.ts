import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../../graphql/pagination';
import { ORGANIZATION_KINDS, type OrganizationKind } from './organization.entity';

export const OrganizationKindEnum = Object.fromEntries(ORGANIZATION_KINDS.map((k) => [k, k])) as { [K in OrganizationKind]: K };
registerEnumType(OrganizationKindEnum, { name: 'OrganizationKind' });

@ObjectType('Organization')
export class Organization {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  code!: string;

  @Field(() => String)
  name!: string;

  @Field(() => OrganizationKindEnum)
  kind!: OrganizationKind;
}

/** A page of the directory (the `organizationsConnection` query). */
export const { Edge: OrganizationEdge, Connection: OrganizationConnection } = connectionTypes('Organization', Organization);
export type OrganizationConnection = InstanceType<typeof OrganizationConnection>;
