import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';

/**
 * `DateTime`: an instant, ISO 8601 in UTC with milliseconds. type-graphql 2
 * names its default `DateTimeISO`; the contract says `DateTime`, so the same
 * scalar is renamed and mapped to JS `Date` in buildSchema's scalarsMap.
 */
const dateTimeISO = GraphQLDateTimeISO.toConfig();

/** graphql-scalars writes the rejected value into its message ("invalid date-time-string <value>"): the caller's input, possibly a person's data, goes back out and into logs. Same check, no echo. */
function withoutEcho<A extends unknown[], R>(parse: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    try {
      return parse(...args);
    } catch {
      throw new GraphQLError('DateTime must be an ISO 8601 instant, e.g. 2026-01-31T08:00:00.000Z', { extensions: { code: 'BAD_USER_INPUT' } });
    }
  };
}

export const DateTimeScalar = new GraphQLScalarType({
  ...dateTimeISO,
  name: 'DateTime',
  description: 'An instant in UTC, ISO 8601 with milliseconds, e.g. 2026-01-31T08:00:00.000Z.',
  parseValue: withoutEcho(dateTimeISO.parseValue!),
  parseLiteral: withoutEcho(dateTimeISO.parseLiteral!),
});

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD. */
export function isCalendarDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function parseDate(value: unknown): string {
  if (typeof value !== 'string' || !isCalendarDate(value)) {
    throw new GraphQLError('Date must be a calendar date written YYYY-MM-DD', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value;
}

/** `Date`: a calendar date with no time zone, carried as the string 'YYYY-MM-DD'. */
export const DateScalar = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'A calendar date, YYYY-MM-DD.',
  serialize: (value) => {
    if (value instanceof Date) return value.toISOString().slice(0, 10);
    return parseDate(value);
  },
  parseValue: parseDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('Date must be a string YYYY-MM-DD', { extensions: { code: 'BAD_USER_INPUT' } });
    return parseDate(ast.value);
  },
});
