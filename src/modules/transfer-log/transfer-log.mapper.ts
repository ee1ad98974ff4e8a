import { parseStringArray, type StoredEntry } from './transfer-log.chain';
import { checkpointPayload } from './transfer-log.checkpoint';
import type { TransferLogCheckpointEntity } from './transfer-log.entity';
import type { TransferLogPage } from './transfer-log.reader';
import type { LogVerificationResult } from './transfer-log.verifier';
import { encodeLogCursor } from './transfer-log.chain';
import { PageInfo } from '../../graphql/pagination';
import { LogVerification, TransferLogCheckpoint, TransferLogConnection, TransferLogEdge, TransferLogEntry } from './transfer-log.type';

function stringArray(text: string): string[] {
  const value = parseStringArray(text);
  return typeof value === 'string' ? [] : value;
}

export function toTransferLogEntry(entity: StoredEntry): TransferLogEntry {
  return Object.assign(new TransferLogEntry(), {
    seq: entity.seq,
    at: entity.at,
    operation: entity.operation,
    outcome: entity.outcome,
    errorCode: entity.errorCode,
    actorOrganizationId: entity.actorOrganizationId,
    actorPrincipalId: entity.actorPrincipalId,
    counterpartyId: entity.counterpartyId,
    agreementId: entity.agreementId,
    policyNos: entity.policyNos,
    fields: stringArray(entity.fields),
    digest: entity.digest,
    prevHash: entity.prevHash,
    hash: entity.hash,
  });
}

export function toTransferLogConnection(page: TransferLogPage): TransferLogConnection {
  const edges = page.entries.map((entity) => Object.assign(new TransferLogEdge(), { cursor: encodeLogCursor(entity.seq), node: toTransferLogEntry(entity) }));
  const pageInfo = Object.assign(new PageInfo(), { hasNextPage: page.hasNextPage, endCursor: edges.length ? edges[edges.length - 1]!.cursor : null });
  const connection = Object.assign(new TransferLogConnection(), { edges, pageInfo });
  // Counted only when the selection resolves the field (a lazy property, as toPolicyConnection).
  Object.defineProperty(connection, 'totalCount', { enumerable: true, get: page.totalCount });
  return connection;
}

export function toLogVerification(result: LogVerificationResult): LogVerification {
  return Object.assign(new LogVerification(), {
    valid: result.valid,
    checked: result.checked,
    firstInvalidSeq: result.firstInvalidSeq,
    headHash: result.headHash,
    headSeq: result.headSeq,
    reason: result.reason,
    checkpointValid: result.checkpointValid,
    checkpointSeq: result.checkpointSeq,
  });
}

export function toTransferLogCheckpoint(entity: TransferLogCheckpointEntity): TransferLogCheckpoint {
  return Object.assign(new TransferLogCheckpoint(), {
    insurerCode: entity.insurerCode,
    seq: entity.seq,
    headHash: entity.headHash,
    signedAt: entity.signedAt,
    publicKey: entity.publicKey,
    signature: entity.signature,
    signedPayload: checkpointPayload(entity.insurerId, entity),
  });
}
