/**
 * The shape of a correction request (contract `CorrectionInput`): what makes
 * it impossible to accept, as BAD_USER_INPUT with `extensions.field` (and
 * `extensions.reason`), and its normalised form. Pure: no I/O, and no
 * person's data in any message.
 *
 * Decisions (documented in the schema descriptions too):
 * - `changes`: a field left out, or null, keeps the stored value; a blank
 *   string is refused (a correction sets values the customer gave, it never
 *   clears one). Values are checked as the sales push checks them: shape
 *   only; a malformed phone or a wrong check digit is stored and reported by
 *   the completeness verdict, as it would be from a sale.
 * - At least one value (a person field or `insuredRelationship`) must be given.
 * - `beneficiaryOrder` is required for target BENEFICIARY and refused otherwise.
 * - Evidence (the staff attestation forbids changes on a customer's behalf
 *   without the customer's request): a method, a reference of 1 to 200
 *   characters, and the time the customer confirmed, not in the future
 *   (a few minutes of clock skew are tolerated) and not older than
 *   {@link MAX_EVIDENCE_AGE_DAYS} days.
 */
import type { Relationship } from '../../domain/enums';
import { isRelationship } from '../../domain/enums';
import { PERSON_FIELDS, type PersonField } from '../../domain/person-facts';
import { BadInputError } from '../../graphql/errors';
import { normalizeCode } from '../../domain/organization-codes';
import { checkPerson, LIMITS, normalizePolicyNo, POLICY_NO, type CleanPerson, type PersonInputData } from '../policy/policy.validation';
import { EVIDENCE_METHODS, PERSON_ROLES, type EvidenceMethod, type PersonRole } from './correction.entity';

export const MAX_EVIDENCE_REFERENCE = 200;
/** Evidence older than this is refused: the request must be recent enough to still reflect the customer's wish. */
export const MAX_EVIDENCE_AGE_DAYS = 365;
/** Tolerated difference between the caller's clock and ours for `confirmedAt`. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface EvidenceInputData {
  method?: unknown;
  reference?: unknown;
  confirmedAt?: unknown;
}

/** A correction as it arrives (GraphQL `CorrectionInput`); values are checked, not trusted. */
export interface CorrectionInputData {
  insurerCode?: unknown;
  policyNo?: unknown;
  target?: unknown;
  beneficiaryOrder?: unknown;
  changes?: PersonInputData | null;
  insuredRelationship?: unknown;
  evidence?: EvidenceInputData | null;
  expectedVersion?: unknown;
}

/** The person fields a correction sets (only those given; never null). */
export type PersonChanges = { [K in PersonField]?: NonNullable<CleanPerson[K]> };

export interface CleanCorrection {
  insurerCode: string;
  policyNo: string;
  target: PersonRole;
  beneficiaryOrder: number | null;
  changes: PersonChanges;
  insuredRelationship: Relationship | null;
  evidence: { method: EvidenceMethod; reference: string; confirmedAt: Date };
  expectedVersion: number;
}

function refuse(field: string, reason: string, message: string): never {
  throw new BadInputError(message, { field, reason });
}

/**
 * Checks a correction request at `now` and returns its clean form; throws
 * BAD_USER_INPUT (the first problem found, with its field path) otherwise.
 */
export function checkCorrection(input: CorrectionInputData, now: Date): CleanCorrection {
  const insurerCode = typeof input.insurerCode === 'string' ? normalizeCode(input.insurerCode) : '';
  if (insurerCode === '') refuse('insurerCode', 'REQUIRED', 'insurerCode is required');
  const policyNo = normalizePolicyNo(input.policyNo);
  if (policyNo === '' || policyNo.length > LIMITS.policyNo || !POLICY_NO.test(policyNo)) {
    refuse('policyNo', 'INVALID', `policyNo must be 1 to ${LIMITS.policyNo} letters, digits, "-", "_" or "/"`);
  }

  const target = input.target;
  if (typeof target !== 'string' || !(PERSON_ROLES as readonly string[]).includes(target)) refuse('target', 'INVALID', 'target must be POLICYHOLDER, INSURED or BENEFICIARY');
  const role = target as PersonRole;
  const order = input.beneficiaryOrder;
  let beneficiaryOrder: number | null = null;
  if (role === 'BENEFICIARY') {
    if (typeof order !== 'number' || !Number.isInteger(order) || order < 1 || order > 99) {
      refuse('beneficiaryOrder', 'REQUIRED', 'beneficiaryOrder (1 to 99) names the beneficiary to correct when target is BENEFICIARY');
    }
    beneficiaryOrder = order as number;
  } else if (order !== null && order !== undefined) {
    refuse('beneficiaryOrder', 'INVALID', 'beneficiaryOrder is only for target BENEFICIARY');
  }

  const version = input.expectedVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) refuse('expectedVersion', 'INVALID', 'expectedVersion must be the current version of the policy (1 or more)');

  const changes = checkChanges(input.changes);
  let insuredRelationship: Relationship | null = null;
  if (input.insuredRelationship !== null && input.insuredRelationship !== undefined) {
    if (!isRelationship(input.insuredRelationship)) refuse('insuredRelationship', 'INVALID', 'insuredRelationship is not one of the values of its enum');
    insuredRelationship = input.insuredRelationship;
  }
  if (Object.keys(changes).length === 0 && insuredRelationship === null) {
    refuse('changes', 'NO_CHANGE', 'A correction changes at least one value: give a field of changes or insuredRelationship');
  }

  return {
    insurerCode,
    policyNo,
    target: role,
    beneficiaryOrder,
    changes,
    insuredRelationship,
    evidence: checkEvidence(input.evidence, now),
    expectedVersion: version as number,
  };
}

