import type { DataSource, Logger } from 'typeorm';

/**
 * Records every SQL statement `db` sends, through its logger (TypeORM hands
 * each statement to `logQuery` whether logging prints or not), and with its
 * parameters in `calls` (to EXPLAIN it again).
 */
export function recordStatements(db: DataSource): { statements: string[]; calls: Array<{ query: string; parameters: unknown[] }>; reset: () => void; restore: () => void } {
  const statements: string[] = [];
  const calls: Array<{ query: string; parameters: unknown[] }> = [];
  const original = db.logger;
  db.logger = new Proxy(original, {
    get(target, prop, receiver) {
      if (prop === 'logQuery') {
        return (query: string, parameters?: unknown[], runner?: unknown) => {
          statements.push(query);
          calls.push({ query, parameters: parameters ?? [] });
          return target.logQuery(query, parameters, runner as never);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  }) as Logger;
  return {
    statements,
    calls,
    reset: () => {
      statements.length = 0;
      calls.length = 0;
    },
    restore: () => {
      db.logger = original;
    },
  };
}

/**
 * Makes every statement matching `pattern` fail (a simulated database error
 * in the middle of a write) until the returned function is called.
 */
export function failStatements(db: DataSource, pattern: RegExp): () => void {
  const proto = Object.getPrototypeOf(db.createQueryRunner()) as { query: (...args: unknown[]) => Promise<unknown> };
  const wrapped = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    if (pattern.test(String(args[0]))) return Promise.reject(new Error('simulated failure'));
    return wrapped.apply(this, args);
  };
  return () => {
    proto.query = wrapped;
  };
}
