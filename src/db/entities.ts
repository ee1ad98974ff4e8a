import { OrganizationEntity } from '../modules/organization/organization.entity';
import { PrincipalEntity } from '../modules/principal/principal.entity';

/** Every TypeORM entity, listed explicitly (no globs: the same list in src and dist). */
export const entities = [OrganizationEntity, PrincipalEntity];
