import type { DataSource, EntityManager } from 'typeorm';
import { actorOf, isExchangeAdmin, logActor, requireActor, type Actor } from '../../auth/actor';
import { generateApiKey, hashApiKey } from '../../auth/api-keys';
import type { RequestContext } from '../../graphql/context';
import { BadInputError, ForbiddenError, NotFoundError } from '../../graphql/errors';
import { isId, newId } from '../../db/ids';
import { hydrate, preparedRows, selectColumns } from '../../db/raw';
import { inTransaction } from '../../db/transaction';
import { pageById } from '../../db/keyset';
import { decodeCursor, pageSize, type IdPage } from '../../graphql/pagination';
import { mayListPrincipals } from './principal.access';
import { OrganizationEntity } from '../organization/organization.entity';
import type { OrganizationService } from '../organization/organization.service';
import type { TransferLogWriter } from '../transfer-log/transfer-log.writer';
import { parseRoles, PrincipalEntity, ROLES, type Role } from './principal.entity';

/** Keys {@link PrincipalService.recentActor} remembers at most, and for how long (ms). */
export const RECENT_KEYS = 10_000;

/** The cursor tag of `principals` pages. */
export const PRINCIPAL_CURSOR = 'principal';
export const RECENT_KEY_MS = 60_000;

export interface CreatedPrincipal {
  principal: PrincipalEntity;
  apiKey: string;
}

export class PrincipalService {
  constructor(
    private readonly db: DataSource,
    private readonly organizations: OrganizationService,
    private readonly transferLog: TransferLogWriter,
  ) {}

  /** The SQL of {@link authenticate}, built from the entities' columns on first use. */
  private authenticateSql: string | null = null;

  /**
   * Actors of keys that authenticated recently, by key hash (oldest first).
   * Never an answer on its own: whoever uses one confirms the key in a
   * statement of the same request (see {@link recentActor}).
   */
  private readonly recent = new Map<string, { actor: Actor; at: number }>();

  /**
   * The actor behind an API key or the bootstrap token: one indexed read per
   * request, no cache, so a revoked key fails on the very next request. A
   * prepared statement outside TypeORM (src/db/raw.ts: it runs on every
   * request, and the query builder was most of its cost).
   */
  async authenticate(token: string): Promise<Actor | null> {
    return this.authenticateHash(hashApiKey(token));
  }

  /** {@link authenticate} by the key's hash; remembers the actor for {@link recentActor}, forgets it when refused. */
  async authenticateHash(keyHash: string): Promise<Actor | null> {
    this.authenticateSql ??= `SELECT ${selectColumns(this.db, PrincipalEntity, 'p')}, ${selectColumns(this.db, OrganizationEntity, 'o')}
      FROM principal p INNER JOIN organization o ON o.id = p.organization_id WHERE p.key_hash = ? AND p.revoked_at IS NULL`;
    const [row] = await preparedRows(this.db, this.authenticateSql, [keyHash]);
    const principal = row ? hydrate(this.db, PrincipalEntity, row, 'p') : null;
    const org = row ? hydrate(this.db, OrganizationEntity, row, 'o') : null;
    const actor = principal && org ? actorOf(org, principal) : null;
    this.recent.delete(keyHash);
    if (actor) {
      if (this.recent.size >= RECENT_KEYS) this.recent.delete(this.recent.keys().next().value!);
      this.recent.set(keyHash, { actor, at: Date.now() });
    }
    return actor;
  }

  /**
   * The actor {@link authenticateHash} found for this key hash in the last
   * {@link RECENT_KEY_MS}, unconfirmed: issue 10 (a), the point read
   * confirms the key in its own statement (policy-read.queries.ts, the
   * principal by key hash and not revoked) instead of a statement of its
   * own, so revocation stays immediate. What a principal's actor holds
   * besides the key and revocation (its roles, organization) never
   * changes; its attestation can, and only writes look at it, which never
   * take this path (src/server.ts). Null when none is remembered.
   */
  recentActor(keyHash: string): Actor | null {
    const entry = this.recent.get(keyHash);
    if (!entry) return null;
    if (Date.now() - entry.at > RECENT_KEY_MS) {
      this.recent.delete(keyHash);
      return null;
    }
    return entry.actor;
  }