/** The fields given in `changes`, checked like a sales record's person; a blank string is refused. */
export function checkChanges(input: PersonInputData | null | undefined): PersonChanges {
  const raw = (input ?? {}) as Record<PersonField, unknown>;
  for (const field of PERSON_FIELDS) {
    const value = raw[field];
    if (typeof value === 'string' && value.trim() === '') {
      refuse(`changes.${field}`, 'BLANK', `changes.${field} is blank: leave a field out to keep its value (a correction does not clear values)`);
    }
  }
  const { person, errors } = checkPerson(raw, 'changes');
  const first = errors[0];
  if (first) refuse(first.field, first.code, first.message);
  const out: PersonChanges = {};
  for (const field of PERSON_FIELDS) {
    const value = person[field];
    if (value !== null) (out as Record<string, unknown>)[field] = value;
  }
  return out;
}

/** The customer's evidence: method, reference (1 to 200 characters), confirmedAt (not in the future, not too old). */
export function checkEvidence(input: EvidenceInputData | null | undefined, now: Date): CleanCorrection['evidence'] {
  if (!input || typeof input !== 'object') refuse('evidence', 'REQUIRED', 'evidence of the customer\'s request is required');
  const method = input.method;
  if (typeof method !== 'string' || !(EVIDENCE_METHODS as readonly string[]).includes(method)) {
    refuse('evidence.method', 'INVALID', `evidence.method must be one of ${EVIDENCE_METHODS.join(', ')}`);
  }
  const reference = typeof input.reference === 'string' ? input.reference.trim() : '';
  if (reference === '') refuse('evidence.reference', 'REQUIRED', 'evidence.reference must name where the evidence is kept (form number, recording id…)');
  if (Array.from(reference).length > MAX_EVIDENCE_REFERENCE) refuse('evidence.reference', 'TOO_LONG', `evidence.reference must be at most ${MAX_EVIDENCE_REFERENCE} characters`);
  const at = input.confirmedAt;
  const confirmedAt = at instanceof Date ? at : typeof at === 'string' ? new Date(at) : null;
  if (!confirmedAt || Number.isNaN(confirmedAt.getTime())) refuse('evidence.confirmedAt', 'REQUIRED', 'evidence.confirmedAt must be the instant the customer confirmed the request');
  if (confirmedAt.getTime() > now.getTime() + CLOCK_SKEW_MS) refuse('evidence.confirmedAt', 'FUTURE', 'evidence.confirmedAt is in the future');
  if (confirmedAt.getTime() < now.getTime() - MAX_EVIDENCE_AGE_DAYS * DAY_MS) {
    refuse('evidence.confirmedAt', 'TOO_OLD', `evidence.confirmedAt is more than ${MAX_EVIDENCE_AGE_DAYS} days ago: obtain a fresh confirmation from the customer`);
  }
  return { method: method as EvidenceMethod, reference, confirmedAt };
}

/** Field path of the corrected person: `policyholder`, `insured`, `beneficiaries[i]` (i: position in the policy, as in completeness issues). */
export function personPath(target: PersonRole, beneficiaryIndex: number | null): string {
  if (target === 'POLICYHOLDER') return 'policyholder';
  if (target === 'INSURED') return 'insured';
  return `beneficiaries[${beneficiaryIndex ?? 0}]`;
}

/**
 * The field paths a request asks to change, before the policy is read (for
 * the log entry of a refused attempt): a beneficiary's position is not known
 * yet, so its fields are named `beneficiaries.<field>`.
 */
export function requestedPaths(c: Pick<CleanCorrection, 'target' | 'changes' | 'insuredRelationship'>): string[] {
  const prefix = c.target === 'BENEFICIARY' ? 'beneficiaries' : personPath(c.target, null);
  const out = PERSON_FIELDS.filter((f) => c.changes[f] !== undefined).map((f) => `${prefix}.${f}`);
  if (c.insuredRelationship !== null) out.push('insuredRelationship');
  return out;
}
