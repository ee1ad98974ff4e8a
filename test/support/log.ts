import type { DataSource, FindManyOptions } from 'typeorm';
import type { StoredEntry } from '../../src/modules/transfer-log/transfer-log.chain';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { policyNosOfEntries } from '../../src/modules/transfer-log/transfer-log.policies';

/**
 * Transfer-log entries as the tests inspect them: the stored columns plus
 * `policyNos` rebuilt from their `transfer_log_policy` rows (the array that
 * was hashed). Ordered by seq unless `options.order` says otherwise.
 */
export async function loggedEntries(db: DataSource, options: FindManyOptions<TransferLogEntryEntity> = {}): Promise<StoredEntry[]> {
  const rows = await db.getRepository(TransferLogEntryEntity).find({ order: { seq: 'ASC' }, ...options });
  const byChain = new Map<string, Map<number, string[]>>();
  for (const chainId of new Set(rows.map((r) => r.insurerId))) {
    byChain.set(chainId, await policyNosOfEntries(db, chainId, rows.filter((r) => r.insurerId === chainId).map((r) => r.seq)));
  }
  return rows.map((r) => ({ ...r, policyNos: byChain.get(r.insurerId)!.get(r.seq) ?? [] }));
}
