import { AgreementEntity } from '../modules/agreement/agreement.entity';
import { OrganizationEntity } from '../modules/organization/organization.entity';
import { PrincipalEntity } from '../modules/principal/principal.entity';
import { TransferLogCheckpointEntity, TransferLogEntryEntity, TransferLogHeadEntity, TransferLogPolicyEntity } from '../modules/transfer-log/transfer-log.entity';

/** Every TypeORM entity, listed explicitly (no globs: the same list in src and dist). */
export const entities = [OrganizationEntity, PrincipalEntity, AgreementEntity, TransferLogEntryEntity, TransferLogPolicyEntity, TransferLogHeadEntity, TransferLogCheckpointEntity];
