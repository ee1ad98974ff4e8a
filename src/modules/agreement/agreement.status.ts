/**
 * Pure rules of the agreement lifecycle (no I/O): status at an instant,
 * the scopes an agreement carries, which side of it an organization is on.
 * The grants loader evaluates the same ACTIVE condition in SQL
 * (`ACTIVE_AGREEMENT_SQL` in grant.queries.ts); a test holds the two together.
 */
import { AGREEMENT_SCOPES, type AgreementScope, type AgreementStatus } from './agreement.entity';

/** The columns the status depends on. */
export interface AgreementState {
  validFrom: Date;
  validTo: Date;
  insurerSignedAt: Date | null;
  partnerSignedAt: Date | null;
  terminatedAt: Date | null;
}

/**
 * The status at `now` (the request's instant), in this order:
 * 1. TERMINATED once terminated, whatever else holds;
 * 2. PROPOSED until both sides have signed;
 * 3. EXPIRED from `validTo` on (the window is `validFrom <= now < validTo`);
 * 4. ACTIVE from `validFrom` on;
 * 5. otherwise (both signed, window not yet open) PROPOSED as well: the
 *    contract has no "signed but not yet in force" status, and PROPOSED is
 *    the one that grants nothing, which is what such an agreement does.
 * A proposal never countersigned stays PROPOSED after `validTo` (it never
 * was in force, so it cannot have expired); it can no longer be signed.
 */
export function agreementStatus(agreement: AgreementState, now: Date): AgreementStatus {
  if (agreement.terminatedAt) return 'TERMINATED';
  if (!agreement.insurerSignedAt || !agreement.partnerSignedAt) return 'PROPOSED';
  const t = now.getTime();
  if (t >= agreement.validTo.getTime()) return 'EXPIRED';
  if (agreement.validFrom.getTime() <= t) return 'ACTIVE';
  return 'PROPOSED';
}

/** True while the agreement grants its scopes: both signed, not terminated, `validFrom <= now < validTo`. */
export function isActiveAt(agreement: AgreementState, now: Date): boolean {
  return agreementStatus(agreement, now) === 'ACTIVE';
}

export function isAgreementScope(value: unknown): value is AgreementScope {
  return typeof value === 'string' && (AGREEMENT_SCOPES as readonly string[]).includes(value);
}

/** Deduplicated, in contract order (so equal sets store equal strings). */
export function normalizeScopes(scopes: Iterable<string>): AgreementScope[] {
  const wanted = new Set(scopes);
  return AGREEMENT_SCOPES.filter((scope) => wanted.has(scope));
}

/** The stored comma-separated form. */
export function formatScopes(scopes: Iterable<AgreementScope>): string {
  return normalizeScopes(scopes).join(',');
}

/** Reads the stored form back; unknown values (none should exist) are dropped, never granted. */
export function parseScopes(stored: string): AgreementScope[] {
  return normalizeScopes(stored.split(',').filter(isAgreementScope));
}

/** What an organization holds on an insurer now, and through which agreements. */
export interface Grant {
  scopes: ReadonlySet<AgreementScope>;
  /** The ACTIVE agreements behind the scopes; empty for the insurer itself and when nothing is granted. */
  agreementIds: string[];
}

export const NO_GRANT: Grant = Object.freeze({ scopes: new Set<AgreementScope>(), agreementIds: [] }) as Grant;

/** An insurer holds every scope on its own data, through no agreement. */
export const OWN_GRANT: Grant = Object.freeze({ scopes: new Set<AgreementScope>(AGREEMENT_SCOPES), agreementIds: [] }) as Grant;

/** Overlapping ACTIVE agreements between the same pair grant the union of their scopes. */
export function unionGrant(agreements: ReadonlyArray<{ id: string; scopes: string }>): Grant {
  if (agreements.length === 0) return NO_GRANT;
  const scopes = new Set<AgreementScope>();
  for (const agreement of agreements) for (const scope of parseScopes(agreement.scopes)) scopes.add(scope);
  return { scopes, agreementIds: agreements.map((a) => a.id).sort() };
}

export type AgreementSide = 'INSURER' | 'PARTNER';

/** Which side of the agreement `organizationId` is on, or null for a third party. */
export function sideOf(agreement: { insurerId: string; partnerId: string }, organizationId: string): AgreementSide | null {
  if (organizationId === agreement.insurerId) return 'INSURER';
  if (organizationId === agreement.partnerId) return 'PARTNER';
  return null;
}

/** The other party's organization id, seen from `organizationId` (the insurer when a third party asks). */
export function counterpartyOf(agreement: { insurerId: string; partnerId: string }, organizationId: string): string {
  return organizationId === agreement.insurerId ? agreement.partnerId : agreement.insurerId;
}
