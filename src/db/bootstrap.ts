import type { Services } from '../container';
import { EXCHANGE_CODE } from '../domain/organization-codes';
import { inTransaction } from './transaction';

/**
 * Idempotent start-up data: the EXCHANGE organization and its bootstrap
 * ADMIN. Returns the generated admin token when one was made (to print once),
 * and whether this was the database's first bootstrap (`created`): main
 * seeds the embedded default's demo data then, and only after the server
 * listens, so a start that fails earlier leaves nothing unprinted behind.
 */
export async function bootstrap(services: Services, adminToken: string | null): Promise<{ generatedToken: string | null; created: boolean }> {
  return inTransaction(services.db, async (em) => {
    const created = !(await services.organizations.findByCode(EXCHANGE_CODE, em));
    const exchange = await services.organizations.ensureExchange(em);
    const { generatedToken } = await services.principals.ensureBootstrap(em, exchange, adminToken);
    return { generatedToken, created };
  });
}
