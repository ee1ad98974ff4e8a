import { In, type DataSource } from 'typeorm';
import type { RequestContext } from '../../graphql/context';
import { CHUNK_IN, chunk } from '../../db/bulk';
import type { PolicyService } from '../policy/policy.service';
import { CorrectionChangeEntity, CorrectionEntity } from './correction.entity';
import type { CorrectionRecord } from './correction.service';
import { isId } from '../../db/ids';
import { pageById } from '../../db/keyset';
import { decodeCursor, pageSize, type IdPage } from '../../graphql/pagination';
import type { PolicyEntity } from '../policy/policy.entity';
import type { PiiView } from '../policy/person.type';

/** The cursor tag of `correctionsConnection` pages. */
export const CORRECTION_CURSOR = 'correction';


/** The read side of corrections: a policy's correction history (the `corrections` query). */
export class CorrectionHistoryService {
  constructor(
    private readonly db: DataSource,
    private readonly policies: Pick<PolicyService, 'findOne'>,
  ) {}

  /**
   * corrections(insurerCode, policyNo): the history of a policy the caller
   * may see (the same rule as `policy`: the insurer's principals; a
   * partner's only for policies it distributed, while an ACTIVE agreement
   * grants READ_POLICIES), newest first; an empty list otherwise, whether or
   * not the policy exists. Two queries.
   */
  async list(ctx: RequestContext, insurerCode: string, policyNo: string): Promise<CorrectionRecord[]> {
    const visible = await this.policies.findOne(ctx, insurerCode, policyNo);
    if (!visible) return [];
    const rows = await this.db.getRepository(CorrectionEntity).find({
      where: { insurerId: visible.entity.insurerId, policyId: visible.entity.id },
      order: { id: 'DESC' },
    });
    return this.withChanges(rows, visible);
  }

  /**
   * {@link list} as a Relay page (issue 12): the same visibility (an empty
   * page otherwise), newest first, keyset on the correction id.
   */
  async page(ctx: RequestContext, insurerCode: string, policyNo: string, args: { first?: number | null; after?: string | null }): Promise<IdPage<CorrectionRecord>> {
    const first = pageSize(args.first);
    const after = decodeCursor(CORRECTION_CURSOR, args.after, isId);
    const visible = await this.policies.findOne(ctx, insurerCode, policyNo);
    if (!visible) return { rows: [], hasNextPage: false };
    const qb = this.db
      .getRepository(CorrectionEntity)
      .createQueryBuilder('c')
      .where('c.insurer_id = :insurerId AND c.policy_id = :policyId', { insurerId: visible.entity.insurerId, policyId: visible.entity.id });
    const page = await pageById(qb, 'c', after, first);
    return { rows: await this.withChanges(page.rows, visible), hasNextPage: page.hasNextPage };
  }

  private async withChanges(rows: CorrectionEntity[], visible: { entity: PolicyEntity; view: PiiView }): Promise<CorrectionRecord[]> {
    const byCorrection = new Map<string, CorrectionChangeEntity[]>();
    for (const part of chunk(rows.map((r) => r.id), CHUNK_IN)) {
      const changes = await this.db.getRepository(CorrectionChangeEntity).find({ where: { correctionId: In(part) }, order: { correctionId: 'ASC', ord: 'ASC' } });
      for (const c of changes) byCorrection.set(c.correctionId, [...(byCorrection.get(c.correctionId) ?? []), c]);
    }
    return rows.map((correction) => ({ correction, changes: byCorrection.get(correction.id) ?? [], policy: visible.entity, view: visible.view }));
  }
}
