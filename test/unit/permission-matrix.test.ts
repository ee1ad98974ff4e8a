import type { IRule } from 'graphql-shield';
import type { Actor } from '../../src/auth/actor';
import { ruleMap } from '../../src/auth/permissions';
import { ORGANIZATION_KINDS, type OrganizationKind } from '../../src/modules/organization/organization.entity';
import { ROLES, type Role } from '../../src/modules/principal/principal.entity';

/**
 * The coarse gates as a role × organization-kind × operation matrix, derived
 * by asking every root field's rule of THE rule map (so the predicates of
 * the `*.access.ts` files it is built from) about a principal of each kind
 * with each single role. The gates use `hasRole(…any of…)`, so a principal
 * with several roles passes where one of them does. The rendered table is
 * the snapshot beside this file, to be read next to the contract README's
 * "Who may do what"; the expectation below is that table, encoded once.
 */

/** Who passes a gate, per organization kind: every role, or the roles listed. */
type Who = Partial<Record<OrganizationKind, 'ALL' | readonly Role[]>>;

const EVERYONE: Who = { EXCHANGE: 'ALL', INSURER: 'ALL', BROKER: 'ALL', BANK_CHANNEL: 'ALL', REGULATOR: 'ALL' };
const PARTIES_ADMIN: Who = { INSURER: ['ADMIN'], BROKER: ['ADMIN'], BANK_CHANNEL: ['ADMIN'] };
const CHAIN_READERS: Who = { INSURER: ['ADMIN', 'COMPLIANCE'], REGULATOR: 'ALL', EXCHANGE: ['ADMIN'] };
const COMPLETENESS_AUDIENCE: Who = { INSURER: 'ALL', BROKER: 'ALL', BANK_CHANNEL: 'ALL', REGULATOR: 'ALL' };
const CAMPAIGN_READERS: Who = { INSURER: ['ADMIN', 'COMPLIANCE'], BROKER: ['ADMIN', 'COMPLIANCE', 'SERVICE'], BANK_CHANNEL: ['ADMIN', 'COMPLIANCE', 'SERVICE'], REGULATOR: 'ALL' };

/**
 * The contract's table as coarse gates. Where the contract narrows an
 * operation to rows ("own organization's", "only for policies it
 * distributed", "for itself") the gate lets every principal through and the
 * service answers what the caller may not see as absent (the contract's
 * "null / absent from lists"): those rows read EVERYONE here.
 */
const CONTRACT: Record<string, Who> = {
  createOrganization: { EXCHANGE: ['ADMIN'] },
  // "EXCHANGE ADMIN for any organization; an organization's ADMIN for its own" (which one: the service).
  createPrincipal: { EXCHANGE: ['ADMIN'], INSURER: ['ADMIN'], BROKER: ['ADMIN'], BANK_CHANNEL: ['ADMIN'], REGULATOR: ['ADMIN'] },
  revokePrincipal: { EXCHANGE: ['ADMIN'], INSURER: ['ADMIN'], BROKER: ['ADMIN'], BANK_CHANNEL: ['ADMIN'], REGULATOR: ['ADMIN'] },
  signAttestation: EVERYONE,
  proposeAgreement: PARTIES_ADMIN,
  signAgreement: PARTIES_ADMIN,
  terminateAgreement: PARTIES_ADMIN,
  agreements: EVERYONE,
  submitSales: { BROKER: ['SALES'], BANK_CHANNEL: ['SALES'] },
  submitCorrection: { INSURER: ['SERVICE'], BROKER: ['SERVICE'], BANK_CHANNEL: ['SERVICE'] },
  underwritePolicy: { INSURER: ['UNDERWRITER'] },
  policy: EVERYONE,
  policies: EVERYONE,
  corrections: EVERYONE,
  completenessSummary: COMPLETENESS_AUDIENCE,
  // Kexin adds the exchange's own chain, read by the EXCHANGE ADMIN.
  transferLog: CHAIN_READERS,
  verifyTransferLog: CHAIN_READERS,
  startRemediation: { INSURER: ['ADMIN', 'COMPLIANCE'] },
  // "a partner sees the campaign's rows of its own book": its ADMIN, COMPLIANCE and SERVICE (issue 5, remediation.access.ts).
  remediationCampaign: CAMPAIGN_READERS,
  remediationCampaigns: CAMPAIGN_READERS,
  organizations: EVERYONE,
};

