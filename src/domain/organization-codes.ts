/**
 * The organization codes every module compares (contract "Parties"): codes
 * are case-insensitive on the wire and stored upper-case, and two of them
 * are reserved. Pure: used by services, rules and validation alike.
 */

/** Organization codes are case-insensitive on the wire and stored upper-case. */
export function normalizeCode(code: string): string {
  return code.trim().toUpperCase();
}

/** The code of the one EXCHANGE organization (made at start; its chain is the exchange's own). */
export const EXCHANGE_CODE = 'EXCHANGE';
/** Stands for "no channel" in policy filters and completeness summaries: no organization may take it. */
export const DIRECT_CHANNEL_CODE = 'DIRECT';
