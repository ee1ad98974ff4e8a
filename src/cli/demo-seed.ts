import type { Services } from '../container';
import { seedDemoPolicies } from './demo-policies';
import { inTransaction } from '../db/transaction';
import { newId } from '../db/ids';
import { OrganizationEntity, type OrganizationKind } from '../modules/organization/organization.entity';
import { actorOf, type Actor } from '../auth/actor';
import { AGREEMENT_SCOPES, type AgreementScope } from '../modules/agreement/agreement.entity';
import { PrincipalEntity, type Role } from '../modules/principal/principal.entity';

/** The demo parties: an insurer, a bank channel, a broker and a regulator (made-up names). */
export const DEMO_ORGANIZATIONS: Array<{ code: string; name: string; kind: OrganizationKind; principals: Array<{ name: string; roles: Role[] }> }> = [
  {
    code: 'DEMO_LIFE',
    name: 'Demo Life Insurance Co.',
    kind: 'INSURER',
    principals: [
      { name: 'demo-life-admin', roles: ['ADMIN'] },
      { name: 'demo-life-underwriter', roles: ['UNDERWRITER'] },
      { name: 'demo-life-compliance', roles: ['COMPLIANCE'] },
      { name: 'demo-life-service', roles: ['SERVICE'] },
      { name: 'demo-life-sales', roles: ['SALES'] },
    ],
  },
  {
    code: 'DEMO_BANK',
    name: 'Demo Commercial Bank (bank channel)',
    kind: 'BANK_CHANNEL',
    principals: [
      { name: 'demo-bank-admin', roles: ['ADMIN'] },
      { name: 'demo-bank-sales', roles: ['SALES'] },
      { name: 'demo-bank-service', roles: ['SERVICE'] },
    ],
  },
  {
    code: 'DEMO_BROKER',
    name: 'Demo Insurance Brokers Ltd.',
    kind: 'BROKER',
    principals: [
      { name: 'demo-broker-admin', roles: ['ADMIN'] },
      { name: 'demo-broker-sales', roles: ['SALES'] },
      { name: 'demo-broker-service', roles: ['SERVICE'] },
    ],
  },
  {
    code: 'DEMO_REGULATOR',
    name: 'Demo Insurance Regulator',
    kind: 'REGULATOR',
    principals: [{ name: 'demo-regulator', roles: ['COMPLIANCE'] }],
  },
];

export interface DemoKey {
  organization: string;
  principal: string;
  roles: Role[];
  apiKey: string;
}

/**
 * Seeds the demo parties and their principals (sales and service staff have
 * signed the attestation, so they can act at once) and the ACTIVE agreements
 * of DEMO_LIFE with its bank and its broker ({@link DEMO_AGREEMENTS}). Returns the keys to print
 * once; returns null when the demo data is already there. `onKeys` gets the
 * keys as soon as the parties are committed, before the demo policies: only
 * hashes are stored, so a failure later must not lose them unprinted.
 */
export async function seedDemo(services: Services, options: { onKeys?: (keys: DemoKey[]) => void } = {}): Promise<DemoKey[] | null> {
  const keys = await inTransaction(services.db, async (em) => {
    if (await services.organizations.findByCode(DEMO_ORGANIZATIONS[0]!.code, em)) return null;
    const keys: DemoKey[] = [];
    const admins = new Map<string, Actor>();
    const now = new Date();
    for (const org of DEMO_ORGANIZATIONS) {
      const entity = em.getRepository(OrganizationEntity).create({ id: newId(), code: org.code, name: org.name, kind: org.kind, createdAt: now });
      await em.getRepository(OrganizationEntity).insert(entity);
      for (const p of org.principals) {
        const { principal, apiKey } = await services.principals.insert(em, entity.id, p.name, p.roles);
        if (p.roles.includes('SALES') || p.roles.includes('SERVICE')) {
          await em.getRepository(PrincipalEntity).update({ id: principal.id }, { attestedAt: now });
        }
        keys.push({ organization: org.code, principal: p.name, roles: p.roles, apiKey });
        if (p.roles.includes('ADMIN')) admins.set(org.code, actorOf(entity, principal));
      }
    }
    // Through the service's own path: the insurer's ADMIN proposes, the partner's ADMIN signs (two log entries each).
    for (const a of DEMO_AGREEMENTS) {
      const insurerAdmin = admins.get(a.insurerCode)!;
      const partnerAdmin = admins.get(a.partnerCode)!;
      const validFrom = new Date(now.getTime() - DAY_MS);
      const validTo = new Date(now.getTime() + YEAR_MS);
      const proposed = await services.agreements.proposeIn(em, insurerAdmin, { ...a, validFrom, validTo }, now);
      await services.agreements.signIn(em, partnerAdmin, proposed.id, now);
    }
    return keys;
  });
  // The demo book of policies, through the submitSales service path (after the parties' transaction committed).
  if (keys) {
    options.onKeys?.(keys);
    await seedDemoPolicies(services);
  }
  return keys;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const YEAR_MS = 365 * DAY_MS;

/**
 * The demo agreements, ACTIVE from a day before seeding for a year: the bank
 * sells and services DEMO_LIFE's policies but sees ID numbers and phones
 * masked; the broker holds every scope, full personal data included.
 */
export const DEMO_AGREEMENTS: Array<{ insurerCode: string; partnerCode: string; scopes: AgreementScope[] }> = [
  { insurerCode: 'DEMO_LIFE', partnerCode: 'DEMO_BANK', scopes: ['SUBMIT_SALES', 'READ_POLICIES', 'CORRECT_RECORDS', 'READ_COMPLETENESS'] },
  { insurerCode: 'DEMO_LIFE', partnerCode: 'DEMO_BROKER', scopes: [...AGREEMENT_SCOPES] },
];
