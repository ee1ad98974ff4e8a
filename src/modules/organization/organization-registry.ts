import { logActor, requireActor } from '../../auth/actor';
import type { RequestContext } from '../../graphql/context';
import type { TransferLogWriter } from '../transfer-log/transfer-log.writer';
import type { OrganizationKind, OrganizationEntity } from './organization.entity';
import type { OrganizationService } from './organization.service';

/**
 * createOrganization with its transfer-log entry (issue 11, logging
 * discipline: every mutation appends exactly one entry on success). A new
 * party is the exchange's act, so the entry goes on the exchange's own chain
 * (as a change to a non-insurer's principals does), never on an insurer's:
 * a new insurer's chain starts with its own first exchange. The entry names
 * the new party as counterparty; its digest covers code, name and kind.
 * A class of its own because the writer itself reads organizations.
 */
export class OrganizationRegistry {
  constructor(
    private readonly organizations: OrganizationService,
    private readonly transferLog: TransferLogWriter,
  ) {}

  async create(ctx: RequestContext, input: { code: string; name: string; kind: OrganizationKind }): Promise<OrganizationEntity> {
    const actor = requireActor(ctx);
    return this.organizations.create(ctx, input, async (em, org) => {
      await this.transferLog.append(em, {
        insurerId: null,
        operation: 'createOrganization',
        ...logActor(actor),
        counterpartyId: org.id,
        fields: ['organization.code', 'organization.name', 'organization.kind'],
        change: { id: org.id, code: org.code, name: org.name, kind: org.kind },
      });
    });
  }
}