  /** Forgets a key found refused (revoked or replaced) by a confirmation outside {@link authenticateHash}. */
  forgetKey(keyHash: string): void {
    this.recent.delete(keyHash);
  }

  /**
   * `principals(first, after)`: the caller's own organization's principals,
   * revoked ones included, newest first (issue 12: so a leaked key's
   * principal can be found and revoked). ADMIN only ({@link mayListPrincipals},
   * re-checked here); another organization's principals are never in the
   * SQL, whoever asks, the EXCHANGE ADMIN included.
   */
  async page(ctx: RequestContext, args: { first?: number | null; after?: string | null }): Promise<IdPage<PrincipalEntity>> {
    const actor = requireActor(ctx);
    const first = pageSize(args.first);
    const after = decodeCursor(PRINCIPAL_CURSOR, args.after, isId);
    if (!mayListPrincipals(actor)) throw new ForbiddenError('Only an administrator may list its organization\'s principals');
    const qb = this.db.getRepository(PrincipalEntity).createQueryBuilder('p').where('p.organization_id = :org', { org: actor.organizationId });
    return pageById(qb, 'p', after, first);
  }

  async findById(id: string): Promise<PrincipalEntity | null> {
    return isId(id) ? this.db.getRepository(PrincipalEntity).findOneBy({ id }) : null;
  }

  /**
   * EXCHANGE ADMIN for any organization; an organization's ADMIN for its own.
   * Another organization's code is FORBIDDEN before it is looked up, so the
   * answer is the same whether it exists or not.
   */
  async create(ctx: RequestContext, input: { organizationCode: string; name: string; roles: Role[] }): Promise<CreatedPrincipal> {
    const actor = requireActor(ctx);
    const name = input.name.trim();
    const roles = [...new Set(input.roles)];
    if (!isExchangeAdmin(actor) && input.organizationCode.trim().toUpperCase() !== actor.organizationCode) {
      throw new ForbiddenError('An administrator may create principals only for its own organization');
    }
    if (name.length === 0 || name.length > 200) throw new BadInputError('name must be 1 to 200 characters', { field: 'name' });
    if (roles.length === 0 || roles.some((r) => !ROLES.includes(r))) throw new BadInputError('roles must name at least one role', { field: 'roles' });
    return inTransaction(this.db, async (em) => {
      const org = await this.organizations.findByCode(input.organizationCode, em);
      if (!org) throw new NotFoundError('Organization');
      const chain = chainOf(org);
      await this.transferLog.lockChain(em, chain);
      const created = await this.insert(em, org.id, name, roles);
      await this.transferLog.append(em, {
        insurerId: chain,
        operation: 'createPrincipal',
        ...logActor(actor),
        counterpartyId: org.id === actor.organizationId ? null : org.id,
        fields: ['principal.roles'],
        change: { principalId: created.principal.id, organizationId: org.id, roles },
      });
      return created;
    });
  }

  /** Inserts a principal with a fresh key; the key is returned once and only its hash stored. */
  async insert(em: EntityManager, organizationId: string, name: string, roles: Role[], options: { apiKey?: string; isBootstrap?: boolean } = {}): Promise<CreatedPrincipal> {
    const apiKey = options.apiKey ?? generateApiKey();
    const principal = em.getRepository(PrincipalEntity).create({
      id: newId(),
      organizationId,
      name,
      roles: roles.join(','),
      keyHash: hashApiKey(apiKey),
      isBootstrap: options.isBootstrap ?? false,
      attestedAt: null,
      revokedAt: null,
      createdAt: new Date(),
    });
    await em.getRepository(PrincipalEntity).insert(principal);
    return { principal, apiKey };
  }

