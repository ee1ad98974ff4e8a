import type { Completeness as Verdict, CompletenessIssue as Issue, IssueCode } from '../../domain/completeness';
import { isCompletenessStatus } from '../../domain/enums';
import type { PolicyEntity } from './policy.entity';

function isIssue(value: unknown): value is Issue {
  const v = value as Partial<Issue> | null;
  return !!v && typeof v.field === 'string' && typeof v.code === 'string' && typeof v.message === 'string';
}

/**
 * The completeness verdict stored with a policy (written by the sales and
 * correction paths in the same transaction as every change): the status
 * column and the issues JSON. `missing` is the required-field paths among the
 * MISSING issues, exactly what `assessCompleteness` reports and what
 * `policy_missing_field` holds; beneficiary gaps are issues only. A status
 * that cannot be read counts as INCOMPLETE, so nothing unreadable passes underwriting.
 */
export function storedCompleteness(row: Pick<PolicyEntity, 'completeness' | 'issues'>): Verdict {
  let parsed: unknown = [];
  try {
    parsed = JSON.parse(row.issues);
  } catch {
    parsed = [];
  }
  const issues = (Array.isArray(parsed) ? parsed : [])
    .filter(isIssue)
    .map((i) => ({ field: i.field, code: i.code as IssueCode, message: i.message }));
  const missing = issues.filter((i) => i.code === 'MISSING' && !i.field.startsWith('beneficiaries')).map((i) => i.field);
  return { status: isCompletenessStatus(row.completeness) ? row.completeness : 'INCOMPLETE', missing, issues };
}
