import type { DataSource, EntityManager } from 'typeorm';
import type { RequestContext } from '../../graphql/context';
import { BadInputError } from '../../graphql/errors';
import { newId } from '../../db/ids';
import { inTransaction } from '../../db/transaction';
import { DIRECT_CHANNEL_CODE, EXCHANGE_CODE, normalizeCode } from '../../domain/organization-codes';
import { OrganizationEntity, type OrganizationKind } from './organization.entity';
import { isId } from '../../db/ids';
import { pageById } from '../../db/keyset';
import { decodeCursor, pageSize, type IdPage } from '../../graphql/pagination';

/** The cursor tag of `organizationsConnection` pages. */
export const ORGANIZATION_CURSOR = 'organization';


const CODE = /^[A-Z0-9][A-Z0-9_-]{1,31}$/;

export class OrganizationService {
  constructor(private readonly db: DataSource) {}

  /** The directory of parties (codes, names, kinds: no personal data), for every principal. */
  async list(_ctx: RequestContext): Promise<OrganizationEntity[]> {
    return this.db.getRepository(OrganizationEntity).find({ order: { code: 'ASC' } });
  }

  /** {@link list} as a Relay page, newest first (the directory grows with every partner; issue 12). */
  async page(_ctx: RequestContext, args: { first?: number | null; after?: string | null }): Promise<IdPage<OrganizationEntity>> {
    const first = pageSize(args.first);
    const after = decodeCursor(ORGANIZATION_CURSOR, args.after, isId);
    return pageById(this.db.getRepository(OrganizationEntity).createQueryBuilder('o'), 'o', after, first);
  }

  async findByCode(code: string, em: EntityManager = this.db.manager): Promise<OrganizationEntity | null> {
    return em.getRepository(OrganizationEntity).findOneBy({ code: normalizeCode(code) });
  }

  /**
   * Creates a party. Only one EXCHANGE exists: it is made at start.
   * `record` runs in the same transaction, after the insert: the caller's
   * transfer-log entry (OrganizationRegistry), so the party and its entry
   * commit together or not at all.
   */
  async create(
    _ctx: RequestContext,
    input: { code: string; name: string; kind: OrganizationKind },
    record: (em: EntityManager, org: OrganizationEntity) => Promise<void> = async () => undefined,
  ): Promise<OrganizationEntity> {
    const code = normalizeCode(input.code);
    const name = input.name.trim();
    if (!CODE.test(code)) {
      throw new BadInputError('code must be 2 to 32 letters, digits, "_" or "-", starting with a letter or digit', { field: 'code' });
    }
    if (name.length === 0 || name.length > 200) throw new BadInputError('name must be 1 to 200 characters', { field: 'name' });
    if (input.kind === 'EXCHANGE') throw new BadInputError('there is exactly one EXCHANGE organization', { field: 'kind' });
    // `DIRECT` stands for "no channel" in policy filters and completeness summaries.
    if (code === DIRECT_CHANNEL_CODE) throw new BadInputError(`the code ${DIRECT_CHANNEL_CODE} is reserved for direct sales`, { field: 'code' });
    return inTransaction(this.db, async (em) => {
      if (await this.findByCode(code, em)) throw new BadInputError(`an organization with code ${code} already exists`, { field: 'code' });
      const org = em.getRepository(OrganizationEntity).create({ id: newId(), code, name, kind: input.kind, createdAt: new Date() });
      await em.getRepository(OrganizationEntity).insert(org);
      await record(em, org);
      return org;
    });
  }

  /** Creates the EXCHANGE organization when absent (idempotent; run at start). */
  async ensureExchange(em: EntityManager): Promise<OrganizationEntity> {
    const existing = await this.findByCode(EXCHANGE_CODE, em);
    if (existing) return existing;
    const org = em.getRepository(OrganizationEntity).create({
      id: newId(),
      code: EXCHANGE_CODE,
      name: 'Kexin exchange',
      kind: 'EXCHANGE',
      createdAt: new Date(),
    });
    await em.getRepository(OrganizationEntity).insert(org);
    return org;
  }
}
