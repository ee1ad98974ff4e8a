import type { ApolloServerPlugin } from '@apollo/server';
import type { DataSource } from 'typeorm';
import { logActor } from '../../auth/actor';
import type { RequestContext } from '../../graphql/context';
import { inTransaction } from '../../db/transaction';
import type { Logger } from '../../logger';
import type { Metrics } from '../../metrics';
import type { TransferLogWriter } from '../transfer-log/transfer-log.writer';

const WITHHELD = 'Internal server error: quote the x-request-id response header when reporting it';

/**
 * Contract README "Who may do what": every response that shows a partner
 * whole ID numbers or phones appends ONE `READ_PII` entry to each insurer's
 * transfer log (the policy numbers and field paths shown, the agreement
 * that allows it; no values), from what the mappers recorded in the
 * request's `disclosures`. Appended after execution and before the
 * response leaves, in a transaction of its own. If the entry cannot be
 * written the response is withheld (an error, no data): personal data never
 * leaves without its record.
 */
export function piiReadLogPlugin(deps: { db: DataSource; transferLog: Pick<TransferLogWriter, 'append'>; log: Logger; metrics?: Pick<Metrics, 'piiDisclosed'> }): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          const reads = contextValue.disclosures.take();
          const actor = contextValue.actor;
          if (reads.length === 0 || !actor) return;
          try {
            await inTransaction(deps.db, async (em) => {
              for (const read of reads) {
                await deps.transferLog.append(em, {
                  insurerId: read.insurerId,
                  operation: 'READ_PII',
                  ...logActor(actor),
                  counterpartyId: read.insurerId,
                  agreementId: read.agreementId,
                  policyNos: read.policyNos,
                  fields: read.fields,
                  change: { requestId: contextValue.requestId, policyNos: read.policyNos, fields: read.fields },
                });
              }
            });
            deps.metrics?.piiDisclosed(reads.length, reads.reduce((n, read) => n + read.policyNos.length, 0));
          } catch (err) {
            (contextValue.log ?? deps.log).error({ err }, 'could not log a READ_PII disclosure: response withheld');
            if (response.body.kind === 'single') {
              response.body.singleResult = { data: null, errors: [{ message: WITHHELD, extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
            }
          }
        },
      };
    },
  };
}
