/**
 * Calendar dates as `YYYY-MM-DD` strings (proleptic Gregorian, no time zone).
 * Such strings compare correctly with `<` / `>`, which the rest of the domain
 * relies on.
 */

/** Year, month (1-12) and day (1-31) of a calendar date. */
export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/** Gregorian leap year: divisible by 4, except centuries not divisible by 400 (1900 no, 2000 yes). */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Number of days in a month (1-12) of a year. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** True when year/month/day name a real calendar day (year 1..9999). */
export function isRealDate(year: number, month: number, day: number): boolean {
  return (
    Number.isInteger(year) && Number.isInteger(month) && Number.isInteger(day) &&
    year >= 1 && year <= 9999 && month >= 1 && month <= 12 &&
    day >= 1 && day <= daysInMonth(year, month)
  );
}

/** Parses a strict `YYYY-MM-DD` string naming a real day; anything else gives `null`. */
export function parseIsoDate(value: string | null | undefined): CalendarDate | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return isRealDate(year, month, day) ? { year, month, day } : null;
}

/** True for a strict `YYYY-MM-DD` string naming a real day. */
export function isIsoDate(value: string | null | undefined): value is string {
  return parseIsoDate(value) !== null;
}

/** Formats a calendar date as `YYYY-MM-DD`. */
export function formatIsoDate(date: CalendarDate): string {
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/**
 * Today's date in China (UTC+8, no daylight saving), the calendar on which
 * birth dates and application dates are written. Pass `now` to make it pure.
 */
export function todayInChina(now: Date = new Date()): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

/**
 * Age in completed years (周岁) on date `on` of a person born on `birth`.
 * The age goes up on the birthday; someone born on 29 February gets older on
 * 1 March in common years. Both arguments are `YYYY-MM-DD`; throws on others.
 */
export function ageOn(birth: string, on: string): number {
  const b = parseIsoDate(birth);
  const o = parseIsoDate(on);
  if (!b || !o) throw new RangeError('ageOn expects two YYYY-MM-DD dates');
  let age = o.year - b.year;
  if (o.month < b.month || (o.month === b.month && o.day < b.day)) age -= 1;
  return age;
}
