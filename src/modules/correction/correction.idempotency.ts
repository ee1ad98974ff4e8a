/**
 * The replay store of submitCorrection's optional `idempotencyKey` (issue 8,
 * defect 9): keys are per submitting organization, kept on the correction row
 * (unique index) in the same transaction as the correction, with the hash of
 * the request they stood for, so a retry is told from another request.
 */
import type { EntityManager } from 'typeorm';
import { BadInputError } from '../../graphql/errors';
import { canonicalJson } from '../../domain/canonical-json';
import { sha256Hex } from '../../domain/sha256';
import type { PiiCipher } from '../person/pii';
import { PolicyEntity } from '../policy/policy.entity';
import { MAX_IDEMPOTENCY_KEY } from '../policy/policy.validation';
import { CorrectionChangeEntity, CorrectionEntity } from './correction.entity';
import type { CleanCorrection } from './correction.validation';

/** A correction sent with an idempotency key: the key and the hash of the request it stands for. */
export interface Idempotency {
  key: string;
  hash: string;
}

/** What a stored correction was: its row, its field changes and its policy as it is now. */
export interface StoredCorrection {
  correction: CorrectionEntity;
  changes: CorrectionChangeEntity[];
  policy: PolicyEntity;
}

/** The optional key of submitCorrection: null when not given, else 1 to {@link MAX_IDEMPOTENCY_KEY} characters (trimmed). */
export function checkIdempotencyKey(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const key = typeof value === 'string' ? value.trim() : '';
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY) {
    throw new BadInputError(`idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY} characters`, { field: 'idempotencyKey', limit: MAX_IDEMPOTENCY_KEY });
  }
  return key;
}

/**
 * SHA-256 of a request's canonical form, to tell a retry from another
 * request under the same key. ID number and phone enter only as their
 * blind indexes, so the stored hash tells nothing the database does not
 * already hold.
 */
export function requestHash(pii: Pick<PiiCipher, 'idNumberKey' | 'phoneIndex'>, clean: CleanCorrection): string {
  const { idNumber, phone, ...inClear } = clean.changes;
  const changes = {
    ...inClear,
    ...(idNumber !== undefined ? { idNumber: pii.idNumberKey(clean.changes.idType ?? null, idNumber) } : {}),
    ...(phone !== undefined ? { phone: pii.phoneIndex(phone) } : {}),
  };
  return sha256Hex(canonicalJson({ ...clean, changes }));
}

/** The correction `organizationId` stored under this key, or null; BAD_USER_INPUT when the key stood for another request. */
export async function findByKey(em: EntityManager, organizationId: string, idempotency: Idempotency): Promise<StoredCorrection | null> {
  const correction = await em.getRepository(CorrectionEntity).findOneBy({ submittedByOrganizationId: organizationId, idempotencyKey: idempotency.key });
  if (!correction) return null;
  if (correction.requestHash !== idempotency.hash) {
    throw new BadInputError('This idempotencyKey was used for a different correction: use a new key for a new correction', { field: 'idempotencyKey' });
  }
  const changes = await em.getRepository(CorrectionChangeEntity).find({ where: { correctionId: correction.id }, order: { ord: 'ASC' } });
  const policy = await em.getRepository(PolicyEntity).findOneByOrFail({ id: correction.policyId, insurerId: correction.insurerId });
  return { correction, changes, policy };
}
