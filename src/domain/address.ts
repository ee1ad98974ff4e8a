/**
 * Placeholder and vague addresses. The policyholder's address is required
 * (Art. 6(3)); the historical clean-up targets addresses that are "missing,
 * false or outdated", and insurers flag an address "too vague"
 * (DOMAIN.md "Signals used by insurers").
 *
 * Heuristic, deterministic and applied in this order to the value after
 * Unicode NFKC (full-width becomes ASCII), lower-casing and removal of all
 * whitespace ("compact" form):
 * 1. EMPTY: nothing left.
 * 2. PLACEHOLDER: the compact form, or its "meaningful" form (compact without
 *    punctuation and symbols), is a known placeholder (`无`, `不详`, `未知`,
 *    `n/a`, `na`, `none`, `null`, `-`, `/`, `.`, `x`, `xxx`, `同上`, `暂无`,
 *    `test`, …); or the meaningful form is empty (only punctuation), digits
 *    only, or one character repeated.
 * 3. TOO_SHORT: fewer than 6 meaningful characters (code points).
 * 4. VAGUE: no digit and none of the place markers 路 街 道 号 巷 弄 村 组 室
 *    栋 楼 幢 单元 里 胡同 大厦 小区 (nor, for addresses written in Latin
 *    letters, one of the words road, street, avenue, lane, alley, room,
 *    building, floor, block, tower, village), e.g. `上海市浦东新区`.
 */

export type AddressProblem = 'EMPTY' | 'PLACEHOLDER' | 'TOO_SHORT' | 'VAGUE';

/** Minimum number of meaningful characters of a usable address. */
export const MIN_ADDRESS_CHARS = 6;

/** Placeholders seen in partner data, compared in compact lower-case form. */
export const ADDRESS_PLACEHOLDERS: readonly string[] = [
  '无', '不详', '未知', 'n/a', 'na', 'none', 'null', 'nil', 'undefined', '-', '--', '/', '.', 'x', 'xx', 'xxx',
  '同上', '暂无', 'test', '测试', '空', '无地址', '地址不详', '待定', '待补充',
];

/** Markers of a street-level address (Chinese). */
export const ADDRESS_MARKERS: readonly string[] = [
  '路', '街', '道', '号', '巷', '弄', '村', '组', '室', '栋', '楼', '幢', '单元', '里', '胡同', '大厦', '小区',
];

const LATIN_MARKERS = /\b(road|rd|street|st|avenue|ave|lane|alley|room|rm|building|bldg|floor|block|tower|village)\b/u;
const PLACEHOLDER_SET = new Set(ADDRESS_PLACEHOLDERS);

function compact(raw: string): string {
  return raw.normalize('NFKC').toLowerCase().replace(/\s+/gu, '');
}

function meaningful(compactForm: string): string {
  return compactForm.replace(/[\p{P}\p{S}]/gu, '');
}

/** The problem of an address under the heuristic above, or `null` when it looks usable. */
export function addressProblem(raw: string | null | undefined): AddressProblem | null {
  const c = compact(raw ?? '');
  if (c === '') return 'EMPTY';
  const m = meaningful(c);
  const chars = Array.from(m);
  if (PLACEHOLDER_SET.has(c) || PLACEHOLDER_SET.has(m) || m === '' || /^\d+$/.test(m)) return 'PLACEHOLDER';
  if (chars.every((ch) => ch === chars[0])) return 'PLACEHOLDER';
  if (chars.length < MIN_ADDRESS_CHARS) return 'TOO_SHORT';
  const spaced = (raw ?? '').normalize('NFKC').toLowerCase();
  const hasMarker = /\d/.test(m) || ADDRESS_MARKERS.some((k) => m.includes(k)) || LATIN_MARKERS.test(spaced);
  return hasMarker ? null : 'VAGUE';
}

/**
 * True when the address is empty, a placeholder, too short or too vague
 * (see the file comment): the condition of the `ADDRESS_PLACEHOLDER` issue.
 */
export function isPlaceholderAddress(raw: string | null | undefined): boolean {
  return addressProblem(raw) !== null;
}
