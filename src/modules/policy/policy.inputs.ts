import { Field, InputType } from 'type-graphql';
import type { CompletenessStatus } from '../../domain/enums';
import { CompletenessStatusEnum } from './enums.type';
import type { PolicyStatusValue } from './policy.entity';
import { PolicyStatusEnum } from './policy.type';

@InputType('PolicyFilter')
export class PolicyFilter {
  @Field(() => String, { nullable: true, description: 'Defaults to the caller\'s own insurer; a partner sees every insurer that grants it READ_POLICIES.' })
  insurerCode?: string | null;

  @Field(() => String, { nullable: true, description: 'The selling organization\'s code, or DIRECT for policies sold without a channel.' })
  channelCode?: string | null;

  @Field(() => CompletenessStatusEnum, { nullable: true })
  completeness?: CompletenessStatus | null;

  @Field(() => PolicyStatusEnum, { nullable: true })
  status?: PolicyStatusValue | null;

  @Field(() => String, { nullable: true, description: 'Only policies whose completeness.missing contains this path.' })
  missingField?: string | null;
}
