import { Column, Entity, PrimaryColumn } from 'typeorm';
import { dateColumn, idColumn, numberTransformer } from '../../db/columns';

/** The key both counter tables share (insurer × channel × product × application day) and their count. */
abstract class CountBucket {
  @PrimaryColumn({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  /** The selling organization's id, '' for the policies sold directly. */
  @PrimaryColumn({ ...idColumn, name: 'channel_key' })
  channelKey!: string;

  @PrimaryColumn({ type: 'varchar', length: 64, name: 'product_code' })
  productCode!: string;

  @PrimaryColumn({ ...dateColumn, name: 'application_date' })
  applicationDate!: string;

  @Column({ type: 'int', name: 'policies', transformer: numberTransformer })
  policies!: number;
}

/**
 * How many policies of an insurer sold through one channel ('' = sold
 * directly: a primary key cannot hold NULL), of one product, applied for on
 * one day, have one stored completeness status. Maintained only by the
 * database triggers of migration 0010 on `policy`, in the same statement
 * (so the same transaction) as every write, so a completeness summary reads
 * a few thousand counter rows instead of GROUP BY over the whole book (issue
 * 10 (d): 5.3 s at 1,000,000 policies). Rows that drop to 0 stay (no delete
 * churn on hot keys); readers drop empty buckets.
 */
@Entity('completeness_count')
export class CompletenessCountEntity extends CountBucket {
  /** 'COMPLETE' | 'INCOMPLETE' | 'SUSPECT'. */
  @PrimaryColumn({ type: 'varchar', length: 16, name: 'completeness' })
  completeness!: string;
}

/**
 * How many policies of an insurer × channel ('' = direct) × product ×
 * application day miss one required field path: the `missingByField` of a
 * summary. Maintained by the triggers of migration 0010 on `policy` and
 * `policy_missing_field` (a policy's missing rows follow a change of its
 * channel, product or date), like {@link CompletenessCountEntity}.
 */
@Entity('missing_field_count')
export class MissingFieldCountEntity extends CountBucket {
  @PrimaryColumn({ type: 'varchar', length: 64, name: 'field' })
  field!: string;
}
