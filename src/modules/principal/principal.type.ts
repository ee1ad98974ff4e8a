import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../../graphql/pagination';
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

  @Field(() => Date, { description: 'When the principal was created.' })
  createdAt!: Date;
}

/** A page of principals (the `principals` query): ids, names, roles and times, never a key or its hash. */
export const { Edge: PrincipalEdge, Connection: PrincipalConnection } = connectionTypes('Principal', Principal);
export type PrincipalConnection = InstanceType<typeof PrincipalConnection>;

@ObjectType('PrincipalWithKey')
export class PrincipalWithKey {
  @Field(() => Principal)
  principal!: Principal;

  @Field(() => String, { description: 'Shown once; only a hash is stored.' })
  apiKey!: string;
}
