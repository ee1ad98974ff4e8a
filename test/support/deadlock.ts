import type { DataSource } from 'typeorm';
import { inTransaction, type TransactionOptions } from '../../src/db/transaction';

/**
 * A real deadlock on MySQL: two transactions through inTransaction, one
 * updating organization `a` then `b`, the other `b` then `a`, each waiting
 * (at most 2 s) until both hold their first row lock. InnoDB kills one
 * (1213) and inTransaction must run it again; in the end each name went up
 * by 2. Needs two connections, so it cannot happen on SQLite.
 */
export async function crossedUpdates(db: DataSource, a: string, b: string, options: TransactionOptions): Promise<void> {
  let arrived = 0;
  let bothLocked: () => void = () => undefined;
  const barrier = new Promise<void>((resolve) => (bothLocked = resolve));
  const worker = (first: string, second: string) =>
    inTransaction(
      db,
      async (em) => {
        await em.query('UPDATE organization SET name = name + 1 WHERE id = ?', [first]);
        if (++arrived === 2) bothLocked();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([barrier, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
        clearTimeout(timer);
        await em.query('UPDATE organization SET name = name + 1 WHERE id = ?', [second]);
      },
      options,
    );
  await Promise.all([worker(a, b), worker(b, a)]);
}
