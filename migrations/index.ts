import { Foundation1764000000001 } from './0001-foundation';
import { Agreements1764000000002 } from './0002-agreements';
import { TransferLog1764000000003 } from './0003-transfer-log';
import { Policies1764000000004 } from './0004-policies';
import { Remediation1764000000005 } from './0005-remediation';
import { Corrections1764000000006 } from './0006-corrections';
import { CorrectionIdempotency1764000000007 } from './0007-correction-idempotency';
import { SigningKeys1764000000008 } from './0008-signing-keys';
import { TransferLogPolicyRows1764000000009 } from './0009-transfer-log-policy-rows';
import { CompletenessCounters1764000000010 } from './0010-completeness-counters';
import { CompactIds1764000000011 } from './0011-compact-ids';

/**
 * Every migration, in the order it runs. Written with TypeORM's portable
 * QueryRunner API so one file serves MySQL/MariaDB and SQLite; each has down().
 * Append new ones at the end; never edit one that has shipped.
 */
export const migrations = [Foundation1764000000001, Agreements1764000000002, TransferLog1764000000003, Policies1764000000004, Remediation1764000000005, Corrections1764000000006, CorrectionIdempotency1764000000007, SigningKeys1764000000008, TransferLogPolicyRows1764000000009, CompletenessCounters1764000000010, CompactIds1764000000011];

// No foreign-key constraints: the schema is built to move to a sharded MySQL
// (Vitess, keyed by insurer), where cross-shard foreign keys are not enforced.
// Every reference is checked by the service that writes it, inside its transaction.
