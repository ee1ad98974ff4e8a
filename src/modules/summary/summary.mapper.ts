import type { BucketRow, CommissionHoldRow } from './summary.queries';
import { CommissionHold, CompletenessBucket, FieldCount } from './summary.type';

export function toCompletenessBucket(row: BucketRow): CompletenessBucket {
  return Object.assign(new CompletenessBucket(), {
    key: row.key,
    total: row.total,
    complete: row.complete,
    incomplete: row.incomplete,
    suspect: row.suspect,
    missingByField: row.missingByField.map((m) => Object.assign(new FieldCount(), { field: m.field, count: m.count })),
  });
}

export function toCommissionHold(row: CommissionHoldRow): CommissionHold {
  return Object.assign(new CommissionHold(), {
    channelId: row.channelId,
    held: row.held,
    incomplete: row.incomplete,
    suspect: row.suspect,
    policyNos: row.policyNos,
    truncated: row.truncated,
  });
}