/** Served operations the contract's table does not name, each with the row of the table it follows. */
const BEYOND_CONTRACT: Record<string, Who> = {
  me: EVERYONE,
  commissionHolds: COMPLETENESS_AUDIENCE,
  exportCompletenessCsv: COMPLETENESS_AUDIENCE,
  // The `policies` audience that can hold rows: insurers and partners.
  exportPoliciesCsv: { INSURER: 'ALL', BROKER: 'ALL', BANK_CHANNEL: 'ALL' },
  transferLogCheckpoint: CHAIN_READERS,
  createTransferLogCheckpoint: CHAIN_READERS,
  // 销售实名制: a channel's ADMIN for its own organization, or the exchange ADMIN.
  registerSalesPerson: { EXCHANGE: ['ADMIN'], BROKER: ['ADMIN'], BANK_CHANNEL: ['ADMIN'] },
  // Issue 12: Relay pages beside the lists that grow without bound, each with the gate of its list.
  agreementsConnection: EVERYONE,
  correctionsConnection: EVERYONE,
  organizationsConnection: EVERYONE,
  remediationCampaignsConnection: CAMPAIGN_READERS,
  // Issue 12: an organization's ADMIN lists its own principals (which organization: the service, in SQL).
  principals: { EXCHANGE: ['ADMIN'], INSURER: ['ADMIN'], BROKER: ['ADMIN'], BANK_CHANNEL: ['ADMIN'], REGULATOR: ['ADMIN'] },
};

function actor(kind: OrganizationKind, role: Role): Actor {
  return { principalId: 'p', name: 'n', organizationId: 'org', organizationCode: 'ORG', organizationKind: kind, roles: [role], attestedAt: null, isBootstrap: false };
}

/** The verdict of a root field's rule for `who` (null: anonymous), in a fresh request of its own. */
async function verdict(rule: IRule, who: Actor | null): Promise<true | string> {
  type Resolve = Parameters<IRule['resolve']>;
  const ctx = { actor: who, _shield: { cache: {} } } as unknown as Resolve[2];
  const result = await rule.resolve({}, {}, ctx, {} as Resolve[3], { debug: false } as Resolve[4]);
  if (result === true) return true;
  return result instanceof Error ? String((result as Error & { extensions?: { code?: unknown } }).extensions?.code) : 'DENIED';
}

const OPERATIONS = Object.entries({ ...ruleMap.Query, ...ruleMap.Mutation }) as Array<[string, IRule]>;

/** "operation kind role" for every principal a gate lets through. */
async function derivedCells(): Promise<string[]> {
  const cells: string[] = [];
  for (const [operation, rule] of OPERATIONS) {
    for (const kind of ORGANIZATION_KINDS) {
      for (const role of ROLES) if ((await verdict(rule, actor(kind, role))) === true) cells.push(`${operation} ${kind} ${role}`);
    }
  }
  return cells.sort();
}

function expectedCells(table: Record<string, Who>): string[] {
  return Object.entries(table)
    .flatMap(([operation, who]) =>
      Object.entries(who).flatMap(([kind, roles]) => (roles === 'ALL' ? ROLES : roles).map((role) => `${operation} ${kind} ${role}`)),
    )
    .sort();
}

/** The matrix as a markdown table: one row per operation, one column per kind, the roles that pass in each cell. */
function render(cells: readonly string[]): string {
  const passing = new Set(cells);
  const cell = (operation: string, kind: OrganizationKind) => {
    const roles = ROLES.filter((role) => passing.has(`${operation} ${kind} ${role}`));
    if (roles.length === ROLES.length) return 'every role';
    return roles.length === 0 ? '—' : roles.join(', ');
  };
  const lines = [`| operation | ${ORGANIZATION_KINDS.join(' | ')} |`, `| --- |${ORGANIZATION_KINDS.map(() => ' --- |').join('')}`];
  for (const [operation] of OPERATIONS) lines.push(`| ${operation} | ${ORGANIZATION_KINDS.map((kind) => cell(operation, kind)).join(' | ')} |`);
  return `\n${lines.join('\n')}\n`;
}

describe('the permission matrix of the coarse gates', () => {
  let cells: string[];
  beforeAll(async () => {
    cells = await derivedCells();
  });

  it('names every served root field of the rule map exactly once, in the contract or beside it', () => {
    expect(OPERATIONS.map(([operation]) => operation).sort()).toEqual([...Object.keys(CONTRACT), ...Object.keys(BEYOND_CONTRACT)].sort());
  });

  it('lets through exactly whom the contract\'s "Who may do what" names', () => {
    const contractOps = new Set(Object.keys(CONTRACT));
    expect(cells.filter((c) => contractOps.has(c.split(' ')[0]!))).toEqual(expectedCells(CONTRACT));
  });

  it('lets through exactly whom the rows beside the contract name', () => {
    const extraOps = new Set(Object.keys(BEYOND_CONTRACT));
    expect(cells.filter((c) => extraOps.has(c.split(' ')[0]!))).toEqual(expectedCells(BEYOND_CONTRACT));
  });

  it('answers an anonymous caller UNAUTHENTICATED and a refused principal FORBIDDEN, from every gate', async () => {
    for (const [operation, rule] of OPERATIONS) {
      expect([operation, await verdict(rule, null)]).toEqual([operation, 'UNAUTHENTICATED']);
      for (const kind of ORGANIZATION_KINDS) {
        for (const role of ROLES) {
          const answer = await verdict(rule, actor(kind, role));
          if (answer !== true) expect([operation, kind, role, answer]).toEqual([operation, kind, role, 'FORBIDDEN']);
        }
      }
    }
  });

  it('reads as the table in the snapshot beside this file', () => {
    expect(render(cells)).toMatchSnapshot();
  });
});
