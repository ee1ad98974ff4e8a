import { makeResidentId } from '../../src/domain/resident-id';
import { LIMITS, normalizePolicyNo } from '../../src/modules/policy/policy.validation';
import { checkRecord, MAX_BENEFICIARIES, payloadHash, type SalesRecordData } from '../../src/modules/sales/sales.validation';
import { benchRecord } from '../bench/records';

const TODAY = '2026-03-15';
const ID = makeResidentId({ region: '110105', birthDate: '1980-05-20', sequence: 131 });

function record(overrides: Partial<SalesRecordData> = {}): SalesRecordData {
  const holder = { name: '测试甲', gender: 'MALE', birthDate: '1980-05-20', idType: 'RESIDENT_ID', idNumber: ID, phone: '13800001111', address: '北京市朝阳区测试路1号' };
  return { policyNo: 'P-1', productCode: 'LIFE-20Y', termMonths: 240, applicationDate: '2026-03-01', policyholder: holder, insured: holder, insuredRelationship: 'SELF', ...overrides };
}

const errorsOf = (r: SalesRecordData) => {
  const check = checkRecord(r, TODAY);
  return check.ok ? [] : check.errors.map((e) => `${e.field} ${e.code}`);
};

describe('checkRecord: what makes a record impossible to store', () => {
  it('accepts a complete record and trims, upper-cases the policy number and the seller code', () => {
    const check = checkRecord(record({ policyNo: ' p-1/a_b ', salesPersonCode: ' s-01 ', policyholder: { name: ' 测试甲 ', phone: '  ', address: '' } }), TODAY);
    expect(check).toMatchObject({
      ok: true,
      record: { policyNo: 'P-1/A_B', salesPersonCode: 'S-01', policyholder: { name: '测试甲', phone: null, address: null, idNumber: null } },
    });
  });

  it('takes incomplete records: gaps are completeness issues, not errors', () => {
    expect(errorsOf(record({ policyholder: {}, insured: {}, insuredRelationship: null, beneficiaries: [{ person: {} }] }))).toEqual([]);
  });

  it.each([
    [{ termMonths: 12 }, ['termMonths TERM_TOO_SHORT']],
    [{ termMonths: 1 }, ['termMonths TERM_TOO_SHORT']],
    [{ termMonths: 13 }, []],
    [{ termMonths: 1501 }, ['termMonths INVALID']],
    [{ termMonths: 24.5 }, ['termMonths INVALID']],
    [{ termMonths: undefined }, ['termMonths REQUIRED']],
    [{ policyNo: '' }, ['policyNo REQUIRED']],
    [{ policyNo: 'P 1' }, ['policyNo INVALID']],
    [{ policyNo: 'P'.repeat(LIMITS.policyNo + 1) }, ['policyNo TOO_LONG']],
    [{ productCode: ' ' }, ['productCode REQUIRED']],
    [{ productCode: 'A B' }, ['productCode INVALID']],
    [{ applicationDate: '2026-02-30' }, ['applicationDate INVALID']],
    [{ applicationDate: '2026-03-16' }, ['applicationDate INVALID']],
    [{ applicationDate: null }, ['applicationDate REQUIRED']],
    [{ salesPersonCode: 'S 1' }, ['salesPersonCode INVALID']],
    [{ insuredRelationship: 'COUSIN' }, ['insuredRelationship INVALID']],
    [{ policyholder: { gender: 'X', idType: 'ID_CARD', birthDate: '0999-01-01' } }, ['policyholder.gender INVALID', 'policyholder.birthDate INVALID', 'policyholder.idType INVALID']],
    [{ policyholder: { name: 'x'.repeat(LIMITS.name + 1), address: 'y'.repeat(LIMITS.address + 1), phone: '1'.repeat(LIMITS.phone + 1), idNumber: '1'.repeat(LIMITS.idNumber + 1) } }, [
      'policyholder.name TOO_LONG',
      'policyholder.idNumber TOO_LONG',
      'policyholder.phone TOO_LONG',
      'policyholder.address TOO_LONG',
    ]],
    [{ insured: { name: 42 } }, ['insured.name INVALID']],
    [{ beneficiaries: [{ person: {}, sharePercent: 0 }, { person: {}, sharePercent: 100.5 }, { person: {}, order: 0 }] }, [
      'beneficiaries[0].sharePercent INVALID',
      'beneficiaries[1].sharePercent INVALID',
      'beneficiaries[2].order INVALID',
    ]],
    [{ beneficiaries: Array.from({ length: MAX_BENEFICIARIES + 1 }, () => ({ person: {} })) }, ['beneficiaries INVALID']],
  ] as Array<[Partial<SalesRecordData>, string[]]>)('%j → %j', (overrides, expected) => {
    expect(errorsOf(record(overrides))).toEqual(expected);
  });

  it('counts characters, not bytes: a 100-character Chinese name is fine', () => {
    expect(errorsOf(record({ policyholder: { name: '测'.repeat(100) } }))).toEqual([]);
  });

  it('keeps shares to 4 decimals as text and never puts a value in a message', () => {
    const check = checkRecord(record({ beneficiaries: [{ person: {}, sharePercent: 33.333333, order: 1 }] }), TODAY);
    expect(check.ok && check.record.beneficiaries[0]!.sharePercent).toBe('33.3333');
    const bad = checkRecord(record({ policyholder: { name: 'Z'.repeat(200), phone: '1'.repeat(40) } }), TODAY);
    expect(JSON.stringify(bad)).not.toContain('ZZZZ');
    expect(JSON.stringify(bad)).not.toContain('1111111111');
  });
});

