import { isExchangeAdmin, logActor, PARTNER_KINDS, requireActor } from '../../auth/actor';
import { mayRegisterSalesPeople } from './sales.access';
import type { RequestContext } from '../../graphql/context';
import { BadInputError, ForbiddenError, NotFoundError } from '../../graphql/errors';
import { newId } from '../../db/ids';
import { todayInChina } from '../../domain/dates';
import { normalizeCode } from '../../domain/organization-codes';
import { isValidPhone } from '../../domain/phone';
import type { OrganizationService } from '../organization/organization.service';
import type { PiiCipher } from '../person/pii';
import { recomputePolicies } from '../policy/policy-store';
import { logReflagged } from '../policy/policy-reflag';
import { PolicyEntity } from '../policy/policy.entity';
import { LIMITS } from '../policy/policy.validation';
import { SalesPersonEntity } from '../policy/sales-person.entity';
import type { RefusalInput, TransferLogWriter } from '../transfer-log/transfer-log.writer';
import { normalizeSalesPersonCode } from './sales.validation';

/** What registerSalesPerson needs of the transfer log. */
export type SalesPeopleLog = Pick<TransferLogWriter, 'lockChain' | 'append' | 'exchangeChainId' | 'writeOnChain'>;

export interface RegisterSalesPersonData {
  organizationCode?: string | null;
  code: string;
  name: string;
  phone: string;
}

const SALES_PERSON_NAME_MAX = 100;

/**
 * The register of sales people (销售实名制): who sells for a channel, under
 * which code, with which phone, so that a policyholder's phone that is the
 * seller's own is flagged (PHONE_IS_SALES_PERSON) on every policy they sold.
 */
export class SalesPeopleService {
  constructor(
    private readonly organizations: OrganizationService,
    private readonly log: SalesPeopleLog,
    private readonly pii: PiiCipher,
  ) {}

  /**
   * registerSalesPerson (销售实名制): an ADMIN of a BROKER or BANK_CHANNEL for
   * its own organization, or the EXCHANGE ADMIN for any, registers (or
   * re-registers: name and phone are replaced) a sales person code with a
   * name and a phone, stored encrypted with a blind index. Policies the
   * person sold are re-assessed in the same transaction (PHONE_IS_SALES_PERSON),
   * under the chain locks of their insurers; one log entry on the exchange's
   * chain, and one per insurer whose policies were re-flagged.
   */
  async registerSalesPerson(ctx: RequestContext, input: RegisterSalesPersonData): Promise<SalesPersonEntity> {
    const actor = requireActor(ctx);
    const exchange = isExchangeAdmin(actor);
    if (!mayRegisterSalesPeople(actor)) {
      throw new ForbiddenError('Only an ADMIN of a broker or bank channel (or the exchange ADMIN) may register sales people');
    }
    const orgCode = input.organizationCode?.trim() ? normalizeCode(input.organizationCode) : exchange ? null : actor.organizationCode;
    if (!orgCode) throw new BadInputError('organizationCode is required', { field: 'organizationCode' });
    if (!exchange && orgCode !== actor.organizationCode) throw new ForbiddenError('An ADMIN may register sales people only for its own organization');
    const code = normalizeSalesPersonCode(input.code);
    if (!code || code.length > LIMITS.salesPersonCode || !/^[A-Z0-9\-_/.]+$/.test(code)) {
      throw new BadInputError(`code must be 1 to ${LIMITS.salesPersonCode} letters, digits, "-", "_", "/" or "."`, { field: 'code' });
    }
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (name.length === 0 || Array.from(name).length > SALES_PERSON_NAME_MAX) throw new BadInputError(`name must be 1 to ${SALES_PERSON_NAME_MAX} characters`, { field: 'name' });
    const phone = typeof input.phone === 'string' ? input.phone.trim() : '';
    if (phone.length > LIMITS.phone || !isValidPhone(phone)) {
      throw new BadInputError('phone must be a mainland mobile number or a landline with area code', { field: 'phone' });
    }
    const org = await this.organizations.findByCode(orgCode);
    if (!org) throw new NotFoundError('Organization');
    if (!(PARTNER_KINDS as readonly string[]).includes(org.kind)) throw new BadInputError('organizationCode must name a BROKER or a BANK_CHANNEL', { field: 'organizationCode' });
    const sealed = this.pii.encrypt(phone);
    const phoneBidx = this.pii.phoneIndex(phone)!;
    const now = ctx.now;
    const today = todayInChina(now);

    const exchangeChain = await this.log.exchangeChainId();
    const refusal = (errorCode: string): RefusalInput => ({
      insurerId: null,
      operation: 'registerSalesPerson',
      errorCode,
      ...logActor(actor),
      counterpartyId: org.id === actor.organizationId ? null : org.id,
      fields: ['salesPerson.name', 'salesPerson.phone'],
      change: { organizationId: org.id, code, phoneBidx },
    });
    // No agreement gates a registration, so nothing is re-checked under the lock (the caller's role is the request's).
    return this.log.writeOnChain(exchangeChain, async (em) => {
      const insurerRows = await em
        .getRepository(PolicyEntity)
        .createQueryBuilder('x')
        .select('DISTINCT x.insurer_id', 'insurerId')
        .where('x.channel_id = :org AND x.sales_person_code = :code', { org: org.id, code })
        .getRawMany<{ insurerId: string }>();
      const insurerIds = insurerRows.map((r) => String(r.insurerId));
      // Every chain lock first: the exchange's (every registration queues there), then its insurers' in one global order.
      for (const chain of [...new Set(insurerIds)].sort()) await this.log.lockChain(em, chain);

      const repo = em.getRepository(SalesPersonEntity);
      const current = await repo.findOneBy({ organizationId: org.id, code });
      const row: SalesPersonEntity = {
        id: current?.id ?? newId(),
        organizationId: org.id,
        code,
        name,
        phoneEnc: sealed.value,
        phoneBidx,
        keyId: sealed.keyId,
        createdAt: current?.createdAt ?? now,
      };
      if (current) await repo.update({ id: current.id }, { name, phoneEnc: sealed.value, phoneBidx, keyId: sealed.keyId });
      else await repo.insert(row);
      await this.log.append(em, {
        insurerId: null,
        operation: 'registerSalesPerson',
        ...logActor(actor),
        counterpartyId: org.id === actor.organizationId ? null : org.id,
        fields: ['salesPerson.name', 'salesPerson.phone'],
        change: { salesPersonId: row.id, organizationId: org.id, code, phoneBidx },
      });
      for (const insurerId of insurerIds) {
        const sold = await em.getRepository(PolicyEntity).findBy({ insurerId, channelId: org.id, salesPersonCode: code });
        const changed = await recomputePolicies(em, insurerId, sold, { today, now });
        const reflagged = changed.map((c) => ({ policyNo: c.policy.policyNo, completeness: c.verdict.status }));
        await logReflagged(this.log, em, { actor, insurerId, counterpartyId: insurerId, agreementId: null, cause: 'registerSalesPerson', ref: { salesPersonId: row.id } }, reflagged);
      }
      return row;
    }, { refuseOn: async () => undefined, refusal });
  }
}
