import { Field, InputType } from 'type-graphql';
import type { Role } from './principal.entity';
import { RoleEnum } from './principal.type';

@InputType('CreatePrincipalInput')
export class CreatePrincipalInput {
  @Field(() => String)
  organizationCode!: string;

  @Field(() => String)
  name!: string;

  @Field(() => [RoleEnum])
  roles!: Role[];
}
