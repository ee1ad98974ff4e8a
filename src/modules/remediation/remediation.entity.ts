import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { dateColumn, idColumn, instantColumn, numberTransformer } from '../../db/columns';

/**
 * A clean-up campaign of historical policies (DOMAIN.md "Historical
 * policies"): a snapshot, taken once by `startRemediation`, of the insurer's
 * long-term policies applied for before `issuedBefore` whose policyholder
 * phone or address was unsound. Nothing here changes after the snapshot:
 * what has been corrected since is computed live from the policies.
 */
@Entity('remediation_campaign')
@Index('ix_remediation_campaign_insurer', ['insurerId', 'id'])
export class RemediationCampaignEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  /** 'YYYY-MM-DD': policies applied for strictly before this date are in scope. */
  @Column({ ...dateColumn, name: 'issued_before' })
  issuedBefore!: string;

  /** 'YYYY-MM-DD': the last day to correct; the day after it the campaign is past its deadline. */
  @Column({ ...dateColumn, name: 'deadline' })
  deadline!: string;

  /** Policies examined for the snapshot (long-term, applied for before the cut-off). */
  @Column({ type: 'integer', name: 'checked', transformer: numberTransformer })
  checked!: number;

  /** Policies flagged by the snapshot (the number of its items). */
  @Column({ type: 'integer', name: 'flagged', transformer: numberTransformer })
  flagged!: number;

  /**
   * JSON object: channel organization id (or "" for policies sold directly)
   * → policies examined in that channel's book. Part of the snapshot.
   */
  @Column({ type: 'text', name: 'checked_by_channel' })
  checkedByChannel!: string;

  /** Principal and organization that started the campaign. */
  @Column({ ...idColumn, name: 'created_by' })
  createdBy!: string;

  @Column({ ...instantColumn, name: 'created_at' })
  createdAt!: Date;
}

/**
 * One policy flagged by a campaign's snapshot, with the channel that sold it
 * and why it was flagged (`reasons`: JSON array of `field:CODE`, e.g.
 * `policyholder.phone:PHONE_SHARED`; field paths and codes only, never a
 * person's data). Whether it has been corrected is NOT stored: it is read
 * from the policy's current stored completeness, so nothing needs syncing.
 */
@Entity('remediation_item')
@Index('ix_remediation_item_channel', ['campaignId', 'channelId'])
export class RemediationItemEntity {
  @PrimaryColumn({ ...idColumn, name: 'campaign_id' })
  campaignId!: string;

  @PrimaryColumn({ ...idColumn, name: 'policy_id' })
  policyId!: string;

  @Column({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  /** The selling organization at the snapshot; null = sold directly. */
  @Column({ ...idColumn, name: 'channel_id', nullable: true })
  channelId!: string | null;

  @Column({ type: 'varchar', length: 500, name: 'reasons' })
  reasons!: string;
}
