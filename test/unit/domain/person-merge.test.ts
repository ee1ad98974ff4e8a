import { blankFields, mergeClearFields, type ClearPerson } from '../../../src/domain/person-merge';

const stored: ClearPerson = { name: '张三', gender: 'MALE', birthDate: '1980-01-02', idType: 'RESIDENT_ID', address: '上海市浦东新区世纪大道1号' };

describe('mergeClearFields: a later record with blanks does not erase what the insurer holds', () => {
  it('keeps every stored value the incoming record leaves blank (null) or out (undefined)', () => {
    const { merged, changed } = mergeClearFields(stored, { name: null, gender: undefined });
    expect(merged).toEqual(stored);
    expect(changed).toEqual([]);
  });

  it('replaces the values given and names only those that really differ, in PERSON_FIELDS order', () => {
    const { merged, changed } = mergeClearFields(stored, { address: '北京市朝阳区建国路2号', name: '张三', birthDate: '1980-01-03' });
    expect(merged).toEqual({ ...stored, address: '北京市朝阳区建国路2号', birthDate: '1980-01-03' });
    expect(changed).toEqual(['birthDate', 'address']);
  });

  it('leaves the stored object and its other properties alone', () => {
    const row = { ...stored, id: 'p1' };
    const { merged } = mergeClearFields(row, { name: '李四' });
    expect(row.name).toBe('张三');
    expect(merged).toEqual({ ...row, name: '李四' });
  });
});

describe('blankFields', () => {
  it('lists absent clear values and sealed values not held', () => {
    expect(blankFields({ ...stored, gender: null }, { idNumber: true, phone: false })).toEqual(['gender', 'phone']);
    expect(blankFields(stored, { idNumber: true, phone: true })).toEqual([]);
  });
});
