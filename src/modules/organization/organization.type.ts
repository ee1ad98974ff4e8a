import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
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
