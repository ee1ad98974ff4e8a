import { Field, ObjectType } from 'type-graphql';
import { BadInputError } from './errors';

/**
 * Relay pagination shared by every list (contract README "Reads"): `first`
 * defaults to 50 and may not exceed 500, `after` takes the `endCursor` of the
 * page before, order is stable (newest first) and pages never overlap.
 */
export const DEFAULT_FIRST = 50;
export const MAX_FIRST = 500;

@ObjectType('PageInfo')
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export function pageInfo(hasNextPage: boolean, endCursor: string | null): PageInfo {
  return Object.assign(new PageInfo(), { hasNextPage, endCursor });
}

/** The page size asked for: 50 when absent; BAD_USER_INPUT outside 0..500. */
export function pageSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_FIRST;
  if (!Number.isInteger(size) || size < 0 || size > MAX_FIRST) {
    throw new BadInputError(`first must be between 0 and ${MAX_FIRST}`, { field: 'first', limit: MAX_FIRST });
  }
  return size;
}

/**
 * An opaque cursor: `tag:key`, base64url. The tag names the list, so a cursor
 * of one list is refused by another instead of silently mis-positioning it.
 */
export function encodeCursor(tag: string, key: string): string {
  return Buffer.from(`${tag}:${key}`, 'utf8').toString('base64url');
}

/** The key of a cursor made by {@link encodeCursor} with `tag`; BAD_USER_INPUT when it is not one (or fails `valid`). */
export function decodeCursor(tag: string, cursor: string | null | undefined, valid: (key: string) => boolean = () => true): string | null {
  if (cursor === null || cursor === undefined) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const prefix = `${tag}:`;
  const key = text.startsWith(prefix) ? text.slice(prefix.length) : null;
  if (key === null || key === '' || !valid(key)) throw new BadInputError('after is not a cursor of this list', { field: 'after' });
  return key;
}

/**
 * The Edge and Connection object types of a list of `node` (issue 12: Relay
 * paging beside the lists that grow without bound), named `<name>Edge` and
 * `<name>Connection` as PolicyEdge/PolicyConnection are.
 */
export function connectionTypes<T extends object>(name: string, node: new () => T) {
  @ObjectType(`${name}Edge`, { description: `One ${name} of a page, with its cursor.` })
  class Edge {
    @Field(() => String, { description: 'Pass as `after` to read the rows after this one.' })
    cursor!: string;

    @Field(() => node, { description: `The ${name}.` })
    node!: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${name} rows, newest first (first: 50 when absent, at most 500; after: the endCursor of the page before).` })
  class Connection {
    @Field(() => [Edge], { description: 'The rows of this page, newest first.' })
    edges!: Edge[];

    @Field(() => PageInfo, { description: 'Whether another page follows, and the cursor to ask for it.' })
    pageInfo!: PageInfo;
  }
  return { Edge, Connection };
}

/** A page of rows keyed by their time-ordered id (UUIDv7): newest first. */
export interface IdPage<R> {
  rows: R[];
  hasNextPage: boolean;
}

/** The wire connection of an {@link IdPage}: cursors are `tag`-tagged ids ({@link encodeCursor}). */
export function toIdConnection<R, T extends object, C extends { edges: Array<{ cursor: string; node: T }>; pageInfo: PageInfo }>(
  types: { Edge: new () => { cursor: string; node: T }; Connection: new () => C },
  tag: string,
  page: IdPage<R>,
  toNode: (row: R) => T,
  idOf: (row: R) => string = (row) => (row as { id: string }).id,
): C {
  const edges = page.rows.map((row) => Object.assign(new types.Edge(), { cursor: encodeCursor(tag, idOf(row)), node: toNode(row) }));
  return Object.assign(new types.Connection(), { edges, pageInfo: pageInfo(page.hasNextPage, edges.length ? edges[edges.length - 1]!.cursor : null) });
}
