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

const DAY_MS = 24 * 60 * 60 * 1000;

export const AGREEMENT_FIELDS = 'id status scopes validFrom validTo insurerSignedAt partnerSignedAt terminatedAt terminationReason insurer { code } partner { code } proposedBy { code }';

/**
 * An agreement proposed through the API with `proposerKey` (an ADMIN key of
 * the insurer or the partner) and, when `signerKey` is given, signed by the
 * other party's ADMIN: ACTIVE by default (valid from a day ago for a year).
 */
export async function createAgreement(
  app: TestApp,
  options: {
    insurerCode: string;
    partnerCode: string;
    scopes: string[];
    proposerKey: string;
    signerKey?: string;
    validFrom?: Date;
    validTo?: Date;
  },
): Promise<{ id: string; status: string }> {
  const now = Date.now();
  const input = {
    insurerCode: options.insurerCode,
    partnerCode: options.partnerCode,
    scopes: options.scopes,
    validFrom: (options.validFrom ?? new Date(now - DAY_MS)).toISOString(),
    validTo: (options.validTo ?? new Date(now + 365 * DAY_MS)).toISOString(),
  };
  const proposed = await app.ok<{ proposeAgreement: { id: string; status: string } }>(
    options.proposerKey,
    'mutation($input: ProposeAgreementInput!) { proposeAgreement(input: $input) { id status } }',
    { input },
  );
  if (!options.signerKey) return proposed.proposeAgreement;
  const signed = await app.ok<{ signAgreement: { id: string; status: string } }>(options.signerKey, 'mutation($id: ID!) { signAgreement(id: $id) { id status } }', {
    id: proposed.proposeAgreement.id,
  });
  return signed.signAgreement;
}
