import type { AgreementEntity } from './agreement.entity';
import { agreementStatus, parseScopes } from './agreement.status';
import { Agreement } from './agreement.type';

/** The wire shape of an agreement; its status as of `now` (the request's instant). */
export function toAgreement(entity: AgreementEntity, now: Date): Agreement {
  return Object.assign(new Agreement(), {
    id: entity.id,
    insurerId: entity.insurerId,
    partnerId: entity.partnerId,
    proposedByOrganizationId: entity.proposedByOrganizationId,
    scopes: parseScopes(entity.scopes),
    validFrom: entity.validFrom,
    validTo: entity.validTo,
    status: agreementStatus(entity, now),
    insurerSignedAt: entity.insurerSignedAt,
    partnerSignedAt: entity.partnerSignedAt,
    terminatedAt: entity.terminatedAt,
    terminationReason: entity.terminationReason,
  });
}
