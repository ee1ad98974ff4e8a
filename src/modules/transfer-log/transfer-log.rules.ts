import { actorRule } from '../../auth/rules';
import { mayUseTransferLog } from './transfer-log.access';

/**
 * Coarse gate of transferLog, verifyTransferLog, transferLogCheckpoint and
 * createTransferLogCheckpoint ({@link mayUseTransferLog}); which chain is
 * checked by the service (another insurer's code is FORBIDDEN there).
 */
export const mayUseTransferLogRule = actorRule(
  'mayUseTransferLog',
  mayUseTransferLog,
  'Only an insurer\'s ADMIN or COMPLIANCE principals and the regulator may use the transfer log',
);
