import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { isErrorCode } from './errors';

/** Apollo's own codes for requests that never reached a resolver: all of them are the caller's bad input. */
const BAD_REQUEST_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'OPERATION_RESOLUTION_FAILURE', 'PERSISTED_QUERY_NOT_SUPPORTED', 'PERSISTED_QUERY_NOT_FOUND']);

/** Extensions that services attach on purpose and that carry no personal data. */
const SAFE_EXTENSIONS = ['field', 'missing', 'issues', 'currentVersion', 'reason', 'limit', 'detail', 'allowed'];

/**
 * The one place errors are shaped for the wire. Errors with a contract code
 * keep it (and their safe extensions); everything else becomes
 * INTERNAL_SERVER_ERROR with a generic message (the error-logging plugin has
 * logged it with the request id, which the response carries in
 * `x-request-id`). No stack trace, SQL, path or person's data reaches a client.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  {
    const original = unwrapResolverError(error);
    const code = formatted.extensions?.code;
    const base = { message: formatted.message, ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };

    if (isErrorCode(code) && code !== 'INTERNAL_SERVER_ERROR' && !isUnexpected(original)) {
      const extensions: Record<string, unknown> = { code };
      for (const key of SAFE_EXTENSIONS) if (formatted.extensions?.[key] !== undefined) extensions[key] = formatted.extensions[key];
      return { ...base, message: code === 'BAD_USER_INPUT' ? scrubValues(formatted.message) : formatted.message, extensions };
    }
    if (typeof code === 'string' && BAD_REQUEST_CODES.has(code)) {
      return { ...base, message: scrubValues(formatted.message), extensions: { code: 'BAD_USER_INPUT', detail: code } };
    }
    return {
      message: 'Internal server error: quote the x-request-id response header when reporting it',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  }
}

/** A thrown non-GraphQL error (a driver error, a TypeError) is never shown, whatever it carries. */
export function isUnexpected(original: unknown): boolean {
  return original instanceof Error && !('extensions' in original);
}

/**
 * graphql-js echoes a rejected variable's value twice ("got invalid value
 * 13800138000 at \"i.p\"; String cannot represent a non string value:
 * 13800138000", "Value \"C\" does not exist in \"E\" enum"): the value can be
 * a phone or an ID number, and goes into logs too. Keep the variable, the
 * path and the kind of problem; drop every echo of the value.
 */
export function scrubValues(message: string): string {
  const head = /^(Variable "\$[^"]+" )got invalid value /.exec(message);
  if (!head) return message;
  const variable = head[1]!;
  // The value is graphql-js's inspect() of it and may itself hold '; ' or ' at "' (issue 11 fuzz: "'); drop table policy; --"
  // left the rest of a person's input in the message): skip it by its quotes and brackets, not by the first separator.
  const rest = message.slice(endOfInspectedValue(message, head[0].length));
  const parts = /^(?:( at "[^"]*"))?(?:; ([\s\S]*))?$/.exec(rest);
  if (!parts) return `${variable}got an invalid value`;
  const [, at = '', reason = ''] = parts;
  const kind = reason
    .replace(/Value "[\s\S]*?" does not exist in/, 'The value does not exist in')
    .replace(/\s*Did you mean[\s\S]*$/, '')
    .replace(/(cannot represent[^:]*|[Ee]xpected[^:]*?)\s*:[\s\S]*$/, '$1')
    .trim();
  return `${variable}got an invalid value${at}${kind ? `; ${kind}` : ''}`;
}

/**
 * Where the inspected value that starts at `start` ends: the first ` at "` or
 * `; ` outside its JSON-quoted strings and its brackets (inspect() quotes
 * every string with JSON.stringify, so a quote inside one is escaped).
 */
function endOfInspectedValue(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') depth -= 1;
    else if (depth <= 0 && (text.startsWith(' at "', i) || text.startsWith('; ', i))) return i;
  }
  return text.length;
}
