import { Brackets, type DataSource, type EntityManager } from 'typeorm';
import { isExchangeAdmin, logActor, PARTNER_KINDS, requireActor, type Actor } from '../../auth/actor';
import type { RequestContext } from '../../graphql/context';
import { BadInputError, ForbiddenError, NotFoundError } from '../../graphql/errors';
import { isId, newId } from '../../db/ids';
import { pageById } from '../../db/keyset';
import { decodeCursor, pageSize, type IdPage } from '../../graphql/pagination';

import { inTransaction } from '../../db/transaction';
import { normalizeCode } from '../../domain/organization-codes';
import type { OrganizationService } from '../organization/organization.service';
import type { TransferLogWriter } from '../transfer-log/transfer-log.writer';
import { checkSign, checkTerminate, mayChangeAgreements } from './agreement.access';
import { AgreementEntity, type AgreementScope } from './agreement.entity';
import { agreementStatus, counterpartyOf, formatScopes, isAgreementScope, normalizeScopes, parseScopes, type AgreementSide } from './agreement.status';

/** The cursor tag of `agreementsConnection` pages. */
export const AGREEMENT_CURSOR = 'agreement';

/** What this module needs of the transfer log. */
export type AgreementLog = Pick<TransferLogWriter, 'lockChain' | 'append'>;

export interface ProposeAgreementData {
  insurerCode: string;
  partnerCode: string;
  scopes: readonly string[];
  validFrom: Date;
  validTo: Date;
}

export const MAX_REASON_LENGTH = 500;
/** DATETIME(3) holds years 1000–9999; the API accepts 1970 onwards. */
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * The agreement lifecycle (contract "Who may do what": proposeAgreement,
 * signAgreement, terminateAgreement, agreements). Every change appends its
 * transfer-log entry as the first write of the same transaction, on the
 * insurer's chain, and names the agreement and the other party. The log
 * holds only ids, field paths and the digest of the new state.
 */
export class AgreementService {
  constructor(
    private readonly db: DataSource,
    private readonly organizations: OrganizationService,
    private readonly log: AgreementLog,
  ) {}

  /**
   * The agreements the caller may see (`mayViewAgreement`), newest first:
   * the EXCHANGE ADMIN sees all; every principal of an organization, whatever
   * its roles, sees that organization's (as insurer or as partner), since its
   * staff work under them; a REGULATOR, never a party, sees none.
   */
  async list(ctx: RequestContext): Promise<AgreementEntity[]> {
    return this.visible(ctx).orderBy('a.created_at', 'DESC').addOrderBy('a.id', 'DESC').getMany();
  }

  /**
   * {@link list} as a Relay page (issue 12), the same rows, newest first by
   * id (UUIDv7 made from the request's time, so creation order).
   */
  async page(ctx: RequestContext, args: { first?: number | null; after?: string | null }): Promise<IdPage<AgreementEntity>> {
    const first = pageSize(args.first);
    const after = decodeCursor(AGREEMENT_CURSOR, args.after, isId);
    return pageById(this.visible(ctx), 'a', after, first);
  }

  /** The agreements the caller may see, as a query (no order). */
  private visible(ctx: RequestContext) {
    const actor = requireActor(ctx);
    const query = this.db.getRepository(AgreementEntity).createQueryBuilder('a');
    if (isExchangeAdmin(actor)) return query;
    return query.where(new Brackets((w) => w.where('a.insurer_id = :org', { org: actor.organizationId }).orWhere('a.partner_id = :org', { org: actor.organizationId })));
  }

  /**
   * proposeAgreement: an ADMIN of the insurer or of the partner named in it
   * proposes; its own side counts as signed now. Refused with BAD_USER_INPUT
   * (nothing written) for an unknown code or a wrong kind, no scope,
   * `validFrom >= validTo` or a `validTo` not in the future; with FORBIDDEN
   * when the caller's organization is not one of the two, decided on the
   * codes before they are looked up, so that the answer is the same whether
   * the other organizations exist or not.
   */
  async propose(ctx: RequestContext, input: ProposeAgreementData): Promise<AgreementEntity> {
    const actor = requireActor(ctx);
    return inTransaction(this.db, (em) => this.proposeIn(em, actor, input, ctx.now));
  }

