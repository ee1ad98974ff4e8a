import { maskIdNumber, maskPhone } from '../../domain/masking';
import type { PiiCipher } from '../person/pii';
import type { PiiDisclosures } from '../policy/pii-disclosures';
import { toPolicy } from '../policy/policy.mapper';
import { EVIDENCE_METHODS, PERSON_ROLES, type CorrectionChangeEntity, type EvidenceMethod, type PersonRole } from './correction.entity';
import type { CorrectionRecord } from './correction.service';
import { Correction, FieldChange } from './correction.type';

function parseFields(stored: string): string[] {
  try {
    const parsed = JSON.parse(stored) as unknown;
    return Array.isArray(parsed) ? parsed.filter((f): f is string => typeof f === 'string') : [];
  } catch {
    return [];
  }
}

/** A correction for the wire; its `changes` are opened only when asked for ({@link toFieldChanges}). */
export function toCorrection(record: CorrectionRecord): Correction {
  const c = record.correction;
  return Object.assign(new Correction(), {
    id: c.id,
    policy: toPolicy(record.policy, record.view),
    changedFields: parseFields(c.changedFields),
    submittedByPrincipalId: c.submittedByPrincipalId,
    submittedAt: c.createdAt,
    evidenceMethod: (EVIDENCE_METHODS as readonly string[]).includes(c.evidenceMethod) ? (c.evidenceMethod as EvidenceMethod) : 'SIGNED_FORM',
    evidenceReference: c.evidenceReference,
    evidenceConfirmedAt: c.evidenceConfirmedAt,
    target: (PERSON_ROLES as readonly string[]).includes(c.target) ? (c.target as PersonRole) : 'POLICYHOLDER',
    beneficiaryOrder: c.beneficiaryOrder,
    version: c.version,
    submittedByOrganizationId: c.submittedByOrganizationId,
    policyNo: c.policyNo,
    sealedChanges: record.changes,
    view: record.view,
  });
}

/** `idNumber` / `phone` when the field path names a sealed field, else null. */
function sealedKind(field: string): 'idNumber' | 'phone' | null {
  if (field.endsWith('.idNumber')) return 'idNumber';
  if (field.endsWith('.phone')) return 'phone';
  return null;
}

/**
 * The only code that opens the sealed values of the correction history
 * (contract README "Who may do what"): whole for the insurer, masked
 * (`110105********1234`, `138****5678`) for a partner without VIEW_FULL_PII,
 * and whole for a partner with it while the response's READ_PII entry
 * records the policy and the field path. Opened with `pii`; each whole value
 * shown is recorded in the request's `disclosures`.
 */
export function toFieldChanges(correction: Correction, pii: PiiCipher, disclosures: PiiDisclosures): FieldChange[] {
  const open = (field: string, value: string | null, keyId: string | null) => reveal(correction, field, value, keyId, pii, disclosures);
  return correction.sealedChanges.map((row: CorrectionChangeEntity) =>
    Object.assign(new FieldChange(), {
      field: row.field,
      before: open(row.field, row.beforeValue, row.beforeKeyId),
      after: open(row.field, row.afterValue, row.afterKeyId),
    }),
  );
}

function reveal(correction: Correction, field: string, value: string | null, keyId: string | null, pii: PiiCipher, disclosures: PiiDisclosures): string | null {
  const kind = sealedKind(field);
  if (value === null || kind === null) return value;
  const clear = pii.decryptNullable(value, keyId);
  if (clear === null) return null;
  const { view } = correction;
  if (view.mode !== 'FULL') return kind === 'idNumber' ? maskIdNumber(clear) : maskPhone(clear);
  if (view.disclosure) disclosures.record({ ...view.disclosure, policyNo: correction.policyNo }, field);
  return clear;
}
