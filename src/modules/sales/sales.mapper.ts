import { maskPhone } from '../../domain/masking';
import type { PiiCipher } from '../person/pii';
import { Completeness, CompletenessIssue } from '../policy/completeness.type';
import type { SalesPersonEntity } from '../policy/sales-person.entity';
import type { SalesRecordOutcome } from '../policy/policy-batch';
import type { SubmitSalesResult } from './sales.service';
import { FieldError, SalesPerson, SalesRecordResult, SubmitSalesPayload } from './sales.type';

function toCompleteness(verdict: NonNullable<SalesRecordOutcome['completeness']>): Completeness {
  return Object.assign(new Completeness(), {
    status: verdict.status,
    missing: [...verdict.missing],
    issues: verdict.issues.map((i) => Object.assign(new CompletenessIssue(), { field: i.field, code: i.code, message: i.message })),
  });
}

function toResult(outcome: SalesRecordOutcome): SalesRecordResult {
  return Object.assign(new SalesRecordResult(), {
    policyNo: outcome.policyNo,
    accepted: outcome.accepted,
    errors: outcome.errors.map((e) => Object.assign(new FieldError(), { field: e.field, code: e.code, message: e.message })),
    completeness: outcome.completeness ? toCompleteness(outcome.completeness) : null,
    version: outcome.version ?? null,
  });
}

/** The payload of submitSales: policy numbers, codes and field paths only (it is what a replay returns). */
export function toSubmitSalesPayload(result: SubmitSalesResult): SubmitSalesPayload {
  return Object.assign(new SubmitSalesPayload(), {
    batchId: result.batchId,
    replayed: result.replayed,
    accepted: result.accepted,
    rejected: result.rejected,
    results: result.results.map(toResult),
  });
}

/** A registered sales person; the phone is opened here only to be masked (138****5678). */
export function toSalesPerson(entity: SalesPersonEntity, pii: PiiCipher): SalesPerson {
  return Object.assign(new SalesPerson(), {
    id: entity.id,
    code: entity.code,
    name: entity.name,
    phone: maskPhone(pii.decrypt(entity.phoneEnc, entity.keyId)),
    organizationId: entity.organizationId,
  });
}