  /** {@link propose} inside a caller's transaction (the demo seed uses it too). */
  async proposeIn(em: EntityManager, actor: Actor, input: ProposeAgreementData, now: Date): Promise<AgreementEntity> {
    if (!mayChangeAgreements(actor)) {
      throw new ForbiddenError('Only an ADMIN of the insurer or of the partner may propose an agreement');
    }
    const scopes = validateProposal(input, now);
    if (normalizeCode(input.insurerCode) !== actor.organizationCode && normalizeCode(input.partnerCode) !== actor.organizationCode) throw notAParty();
    const insurer = await this.organizations.findByCode(input.insurerCode, em);
    if (!insurer || insurer.kind !== 'INSURER') throw new BadInputError('insurerCode must name an INSURER', { field: 'insurerCode' });
    const partner = await this.organizations.findByCode(input.partnerCode, em);
    if (!partner || !(PARTNER_KINDS as readonly string[]).includes(partner.kind)) {
      throw new BadInputError('partnerCode must name a BROKER or a BANK_CHANNEL', { field: 'partnerCode' });
    }
    const side: AgreementSide | null = actor.organizationId === insurer.id ? 'INSURER' : actor.organizationId === partner.id ? 'PARTNER' : null;
    if (!side) throw notAParty();

    const agreement = em.getRepository(AgreementEntity).create({
      id: newId(now.getTime()),
      insurerId: insurer.id,
      partnerId: partner.id,
      scopes: formatScopes(scopes),
      validFrom: input.validFrom,
      validTo: input.validTo,
      proposedByOrganizationId: actor.organizationId,
      proposedByPrincipalId: actor.principalId,
      insurerSignedAt: side === 'INSURER' ? now : null,
      insurerSignedBy: side === 'INSURER' ? actor.principalId : null,
      partnerSignedAt: side === 'PARTNER' ? now : null,
      partnerSignedBy: side === 'PARTNER' ? actor.principalId : null,
      terminatedAt: null,
      terminatedByPrincipalId: null,
      terminatedByOrganizationId: null,
      terminationReason: null,
      createdAt: now,
    });
    await this.appendLog(em, actor, agreement, 'proposeAgreement', ['agreement.scopes', 'agreement.validFrom', 'agreement.validTo', signedField(side)], now);
    await em.getRepository(AgreementEntity).insert(agreement);
    return agreement;
  }

  /**
   * signAgreement: the other party's ADMIN signs; the agreement is ACTIVE
   * from then on while `validFrom <= now < validTo`. Signing again changes
   * nothing (no second log entry). Refusals: NOT_FOUND for a caller who may
   * not see it, FORBIDDEN for the EXCHANGE ADMIN and for the proposing side,
   * BAD_USER_INPUT when terminated or past `validTo`.
   */
  async sign(ctx: RequestContext, id: string): Promise<AgreementEntity> {
    const actor = requireActor(ctx);
    const signed = await inTransaction(this.db, (em) => this.signIn(em, actor, id, ctx.now));
    // Later operations of this same request must not use grants read before the signature.
    ctx.loaders.grants.clearAll();
    return signed;
  }

  /** {@link sign} inside a caller's transaction (the demo seed uses it too). */
  async signIn(em: EntityManager, actor: Actor, id: string, now: Date): Promise<AgreementEntity> {
    const agreement = await this.lockAndLoad(em, id);
    const side = checkSign(actor, agreement, now);
    const at = side === 'INSURER' ? 'insurerSignedAt' : 'partnerSignedAt';
    const by = side === 'INSURER' ? 'insurerSignedBy' : 'partnerSignedBy';
    if (agreement[at]) return agreement;
    agreement[at] = now;
    agreement[by] = actor.principalId;
    await this.appendLog(em, actor, agreement, 'signAgreement', [signedField(side)], now);
    await em.getRepository(AgreementEntity).update({ id: agreement.id }, { [at]: now, [by]: actor.principalId });
    return agreement;
  }

