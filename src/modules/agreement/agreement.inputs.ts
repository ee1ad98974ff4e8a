import { Field, InputType } from 'type-graphql';
import type { AgreementScope } from './agreement.entity';
import { AgreementScopeEnum } from './agreement.type';

@InputType('ProposeAgreementInput')
export class ProposeAgreementInput {
  @Field(() => String)
  insurerCode!: string;

  @Field(() => String)
  partnerCode!: string;

  @Field(() => [AgreementScopeEnum])
  scopes!: AgreementScope[];

  @Field(() => Date)
  validFrom!: Date;

  @Field(() => Date)
  validTo!: Date;
}
