import type { Actor } from '../../src/auth/actor';
import type { Grant } from '../../src/modules/agreement/agreement.status';
import type { OrganizationKind } from '../../src/modules/organization/organization.entity';
import type { Role } from '../../src/modules/principal/principal.entity';

/** An actor for the pure access predicates: no database, organization id `${kind}-1` unless given. */
export const testActor = (kind: OrganizationKind, roles: Role[], organizationId = `${kind}-1`): Actor => ({
  principalId: 'p',
  name: 'n',
  organizationId,
  organizationCode: organizationId,
  organizationKind: kind,
  roles,
  attestedAt: null,
  isBootstrap: false,
});

/** A grant holding `scopes` through one agreement (none when empty). */
export const testGrant = (...scopes: string[]): Grant => ({ scopes: new Set(scopes) as Grant['scopes'], agreementIds: scopes.length ? ['a-1'] : [] });
