import { createHash } from 'node:crypto';
/**
 * Record-level checks of a sales push (contract README "Writes"): what makes
 * a record impossible to store, reported as field errors, and the normalised
 * form of everything else. Pure: no I/O, no personal data in any message.
 */
import { isLongTerm, LONG_TERM_THRESHOLD_MONTHS } from '../../domain/scope';
import { canonicalJson } from '../../domain/canonical-json';
import { todayInChina } from '../../domain/dates';
import { isRelationship } from '../../domain/enums';
import {
  cleanPerson,
  Collector,
  date,
  LIMITS,
  member,
  normalizePolicyNo,
  POLICY_NO,
  text,
  type CleanBeneficiary,
  type CleanRecord,
  type FieldErrorData,
  type PersonInputData,
} from '../policy/policy.validation';

export interface BeneficiaryInputData {
  person?: PersonInputData | null;
  relationshipToInsured?: unknown;
  sharePercent?: unknown;
  order?: unknown;
}

/** A record as it arrives (GraphQL `SalesRecordInput`). */
export interface SalesRecordData {
  policyNo?: unknown;
  productCode?: unknown;
  termMonths?: unknown;
  applicationDate?: unknown;
  salesPersonCode?: unknown;
  policyholder?: PersonInputData | null;
  insured?: PersonInputData | null;
  insuredRelationship?: unknown;
  beneficiaries?: BeneficiaryInputData[] | null;
}

export type RecordCheck = { ok: true; record: CleanRecord } | { ok: false; policyNo: string; errors: FieldErrorData[] };

/**
 * The records of one batch, judged one by one as `submitSales` judges them:
 * each on its own ({@link checkRecord}), then against the earlier records of
 * the batch (a policy number seen before is DUPLICATE_IN_BATCH). Fed record
 * by record, so a caller can yield between records of a large batch.
 */
export class BatchChecker {
  private readonly seen = new Set<string>();

  constructor(private readonly today: string) {}

  check(input: SalesRecordData | null | undefined): RecordCheck {
    const check = checkRecord(input ?? {}, this.today);
    if (!check.ok) return check;
    if (this.seen.has(check.record.policyNo)) {
      return { ok: false, policyNo: check.record.policyNo, errors: [{ field: 'policyNo', code: 'DUPLICATE_IN_BATCH', message: 'The same policyNo appears earlier in this batch' }] };
    }
    this.seen.add(check.record.policyNo);
    return check;
  }
}

/**
 * The largest batch `submitSales` takes; more is BAD_USER_INPUT before anything
 * is written. The batch's single transfer-log entry names every accepted
 * policy number in rows of `transfer_log_policy` (no column size bounds it);
 * 1000 records (issue 10, the ingest measure) stay well under the default
 * request body limit (KEXIN_MAX_BODY_BYTES, 2 MiB) with three beneficiaries each.
 */
export const MAX_BATCH_RECORDS = 1000;
export const MAX_BENEFICIARIES = 20;
/** Longest term accepted (125 years): anything longer is a unit mistake. */
export const MAX_TERM_MONTHS = 1500;

/** Product and sales person codes: printable, no spaces inside. */
const CODE = /^[A-Za-z0-9\-_/.]+$/;
/** No application date before this is believable. */
const EARLIEST_APPLICATION = '1900-01-01';

/** A sales person code as stored and compared: trimmed, upper-case; null when blank. */
export function normalizeSalesPersonCode(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const code = value.trim().toUpperCase();
  return code === '' ? null : code;
}

/**
 * Checks one record and returns its clean form, or every field error found.
 * Completeness gaps are NOT errors: a record missing a phone is stored and
 * reported INCOMPLETE. `today` (YYYY-MM-DD, China) bounds the application date.
 */
