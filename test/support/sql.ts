import type { DataSource, Logger } from 'typeorm';

/**
 * Records every SQL statement `db` sends, through its logger (TypeORM hands
 * each statement to `logQuery` whether logging prints or not), and with its
 * parameters in `calls` (to EXPLAIN it again).
 */
export function recordStatements(db: DataSource): { statements: string[]; calls: Array<{ query: string; parameters: unknown[] }>; reset: () => void; restore: () => void } {
  const statements: string[] = [];
  const calls: Array<{ query: string; parameters: unknown[] }> = [];
  const restore = tapStatements(db, (query, parameters) => {
    statements.push(query);
    calls.push({ query, parameters: parameters ?? [] });
  });
  return {
    statements,
    calls,
    reset: () => {
      statements.length = 0;
      calls.length = 0;
    },
    restore,
  };
}

/** Calls `tap` with every statement `db` hands its logger, before it is run (a throw fails it); returns the undo. */
function tapStatements(db: DataSource, tap: (query: string, parameters: unknown[] | undefined) => void): () => void {
  const original = db.logger;
  db.logger = new Proxy(original, {
    get(target, prop, receiver) {
      if (prop === 'logQuery') {
        return (query: string, parameters?: unknown[], runner?: unknown) => {
          tap(query, parameters);
          return target.logQuery(query, parameters, runner as never);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  }) as Logger;
  return () => {
    db.logger = original;
  };
}

/**
 * Makes every statement matching `pattern` fail (a simulated database error
 * in the middle of a write) until the returned function is called, on both
 * paths a statement takes: TypeORM's query runners, and the prepared
 * statements of the hot paths (src/db/raw.ts), which hand each statement to
 * the logger before they run it.
 */
export function failStatements(db: DataSource, pattern: RegExp): () => void {
  const proto = Object.getPrototypeOf(db.createQueryRunner()) as { query: (...args: unknown[]) => Promise<unknown> };
  const wrapped = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    if (pattern.test(String(args[0]))) return Promise.reject(new Error('simulated failure'));
    return wrapped.apply(this, args);
  };
  const undoLogger = tapStatements(db, (query) => {
    if (pattern.test(query)) throw new Error('simulated failure');
  });
  return () => {
    undoLogger();
    proto.query = wrapped;
  };
}
