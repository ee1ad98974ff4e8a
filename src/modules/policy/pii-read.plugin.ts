import type { ApolloServerPlugin } from '@apollo/server';
import type { DataSource } from 'typeorm';
import { logActor } from '../../auth/actor';
import type { RequestContext } from '../../graphql/context';
import { inTransaction } from '../../db/transaction';
import type { Logger } from '../../logger';
import type { TransferLogService } from '../transfer-log/transfer-log.service';
import type { PiiDisclosure } from './person.type';

/** What one response disclosed in full to a partner, per insurer. */
interface PendingRead {
  insurerId: string;
  agreementId: string | null;
  policyNos: Set<string>;
  fields: Set<string>;
}

/**
 * Disclosures collected while a response is being built, keyed by the
 * request's context object (so nothing outlives the request and the context
 * type needs no extra member). Filled by person.mapper, drained once by
 * {@link piiReadLogPlugin} before the response is sent.
 */
const pending = new WeakMap<object, Map<string, PendingRead>>();

/** Notes that `field` (e.g. `policyholder.idNumber`) of `disclosure.policyNo` was shown whole to the calling partner. */
export function recordPiiDisclosure(ctx: RequestContext, disclosure: PiiDisclosure, field: string): void {
  let byInsurer = pending.get(ctx);
  if (!byInsurer) {
    byInsurer = new Map();
    pending.set(ctx, byInsurer);
  }
  let read = byInsurer.get(disclosure.insurerId);
  if (!read) {
    read = { insurerId: disclosure.insurerId, agreementId: disclosure.agreementId, policyNos: new Set(), fields: new Set() };
    byInsurer.set(disclosure.insurerId, read);
  }
  read.policyNos.add(disclosure.policyNo);
  read.fields.add(field);
}

/** Takes (and forgets) what this request disclosed, per insurer in id order (the lock order of their chains). */
export function takePiiDisclosures(ctx: object): Array<{ insurerId: string; agreementId: string | null; policyNos: string[]; fields: string[] }> {
  const byInsurer = pending.get(ctx);
  pending.delete(ctx);
  if (!byInsurer) return [];
  return [...byInsurer.values()]
    .sort((a, b) => (a.insurerId < b.insurerId ? -1 : a.insurerId > b.insurerId ? 1 : 0))
    .map((r) => ({ insurerId: r.insurerId, agreementId: r.agreementId, policyNos: [...r.policyNos].sort(), fields: [...r.fields].sort() }));
}

const WITHHELD = 'Internal server error: quote the x-request-id response header when reporting it';

/**
 * Contract README "Who may do what": every response that shows a partner
 * whole ID numbers or phones appends ONE `READ_PII` entry to each insurer's
 * transfer log (the policy numbers and field paths shown, the agreement
 * that allows it; no values). Appended after execution and before the
 * response leaves, in a transaction of its own. If the entry cannot be
 * written the response is withheld (an error, no data): personal data never
 * leaves without its record.
 */
export function piiReadLogPlugin(deps: { db: DataSource; transferLog: Pick<TransferLogService, 'append'>; log: Logger }): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          const reads = takePiiDisclosures(contextValue);
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
