/**
 * Realistic sales records for the benchmark, made up and deterministic: three
 * people each (policyholder, a different insured, one beneficiary), about 5%
 * incomplete (no policyholder phone) and about 1% suspect (a resident ID with
 * a wrong check digit). Every person of a run has a distinct, valid ID number.
 */
import type { Gender } from '../../src/domain/enums';
import { makeResidentId } from '../../src/domain/resident-id';

const REGIONS = ['110105', '310115', '440305', '330106', '510104', '420102', '320102', '370102'];
const BASE_DAY = Date.UTC(1950, 0, 1);
const DAY_MS = 86_400_000;

/** The n-th made-up person of a run (n from 0): unique resident ID, mobile phone, street address. */
export function benchPerson(n: number, options: { phone?: boolean; badChecksum?: boolean } = {}) {
  const gender: Gender = n % 2 ? 'MALE' : 'FEMALE';
  const perDay = REGIONS.length * 500;
  const birthDate = new Date(BASE_DAY + Math.floor(n / perDay) * DAY_MS).toISOString().slice(0, 10);
  const region = REGIONS[n % REGIONS.length]!;
  const slot = Math.floor(n / REGIONS.length) % 500; // 500 sequences of each parity
  const sequence = slot * 2 + (gender === 'MALE' ? 1 : 0);
  let idNumber = makeResidentId({ region, birthDate, sequence, gender });
  if (options.badChecksum) idNumber = idNumber.slice(0, 17) + (idNumber[17] === '0' ? '1' : '0');
  return {
    name: `测试${n}`,
    gender,
    birthDate,
    idType: 'RESIDENT_ID',
    idNumber,
    ...(options.phone === false ? {} : { phone: `13${String(100_000_000 + ((n * 7_919) % 899_999_999)).slice(-9)}` }),
    address: `上海市浦东新区测试路${(n % 9_000) + 1}号${(n % 30) + 1}室`,
  };
}

/** Record `i` of a run (`i` from 0) with policy number `${prefix}-${i}`; people numbered from `3 * i + personBase`. */
export function benchRecord(prefix: string, i: number, personBase = 0, salesPersonCode?: string): Record<string, unknown> {
  const incomplete = i % 20 === 7;
  const suspect = i % 100 === 13;
  const n = personBase + 3 * i;
  // January to November 2026: every date is before the day the bench was written (2026-12-02), so none is refused as future.
  const month = String((i % 11) + 1).padStart(2, '0');
  return {
    policyNo: `${prefix}-${i}`,
    productCode: ['LIFE-20Y', 'WL-30', 'ANNUITY-10', 'HEALTH-LT'][i % 4],
    termMonths: 240,
    applicationDate: `2026-${month}-${String((i % 27) + 1).padStart(2, '0')}`,
    ...(salesPersonCode ? { salesPersonCode } : {}),
    policyholder: benchPerson(n, { phone: !incomplete, badChecksum: suspect }),
    insured: benchPerson(n + 1),
    insuredRelationship: 'OTHER',
    beneficiaries: [{ order: 1, sharePercent: 100, relationshipToInsured: 'OTHER', person: benchPerson(n + 2) }],
  };
}
