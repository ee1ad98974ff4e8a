/**
 * Test data for the sales push (submitSales): made-up people with valid
 * check characters (makeResidentId) and made-up phones. No real person.
 */
import type { Gender } from '../../src/domain/enums';
import { makeResidentId } from '../../src/domain/resident-id';
import type { TestApp } from './app';
import { createAgreement, createParty } from './factories';

export const SUBMIT_SALES = `mutation($insurerCode: String!, $key: String!, $records: [SalesRecordInput!]!) {
  submitSales(insurerCode: $insurerCode, idempotencyKey: $key, records: $records) {
    batchId replayed accepted rejected
    results { policyNo accepted version errors { field code message } completeness { status missing issues { field code message } } }
  }
}`;

export const REGISTER_SALES_PERSON = `mutation($input: RegisterSalesPersonInput!) {
  registerSalesPerson(input: $input) { id code name phone organization { code } }
}`;

export interface SalesPayload {
  batchId: string;
  replayed: boolean;
  accepted: number;
  rejected: number;
  results: Array<{
    policyNo: string;
    accepted: boolean;
    version: number | null;
    errors: Array<{ field: string; code: string; message: string }>;
    completeness: { status: string; missing: string[]; issues: Array<{ field: string; code: string; message: string }> } | null;
  }>;
}

let counter = 0;

export interface PersonIn {
  name?: string | null;
  gender?: Gender | null;
  birthDate?: string | null;
  idType?: string | null;
  idNumber?: string | null;
  phone?: string | null;
  address?: string | null;
}

/** A complete, made-up adult (unique per call in this test file): valid resident ID, mobile phone, street address. */
export function person(overrides: PersonIn = {}): PersonIn {
  counter += 1;
  const gender: Gender = counter % 2 ? 'MALE' : 'FEMALE';
  const birthDate = `19${60 + (counter % 30)}-0${1 + (counter % 9)}-1${counter % 10}`;
  const sequence = ((counter * 2) % 998) + (gender === 'MALE' ? 1 : 2);
  const region = ['110105', '310115', '440305', '330106'][Math.floor(counter / 499) % 4]!;
  return {
    name: `测试${counter}`,
    gender,
    birthDate,
    idType: 'RESIDENT_ID',
    idNumber: makeResidentId({ region, birthDate, sequence: sequence % 1000, gender }),
    phone: `139${String(10_000_000 + counter * 7_919).slice(-8)}`,
    address: `上海市浦东新区测试路${counter}号`,
    ...overrides,
  };
}

/** A complete record: the policyholder insures itself. */
export function salesRecord(policyNo: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const holder = person();
  return {
    policyNo,
    productCode: 'LIFE-20Y',
    termMonths: 240,
    applicationDate: '2026-01-15',
    policyholder: holder,
    insured: holder,
    insuredRelationship: 'SELF',
    ...overrides,
  };
}

/** An insurer, a bank channel with an attested SALES principal and an ADMIN, and an ACTIVE agreement granting SUBMIT_SALES + READ_POLICIES. */
export async function salesSetup(app: TestApp, scopes: string[] = ['SUBMIT_SALES', 'READ_POLICIES']) {
  const insurer = await createParty(app, 'INSURER', ['ADMIN', 'UNDERWRITER', 'COMPLIANCE']);
  const bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES'], { attested: true });
  const agreement = await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes, proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
  return { insurer, bank, agreement };
}

export async function submit(app: TestApp, key: string, insurerCode: string, idempotencyKey: string, records: unknown[]) {
  return app.gql<{ submitSales: SalesPayload }>(key, SUBMIT_SALES, { insurerCode, key: idempotencyKey, records });
}
