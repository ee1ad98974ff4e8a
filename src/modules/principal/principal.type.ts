import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Organization } from '../organization/organization.type';
import { ROLES, type Role } from './principal.entity';

export const RoleEnum = Object.fromEntries(ROLES.map((r) => [r, r])) as { [K in Role]: K };
registerEnumType(RoleEnum, { name: 'Role' });

@ObjectType('Principal')
export class Principal {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => [RoleEnum])
  roles!: Role[];

  /** Resolved by PrincipalResolver through the organization loader. */
  organizationId!: string;

  @Field(() => Organization)
  organization!: Organization;

  @Field(() => Date, { nullable: true, description: 'When the principal signed the staff attestation.' })
  attestedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Set once the principal is revoked; its key no longer works.' })
  revokedAt!: Date | null;
}

@ObjectType('PrincipalWithKey')
export class PrincipalWithKey {
  @Field(() => Principal)
  principal!: Principal;

  @Field(() => String, { description: 'Shown once; only a hash is stored.' })
  apiKey!: string;
}