  /**
   * Revokes a principal: its key fails from the next request on. Revoking
   * twice changes nothing. Another organization's principal is NOT_FOUND, as
   * a missing id is: ids are time-ordered, so FORBIDDEN would confirm that a
   * guessed one exists.
   */
  async revoke(ctx: RequestContext, id: string): Promise<PrincipalEntity> {
    const actor = requireActor(ctx);
    return inTransaction(this.db, async (em) => {
      const principal = isId(id) ? await em.getRepository(PrincipalEntity).findOneBy({ id }) : null;
      if (!principal || (!isExchangeAdmin(actor) && principal.organizationId !== actor.organizationId)) throw new NotFoundError('Principal');
      if (principal.isBootstrap) throw new BadInputError('The bootstrap administrator answers to KEXIN_ADMIN_TOKEN: change the token instead');
      if (principal.revokedAt) return principal;
      const org = await em.getRepository(OrganizationEntity).findOneByOrFail({ id: principal.organizationId });
      const chain = chainOf(org);
      await this.transferLog.lockChain(em, chain);
      principal.revokedAt = new Date();
      await em.getRepository(PrincipalEntity).update({ id: principal.id }, { revokedAt: principal.revokedAt });
      this.recent.delete(principal.keyHash); // a courtesy: every use of a remembered key confirms it anyway
      await this.transferLog.append(em, {
        insurerId: chain,
        operation: 'revokePrincipal',
        ...logActor(actor),
        counterpartyId: org.id === actor.organizationId ? null : org.id,
        fields: ['principal.revokedAt'],
        change: { principalId: principal.id, organizationId: org.id, roles: parseRoles(principal.roles), revokedAt: principal.revokedAt },
      });
      return principal;
    });
  }

  /**
   * The staff attestation: the caller declares it will not act for a
   * customer without the customer's request. A change of a principal, so
   * logged on its organization's chain in the same transaction (contract
   * "Writes"; issue 11 suite 6 found it unlogged): the attestation gates
   * every customer-data write, so when it was signed must be auditable.
   */
  async signAttestation(ctx: RequestContext): Promise<PrincipalEntity> {
    const actor = requireActor(ctx);
    return inTransaction(this.db, async (em) => {
      const org = await em.getRepository(OrganizationEntity).findOneByOrFail({ id: actor.organizationId });
      const chain = chainOf(org);
      await this.transferLog.lockChain(em, chain);
      const principal = await em.getRepository(PrincipalEntity).findOneByOrFail({ id: actor.principalId });
      principal.attestedAt = new Date();
      await em.getRepository(PrincipalEntity).update({ id: principal.id }, { attestedAt: principal.attestedAt });
      await this.transferLog.append(em, {
        insurerId: chain,
        operation: 'signAttestation',
        ...logActor(actor),
        counterpartyId: null,
        fields: ['principal.attestedAt'],
        change: { principalId: principal.id, organizationId: org.id, attestedAt: principal.attestedAt },
      });
      return principal;
    });
  }

  /**
   * Makes sure the bootstrap EXCHANGE ADMIN exists. With KEXIN_ADMIN_TOKEN its
   * key hash follows the token; without, a token is generated once and
   * returned so that start-up can print it (it is never shown again).
   */
  async ensureBootstrap(em: EntityManager, exchange: OrganizationEntity, adminToken: string | null): Promise<{ generatedToken: string | null }> {
    const repo = em.getRepository(PrincipalEntity);
    const existing = await repo.findOneBy({ isBootstrap: true });
    if (existing) {
      if (adminToken && existing.keyHash !== hashApiKey(adminToken)) await repo.update({ id: existing.id }, { keyHash: hashApiKey(adminToken) });
      return { generatedToken: null };
    }
    const token = adminToken ?? generateApiKey();
    await this.insert(em, exchange.id, 'Exchange bootstrap administrator', ['ADMIN'], { apiKey: token, isBootstrap: true });
    return { generatedToken: adminToken ? null : token };
  }
}

/** The transfer-log chain of a change to this organization's principals: its own when an insurer, else the exchange's. */
function chainOf(org: OrganizationEntity): string | null {
  return org.kind === 'INSURER' ? org.id : null;
}
