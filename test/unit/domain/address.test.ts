import {
  ADDRESS_MARKERS,
  ADDRESS_PLACEHOLDERS,
  addressProblem,
  isPlaceholderAddress,
} from '../../../src/domain/address';

describe('isPlaceholderAddress', () => {
  it.each(['无', '不详', '未知', 'n/a', 'na', 'none', 'null', '-', '/', '.', 'x', 'xxx', '同上', '暂无', 'test'])(
    'flags the placeholder %p',
    (raw) => {
      expect(addressProblem(raw)).toBe('PLACEHOLDER');
      expect(isPlaceholderAddress(raw)).toBe(true);
    },
  );

  it('flags every listed placeholder, in any case and with spaces or full-width forms', () => {
    for (const p of ADDRESS_PLACEHOLDERS) expect(addressProblem(p)).toBe('PLACEHOLDER');
    for (const raw of ['N/A', ' n / a ', 'N.A.', 'NONE', 'Null', 'TEST', 'ｔｅｓｔ', 'ＸＸＸ', ' 无 ', '——', '...', '///', '- - -']) {
      expect(addressProblem(raw)).toBe('PLACEHOLDER');
    }
  });

  it.each(['123456', '１２３４５６７８', '0000000000', '12 34 56-78'])('flags digits only: %p', (raw) =>
    expect(addressProblem(raw)).toBe('PLACEHOLDER'),
  );

  it.each(['啊啊啊啊啊啊啊', 'aaaaaaaaa', 'XXXXXXXX', '路路路路路路'])('flags one repeated character: %p', (raw) =>
    expect(addressProblem(raw)).toBe('PLACEHOLDER'),
  );

  it.each([null, undefined, '', '   ', '\t\n'])('flags empty %p', (raw) => {
    expect(addressProblem(raw)).toBe('EMPTY');
    expect(isPlaceholderAddress(raw)).toBe(true);
  });

  it.each(['北京市', '朝阳区1号', '测试路5号', 'abc12', '1号楼'])('flags fewer than 6 meaningful characters: %p', (raw) =>
    expect(addressProblem(raw)).toBe('TOO_SHORT'),
  );

  it('counts meaningful characters after removing whitespace and punctuation', () => {
    expect(addressProblem('测试 路, 5 号!')).toBe('TOO_SHORT'); // 测试路5号: 5 characters
    expect(addressProblem('测试 路, 15 号!')).toBeNull(); // 6 characters
  });

  it.each(['上海市浦东新区', '广东省深圳市南山区', '浙江省杭州市西湖区', '北京市朝阳区', 'Pudong, Shanghai'])(
    'flags a vague address with no street, building or number: %p',
    (raw) => expect(addressProblem(raw)).toBe('VAGUE'),
  );

  it.each([
    '北京市朝阳区测试路1号',
    '上海市浦东新区测试路',
    '广州市天河区测试大街',
    '深圳市南山区测试街道',
    '某某省某某县某某村',
    '某某县某某镇三组',
    '某某市某某区二号院',
    '某某市某某巷子里',
    '上海市黄浦区某某弄',
    '某某市某某区某某室',
    '某某市某某区某某栋',
    '某某市某某区某某楼',
    '某某市某某区某某幢',
    '某某市某某区某某单元',
    '北京市东城区某某胡同',
    '某某市某某区某某大厦',
    '某某市某某区某某小区',
    '某某市某某区某某里',
    '成都市武侯区测试社区8',
    '成都市武侯区测试社区８',
    'Room 5, Test Tower, Pudong',
    'Flat A, Test Building',
    'Sample Road, Sample City',
  ])('accepts %p', (raw) => {
    expect(addressProblem(raw)).toBeNull();
    expect(isPlaceholderAddress(raw)).toBe(false);
  });

  it('accepts each marker on its own', () => {
    for (const m of ADDRESS_MARKERS) expect(addressProblem(`测试省测试市${m}`)).toBeNull();
  });

  it('is deterministic', () => {
    expect([1, 2, 3].map(() => addressProblem('上海市浦东新区'))).toEqual(['VAGUE', 'VAGUE', 'VAGUE']);
  });
});
