import { parseRoles, type PrincipalEntity } from './principal.entity';
import { Principal } from './principal.type';

export function toPrincipal(entity: PrincipalEntity): Principal {
  return Object.assign(new Principal(), {
    id: entity.id,
    name: entity.name,
    roles: parseRoles(entity.roles),
    organizationId: entity.organizationId,
    attestedAt: entity.attestedAt,
    revokedAt: entity.revokedAt,
    createdAt: entity.createdAt,
  });
}
