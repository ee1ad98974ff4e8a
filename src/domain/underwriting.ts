/**
 * Art. 6(3) of the measures: underwriting may not pass while the customer
 * information it requires is missing, and (the contract's reading of the
 * authenticity duty) a record that fails an authenticity check passes only
 * with a stated override reason, which is kept and logged. Pure: the service
 * loads the stored verdict, this decides, the service acts on the decision.
 */
import type { Completeness } from './completeness';

/** What underwriting a policy with a given verdict comes to. */
export type UnderwritingDecision =
  /** Refused with INCOMPLETE_CUSTOMER_INFO: the missing required paths. */
  | { outcome: 'INCOMPLETE'; missing: string[] }
  /** Refused with SUSPECT_CUSTOMER_INFO: the issue codes that need an override. */
  | { outcome: 'SUSPECT'; issues: string[] }
  /** Underwritten; `override` is set when SUSPECT issues were overridden, with the reason and the codes it covers. */
  | { outcome: 'UNDERWRITE'; override: { reason: string; issues: string[] } | null };

/** The distinct codes of the issues that make a record SUSPECT (policyholder, insured, their relationship; not beneficiaries). */
export function suspectCodes(verdict: Completeness): string[] {
  return [...new Set(verdict.issues.filter((i) => !i.field.startsWith('beneficiaries')).map((i) => i.code))];
}

/**
 * Art. 6(3): the decision on underwriting a policy whose stored verdict is
 * `verdict`, with `overrideReason` (already trimmed; null when none was
 * given). INCOMPLETE is refused whatever the reason; SUSPECT is refused
 * without a reason and underwritten as an override with one; COMPLETE is
 * underwritten, and a reason given anyway is not an override.
 */
export function underwritingArt6_3(verdict: Completeness, overrideReason: string | null): UnderwritingDecision {
  if (verdict.status === 'INCOMPLETE') return { outcome: 'INCOMPLETE', missing: verdict.missing };
  if (verdict.status === 'COMPLETE') return { outcome: 'UNDERWRITE', override: null };
  const issues = suspectCodes(verdict);
  if (overrideReason === null) return { outcome: 'SUSPECT', issues };
  return { outcome: 'UNDERWRITE', override: { reason: overrideReason, issues } };
}