export function checkRecord(input: SalesRecordData, today: string = todayInChina()): RecordCheck {
  const errors = new Collector();
  const rawPolicyNo = normalizePolicyNo(input.policyNo);
  let policyNo = rawPolicyNo;
  if (typeof input.policyNo !== 'string' || rawPolicyNo === '') {
    errors.add('policyNo', 'REQUIRED', 'policyNo is required');
  } else if (rawPolicyNo.length > LIMITS.policyNo) {
    errors.add('policyNo', 'TOO_LONG', `policyNo must be at most ${LIMITS.policyNo} characters`);
    policyNo = rawPolicyNo.slice(0, LIMITS.policyNo);
  } else if (!POLICY_NO.test(rawPolicyNo)) {
    errors.add('policyNo', 'INVALID', 'policyNo may hold only letters, digits, "-", "_" and "/"');
  }

  const productCode = text(input.productCode, 'productCode', LIMITS.productCode, errors);
  if (productCode === null && !errors.errors.some((e) => e.field === 'productCode')) errors.add('productCode', 'REQUIRED', 'productCode is required');
  else if (productCode !== null && !CODE.test(productCode)) errors.add('productCode', 'INVALID', 'productCode may hold only letters, digits, "-", "_", "/" and "."');

  const term = input.termMonths;
  if (typeof term !== 'number' || !Number.isInteger(term)) {
    errors.add('termMonths', term === null || term === undefined ? 'REQUIRED' : 'INVALID', 'termMonths must be a whole number of months');
  } else if (!isLongTerm(term)) {
    errors.add('termMonths', 'TERM_TOO_SHORT', `termMonths must be more than ${LONG_TERM_THRESHOLD_MONTHS}: the measures cover policies with a term over one year`);
  } else if (term > MAX_TERM_MONTHS) {
    errors.add('termMonths', 'INVALID', `termMonths must be at most ${MAX_TERM_MONTHS}`);
  }

  let applicationDate: string | null = null;
  if (input.applicationDate === null || input.applicationDate === undefined) {
    errors.add('applicationDate', 'REQUIRED', 'applicationDate is required');
  } else {
    applicationDate = date(input.applicationDate, 'applicationDate', errors, EARLIEST_APPLICATION);
    if (applicationDate !== null && applicationDate > today) {
      errors.add('applicationDate', 'INVALID', 'applicationDate is in the future');
      applicationDate = null;
    }
  }

  const sellerText = text(input.salesPersonCode, 'salesPersonCode', LIMITS.salesPersonCode, errors);
  if (sellerText !== null && !CODE.test(sellerText)) errors.add('salesPersonCode', 'INVALID', 'salesPersonCode may hold only letters, digits, "-", "_", "/" and "."');
  const salesPersonCode = normalizeSalesPersonCode(sellerText);

  const policyholder = cleanPerson(input.policyholder, 'policyholder', errors);
  const insured = cleanPerson(input.insured, 'insured', errors);
  const insuredRelationship = member(input.insuredRelationship, 'insuredRelationship', isRelationship, errors);

  const beneficiaries: CleanBeneficiary[] = [];
  const rawBeneficiaries = input.beneficiaries ?? [];
  if (!Array.isArray(rawBeneficiaries)) {
    errors.add('beneficiaries', 'INVALID', 'beneficiaries must be a list');
  } else if (rawBeneficiaries.length > MAX_BENEFICIARIES) {
    errors.add('beneficiaries', 'INVALID', `at most ${MAX_BENEFICIARIES} beneficiaries per policy`);
  } else {
    rawBeneficiaries.forEach((b, i) => {
      const path = `beneficiaries[${i}]`;
      const share = b?.sharePercent;
      let sharePercent: string | null = null;
      if (share !== null && share !== undefined) {
        if (typeof share !== 'number' || !Number.isFinite(share) || share <= 0 || share > 100) {
          errors.add(`${path}.sharePercent`, 'INVALID', `${path}.sharePercent must be more than 0 and at most 100`);
        } else {
          sharePercent = String(Math.round(share * 10_000) / 10_000);
        }
      }
      const order = b?.order;
      if (order !== null && order !== undefined && (typeof order !== 'number' || !Number.isInteger(order) || order < 1 || order > 99)) {
        errors.add(`${path}.order`, 'INVALID', `${path}.order must be a whole number from 1 to 99`);
      }
      beneficiaries.push({
        person: cleanPerson(b?.person, path, errors),
        relationshipToInsured: member(b?.relationshipToInsured, `${path}.relationshipToInsured`, isRelationship, errors),
        sharePercent,
        order: typeof order === 'number' && Number.isInteger(order) ? order : null,
      });
    });
  }

  if (errors.errors.length > 0) return { ok: false, policyNo, errors: errors.errors };
  // Stored and reported in the order the API lists them: by `order` (none first), then as sent.
  const rank = (b: CleanBeneficiary) => (b.order === null ? 0 : b.order);
  beneficiaries.sort((a, b) => rank(a) - rank(b));
  return {
    ok: true,
    record: {
      policyNo,
      productCode: productCode!,
      termMonths: term as number,
      applicationDate: applicationDate!,
      salesPersonCode,
      policyholder,
      insured,
      insuredRelationship,
      beneficiaries,
    },
  };
}

/** Drops null/undefined keys and writes fractions as text, so that canonicalJson takes any input. */
function canonicalValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : `n:${String(value)}`;
  if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') return `?:${String(value)}`;
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(canonicalValue);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === null || v === undefined) continue;
      out[k] = canonicalValue(v);
    }
    return out;
  }
  return value;
}

/**
 * SHA-256 (hex) of the canonical JSON of a request, `{"insurerCode":…,"records":[…]}`:
 * the insurer code and the records as received, an absent field and a null
 * one alike. The same idempotency key with another hash is refused, so the
 * bytes hashed must never change (stored batches are compared with them).
 * Fed record by record ({@link add}), so a caller can yield between records
 * of a large batch; the digest is that of the whole text.
 */
export class PayloadHasher {
  private readonly hash = createHash('sha256');
  private count = 0;

  constructor(insurerCode: string) {
    this.hash.update(`{"insurerCode":${canonicalJson(insurerCode.trim().toUpperCase())},"records":[`, 'utf8');
  }

  add(record: SalesRecordData | null | undefined): void {
    this.hash.update((this.count === 0 ? '' : ',') + canonicalJson(canonicalValue(record)), 'utf8');
    this.count += 1;
  }

  digest(): string {
    return this.hash.update(']}', 'utf8').digest('hex');
  }
}

/** {@link PayloadHasher} over a whole request at once. */
export function payloadHash(insurerCode: string, records: readonly SalesRecordData[]): string {
  const hasher = new PayloadHasher(insurerCode);
  for (const record of records) hasher.add(record);
  return hasher.digest();
}
