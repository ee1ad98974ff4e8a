import { ExchangeKeyEntity } from './key-registry';
import { AgreementEntity } from '../modules/agreement/agreement.entity';
import { CorrectionChangeEntity, CorrectionEntity } from '../modules/correction/correction.entity';
import { OrganizationEntity } from '../modules/organization/organization.entity';
import { PrincipalEntity } from '../modules/principal/principal.entity';
import { RemediationCampaignEntity, RemediationItemEntity } from '../modules/remediation/remediation.entity';
import { PersonEntity } from '../modules/policy/person.entity';
import { PolicyBeneficiaryEntity, PolicyEntity, PolicyMissingFieldEntity } from '../modules/policy/policy.entity';
import { SalesPersonEntity } from '../modules/policy/sales-person.entity';
import { SalesBatchEntity } from '../modules/sales/sales.entity';
import { CompletenessCountEntity, MissingFieldCountEntity } from '../modules/policy/completeness-count.entity';
import { TransferLogCheckpointEntity, TransferLogEntryEntity, TransferLogHeadEntity, TransferLogPolicyEntity } from '../modules/transfer-log/transfer-log.entity';

/** Every TypeORM entity, listed explicitly (no globs: the same list in src and dist). */
export const entities = [OrganizationEntity, PrincipalEntity, AgreementEntity, TransferLogEntryEntity, TransferLogPolicyEntity, TransferLogHeadEntity, TransferLogCheckpointEntity, PersonEntity, PolicyEntity, PolicyBeneficiaryEntity, PolicyMissingFieldEntity, SalesPersonEntity, SalesBatchEntity, RemediationCampaignEntity, RemediationItemEntity, CorrectionEntity, CorrectionChangeEntity, ExchangeKeyEntity, CompletenessCountEntity, MissingFieldCountEntity];