describe('payloadHash', () => {
  it('is the same for the same records, whatever absent vs null and the insurer code case', () => {
    const a = [record({ salesPersonCode: null, beneficiaries: [{ person: { name: 'x' }, sharePercent: 50.5 }] })];
    const b = [{ ...record({ beneficiaries: [{ person: { name: 'x', phone: undefined }, sharePercent: 50.5 }] }) }];
    delete (b[0] as Record<string, unknown>).salesPersonCode;
    expect(payloadHash('demo_life', a)).toBe(payloadHash('DEMO_LIFE', b));
    expect(payloadHash('DEMO_LIFE', a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs for any different value, another insurer or another order', () => {
    const base = [record(), record({ policyNo: 'P-2' })];
    const h = payloadHash('I1', base);
    expect(payloadHash('I2', base)).not.toBe(h);
    expect(payloadHash('I1', [...base].reverse())).not.toBe(h);
    expect(payloadHash('I1', [record(), record({ policyNo: 'P-2', termMonths: 241 })])).not.toBe(h);
    expect(payloadHash('I1', [record({ beneficiaries: [{ person: {}, sharePercent: 50.5 }] })])).not.toBe(payloadHash('I1', [record({ beneficiaries: [{ person: {}, sharePercent: 50.25 }] })]));
  });

  it('hashes exactly the bytes it always hashed (stored batches are compared with them)', () => {
    const records = [benchRecord('PH', 0), null, benchRecord('PH', 7), { policyNo: 'Q', beneficiaries: [{ sharePercent: 33.3333, person: { name: '测 "x"\n' } }], termMonths: 12, extra: undefined }];
    // Digests of sha256(canonicalJson({ insurerCode, records })) taken before the hash was fed record by record.
    expect(payloadHash(' demo_life ', records as never)).toBe('65e4a0254493f290398201078c0f1b4c163fbbc0a2cfc7e0e53313401ded2129');
    expect(payloadHash('I', [])).toBe('ef8797375edca25c7772d9f5879a9c19c9ec55088b7ce909c6d8331b39025953');
  });

  it('normalizes policy numbers like the store does', () => {
    expect(normalizePolicyNo(' ab-1 ')).toBe('AB-1');
    expect(normalizePolicyNo(7)).toBe('');
  });
});

describe('beneficiary order', () => {
  it('keeps beneficiaries by order (none first), then as sent: the order the API lists them and completeness paths count them', () => {
    const check = checkRecord(
      record({
        beneficiaries: [
          { person: { name: 'b2' }, order: 2 },
          { person: { name: 'b1' }, order: 1 },
          { person: { name: 'none' } },
          { person: { name: 'b1-second' }, order: 1 },
        ],
      }),
      TODAY,
    );
    expect(check.ok && check.record.beneficiaries.map((b) => b.person.name)).toEqual(['none', 'b1', 'b1-second', 'b2']);
  });
});
