/** Made-up test data for the domain tests: no real person's data. */
import { makeResidentId } from '../../../src/domain/resident-id';
import { PersonData, RecordData } from '../../../src/domain/completeness';

/** Fixed "today" of the tests (a date in China). */
export const TODAY = '2026-03-15';
export const APPLICATION_DATE = '2026-03-01';

export const PH_ID = makeResidentId({ region: '110105', birthDate: '1980-05-20', sequence: 131 }); // male
export const INS_ID = makeResidentId({ region: '310115', birthDate: '2010-08-08', sequence: 242 }); // female

export function policyholder(overrides: Partial<PersonData> = {}): PersonData {
  return {
    name: '测试甲',
    gender: 'MALE',
    birthDate: '1980-05-20',
    idType: 'RESIDENT_ID',
    idNumber: PH_ID,
    phone: '13800001111',
    address: '北京市朝阳区测试路1号',
    ...overrides,
  };
}

export function insured(overrides: Partial<PersonData> = {}): PersonData {
  return {
    name: '测试乙',
    gender: 'FEMALE',
    birthDate: '2010-08-08',
    idType: 'RESIDENT_ID',
    idNumber: INS_ID,
    ...overrides,
  };
}

/** A record that is COMPLETE: the insured is the policyholder's child. */
export function record(overrides: Partial<RecordData> = {}): RecordData {
  return {
    policyholder: policyholder(),
    insured: insured(),
    insuredRelationship: 'CHILD',
    beneficiaries: [],
    applicationDate: APPLICATION_DATE,
    ...overrides,
  };
}