  /**
   * terminateAgreement: an ADMIN of either party ends it now, with a reason
   * (1 to 500 characters); every grant it carried ends at once: under the
   * insurer's chain lock, which every write under a grant takes and re-checks
   * its grant under (`writeOnChain`), so no write under this agreement
   * commits after the termination entry. Records who, which side and why.
   * Refusals: BAD_USER_INPUT for an empty or too long reason or a second
   * termination; NOT_FOUND / FORBIDDEN as for signing.
   */
  async terminate(ctx: RequestContext, id: string, reason: string): Promise<AgreementEntity> {
    const actor = requireActor(ctx);
    const why = reason.trim();
    if (why.length === 0) throw new BadInputError('reason is required', { field: 'reason' });
    if (why.length > MAX_REASON_LENGTH) throw new BadInputError(`reason must be at most ${MAX_REASON_LENGTH} characters`, { field: 'reason' });
    const terminated = await inTransaction(this.db, async (em) => {
      const agreement = await this.lockAndLoad(em, id);
      checkTerminate(actor, agreement);
      const change = { terminatedAt: ctx.now, terminatedByPrincipalId: actor.principalId, terminatedByOrganizationId: actor.organizationId, terminationReason: why };
      Object.assign(agreement, change);
      await this.appendLog(em, actor, agreement, 'terminateAgreement', ['agreement.terminatedAt', 'agreement.terminationReason'], ctx.now);
      await em.getRepository(AgreementEntity).update({ id: agreement.id }, change);
      return agreement;
    });
    // Later operations of this same request must not use grants read before the termination.
    ctx.loaders.grants.clearAll();
    return terminated;
  }

  /**
   * Reads the agreement, takes its insurer's chain lock (the transaction's
   * first lock: every change of an agreement appends to that chain, so
   * changes of one agreement are serialized), then reads it again, so the
   * checks that follow see the latest committed state.
   */
  private async lockAndLoad(em: EntityManager, id: string): Promise<AgreementEntity> {
    const repo = em.getRepository(AgreementEntity);
    const seen = isId(id) ? await repo.findOneBy({ id }) : null;
    if (!seen) throw new NotFoundError('Agreement');
    await this.log.lockChain(em, seen.insurerId);
    return repo.findOneByOrFail({ id });
  }

  /** The entry on the insurer's chain, in the transaction of the change (its head lock is held from here on). */
  private appendLog(em: EntityManager, actor: Actor, agreement: AgreementEntity, operation: string, fields: string[], now: Date): Promise<unknown> {
    return this.log.append(em, {
      insurerId: agreement.insurerId,
      operation,
      ...logActor(actor),
      counterpartyId: counterpartyOf(agreement, actor.organizationId),
      agreementId: agreement.id,
      fields,
      change: { agreement: agreementChange(agreement, now) },
    });
  }
}

function notAParty(): ForbiddenError {
  return new ForbiddenError('An ADMIN may propose agreements only for its own organization');
}

function signedField(side: AgreementSide): string {
  return side === 'INSURER' ? 'agreement.insurerSignedAt' : 'agreement.partnerSignedAt';
}

/** The new state as hashed into the entry's digest: ids, scopes, instants, status (no person's data). */
function agreementChange(a: AgreementEntity, now: Date) {
  return {
    id: a.id,
    insurerId: a.insurerId,
    partnerId: a.partnerId,
    scopes: parseScopes(a.scopes),
    validFrom: a.validFrom,
    validTo: a.validTo,
    status: agreementStatus(a, now),
    proposedByOrganizationId: a.proposedByOrganizationId,
    insurerSignedAt: a.insurerSignedAt,
    insurerSignedBy: a.insurerSignedBy,
    partnerSignedAt: a.partnerSignedAt,
    partnerSignedBy: a.partnerSignedBy,
    terminatedAt: a.terminatedAt,
    terminatedByOrganizationId: a.terminatedByOrganizationId,
    terminatedByPrincipalId: a.terminatedByPrincipalId,
    terminationReason: a.terminationReason,
  };
}

/** The input checks that need no database: scopes (deduplicated, at least one) and the validity window. */
export function validateProposal(input: Pick<ProposeAgreementData, 'scopes' | 'validFrom' | 'validTo'>, now: Date): AgreementScope[] {
  if (!input.scopes.every(isAgreementScope)) throw new BadInputError('scopes holds an unknown scope', { field: 'scopes' });
  const scopes = normalizeScopes(input.scopes);
  if (scopes.length === 0) throw new BadInputError('scopes must name at least one scope', { field: 'scopes' });
  const from = input.validFrom instanceof Date ? input.validFrom.getTime() : NaN;
  const to = input.validTo instanceof Date ? input.validTo.getTime() : NaN;
  if (!(from >= 0 && from <= LATEST)) throw new BadInputError('validFrom must be an instant between 1970 and 9999', { field: 'validFrom' });
  if (!(to >= 0 && to <= LATEST)) throw new BadInputError('validTo must be an instant between 1970 and 9999', { field: 'validTo' });
  if (from >= to) throw new BadInputError('validFrom must be before validTo', { field: 'validTo' });
  if (to <= now.getTime()) throw new BadInputError('validTo must be in the future', { field: 'validTo' });
  return scopes;
}
