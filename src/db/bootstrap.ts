import type { Services } from '../container';
import { inTransaction } from './transaction';

/**
 * Idempotent start-up data: the EXCHANGE organization and its bootstrap
 * ADMIN. Returns the generated admin token when one was made (to print once).
 */
export async function bootstrap(services: Services, adminToken: string | null): Promise<{ generatedToken: string | null }> {
  return inTransaction(services.db, async (em) => {
    const exchange = await services.organizations.ensureExchange(em);
    return services.principals.ensureBootstrap(em, exchange, adminToken);
  });
}
