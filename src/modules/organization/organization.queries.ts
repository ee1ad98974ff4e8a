import { In, type DataSource } from 'typeorm';
import { OrganizationEntity } from './organization.entity';

/** The organizations of `ids` (nulls and repeats skipped) by id, in one query; none when there are no ids. */
export async function organizationsById(db: DataSource, ids: ReadonlyArray<string | null | undefined>): Promise<Map<string, OrganizationEntity>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null && id !== undefined).map(String))];
  if (wanted.length === 0) return new Map();
  const rows = await db.getRepository(OrganizationEntity).findBy({ id: In(wanted) });
  return new Map(rows.map((row) => [row.id, row]));
}
