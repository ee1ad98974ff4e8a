import type { OrganizationKind } from '../../src/modules/organization/organization.entity';
import type { Role } from '../../src/modules/principal/principal.entity';
import { ADMIN_TOKEN, type TestApp } from './app';

let counter = 0;

/** A unique organization code for this test file (made-up). */
export function uniqueCode(prefix: string): string {
  counter += 1;
  return `${prefix}_${process.pid % 1000}_${counter}`.toUpperCase();
}

/** Creates an organization through the API as the exchange admin. */
export async function createOrg(app: TestApp, kind: OrganizationKind, code = uniqueCode(kind.slice(0, 4))): Promise<{ id: string; code: string }> {
  const data = await app.ok<{ createOrganization: { id: string; code: string } }>(
    ADMIN_TOKEN,
    'mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id code } }',
    { input: { code, name: `Test ${kind} ${code}`, kind } },
  );
  return data.createOrganization;
}

/** Creates a principal through the API as the exchange admin; `attested` signs the staff attestation with its own key. */
export async function createPrincipal(app: TestApp, organizationCode: string, roles: Role[], options: { attested?: boolean; name?: string } = {}): Promise<{ id: string; key: string }> {
  const data = await app.ok<{ createPrincipal: { principal: { id: string }; apiKey: string } }>(
    ADMIN_TOKEN,
    'mutation($input: CreatePrincipalInput!) { createPrincipal(input: $input) { principal { id } apiKey } }',
    { input: { organizationCode, name: options.name ?? `${roles.join('-').toLowerCase()}-${organizationCode.toLowerCase()}`, roles } },
  );
  const key = data.createPrincipal.apiKey;
  if (options.attested) await app.ok(key, 'mutation { signAttestation { id } }');
  return { id: data.createPrincipal.principal.id, key };
}

/** An organization with one principal per role asked for (keys by role). */
export async function createParty(app: TestApp, kind: OrganizationKind, roles: Role[] = ['ADMIN'], options: { attested?: boolean } = {}) {
  const org = await createOrg(app, kind);
  const keys = {} as Record<Role, string>;
  const ids = {} as Record<Role, string>;
  for (const role of roles) {
    const p = await createPrincipal(app, org.code, [role], options);
    keys[role] = p.key;
    ids[role] = p.id;
  }
  return { ...org, keys, principalIds: ids };
}
