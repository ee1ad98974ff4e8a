import { isObjectType } from 'graphql';
import { ruleMap } from '../../src/auth/permissions';
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
