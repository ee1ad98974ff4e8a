import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `transfer_log_policy` by (insurer_id, seq): the verifier (verify-log,
 * verifyTransferLog) reads an entry page's policy-number rows by seq range;
 * the primary key (insurer_id, policy_no, seq) cannot serve that, so each
 * page scanned the chain's whole index: measured 0.16 s a page at 200,000
 * entries, quadratic in the chain's length.
 */
export class TransferLogPolicySeq1764000000012 implements MigrationInterface {
  name = 'TransferLogPolicySeq1764000000012';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('transfer_log_policy', new TableIndex({ name: 'ix_transfer_log_policy_seq', columnNames: ['insurer_id', 'seq'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('transfer_log_policy', 'ix_transfer_log_policy_seq');
  }
}
