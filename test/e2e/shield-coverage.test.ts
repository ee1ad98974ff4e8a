import { buildSchema, graphql, isObjectType, printSchema, type GraphQLObjectType } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { permissions, ruleMap } from '../../src/auth/permissions';
import { errorCode, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { minimalOperation, rootFields } from '../support/operations';

/** Deny by default, proven for every root field of the SERVED schema (not a hand-kept list). */
describe(`authorization coverage (${TEST_DB})`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('every root field has its own rule in the permission map', () => {
    const fields = rootFields(app.server.schema);
    expect(fields.length).toBeGreaterThan(5);
    const missing = fields.filter(({ type, field }) => !(field.name in (ruleMap as Record<string, Record<string, unknown>>)[type]!));
    expect(missing.map((f) => `${f.type}.${f.field.name}`)).toEqual([]);
  });

  it('every object type of the schema is named in the permission map', () => {
    const types = Object.values(app.server.schema.getTypeMap()).filter((t) => isObjectType(t) && !t.name.startsWith('__') && t.name !== 'Query' && t.name !== 'Mutation');
    expect(types.map((t) => t.name).filter((name) => !(name in ruleMap))).toEqual([]);
  });

  /** Every object type of the served schema but introspection's, Query and Mutation included. */
  const objectTypes = () => Object.values(app.server.schema.getTypeMap()).filter((t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith('__'));
  const rules = ruleMap as Record<string, Record<string, unknown>>;

  it('covers 100% of the schema coordinates (Type.field) by an explicit rule or the type\'s wildcard', () => {
    const coordinates = objectTypes().flatMap((type) => Object.keys(type.getFields()).map((field) => ({ type: type.name, field })));
    const uncovered = coordinates.filter(({ type, field }) => !(rules[type] && (field in rules[type]! || '*' in rules[type]!)));
    const explicit = coordinates.filter(({ type, field }) => rules[type] && field in rules[type]!).length;
    const percent = (100 * (coordinates.length - uncovered.length)) / coordinates.length;
    console.log(`shield coverage: ${coordinates.length - uncovered.length}/${coordinates.length} coordinates (${percent.toFixed(1)}%), ${explicit} by an explicit rule, the rest by a type wildcard; ${objectTypes().length} object types`);
    expect(coordinates.length).toBeGreaterThan(100);
    expect(uncovered.map(({ type, field }) => `${type}.${field}`)).toEqual([]);
    expect(percent).toBe(100);
  });

  it('names no type or field the served schema does not have (a stale rule guards nothing)', () => {
    const types = new Map(objectTypes().map((t) => [t.name, t]));
    const stale = Object.entries(rules).flatMap(([type, fields]) =>
      !types.has(type) ? [type] : Object.keys(fields).filter((f) => f !== '*' && !(f in types.get(type)!.getFields())).map((f) => `${type}.${f}`),
    );
    expect(stale).toEqual([]);
  });

  it('denies with FORBIDDEN whatever the map does not name (fallbackRule deny, typed fallbackError)', async () => {
    // The same shield over the served SDL plus a root field and a type the map does not know (reached through an opened type).
    const extended = buildSchema(`${printSchema(app.server.schema)}\nextend type Query { unknownRoot: String }\ntype Unlisted { id: ID }\nextend type Organization { unlisted: Unlisted }\n`);
    const guarded = applyMiddleware(extended, permissions);
    const rootValue = { me: { organization: { unlisted: { id: '1' } } }, unknownRoot: 'leak' };
    const actor = { principalId: 'p', organizationId: 'o', organizationCode: 'O', organizationKind: 'EXCHANGE', roles: ['ADMIN'], attestedAt: null, isBootstrap: false, name: 'n' };
    const result = await graphql({ schema: guarded, source: '{ unknownRoot me { organization { unlisted { id } } } }', rootValue, contextValue: { actor } });
    expect(result.data?.unknownRoot ?? null).toBeNull();
    // `me` has its rule (any principal), Principal and Organization are opened, but `Unlisted.id` falls back to deny.
    expect(result.data?.me).toEqual({ organization: { unlisted: { id: null } } });
    expect(result.errors?.map((e) => [e.path?.join('.'), e.extensions?.code]).sort()).toEqual([
      ['me.organization.unlisted.id', 'FORBIDDEN'],
      ['unknownRoot', 'FORBIDDEN'],
    ]);
  });

  it('every root field refuses an anonymous call with UNAUTHENTICATED and no data', async () => {
    const failures: string[] = [];
    for (const { kind, field } of rootFields(app.server.schema)) {
      const operation = minimalOperation(kind, field);
      const result = await app.gql(null, operation);
      const data = result.data as Record<string, unknown> | null | undefined;
      if (errorCode(result) !== 'UNAUTHENTICATED' || (data && data[field.name] != null)) failures.push(`${operation} -> ${JSON.stringify(result)}`);
    }
    expect(failures).toEqual([]);
  });
});
