import type { OrganizationEntity } from './organization.entity';
import { Organization } from './organization.type';

export function toOrganization(entity: OrganizationEntity): Organization {
  return Object.assign(new Organization(), { id: entity.id, code: entity.code, name: entity.name, kind: entity.kind });
}
