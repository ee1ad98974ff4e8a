import { Field, InputType } from 'type-graphql';
import type { OrganizationKind } from './organization.entity';
import { OrganizationKindEnum } from './organization.type';

@InputType('CreateOrganizationInput')
export class CreateOrganizationInput {
  @Field(() => String)
  code!: string;

  @Field(() => String)
  name!: string;

  @Field(() => OrganizationKindEnum)
  kind!: OrganizationKind;
}
