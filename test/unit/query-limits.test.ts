import { getIntrospectionQuery, getNamedType, isNonNullType, isObjectType, parse, specifiedRules, validate, type GraphQLField, type GraphQLSchema } from 'graphql';
import { ConfigError, DEFAULT_MAX_BODY_BYTES, loadConfig } from '../../src/config';
import { NO_RESOLVERS } from '../../src/container';
import { buildServedSchema } from '../../src/graphql/schema';
import { parseWithinLimits } from '../../src/graphql/query-limits';
import { MAX_BATCH_RECORDS } from '../../src/modules/sales/sales.validation';
import { person, salesRecord, SUBMIT_SALES } from '../support/sales';

/** `field` with every field of its result, recursively (each object type once on a path); required arguments become variables. */
function selectField(field: GraphQLField<unknown, unknown>, path: string[], variables: string[]): string {
  const args = field.args.filter((arg) => isNonNullType(arg.type)).map((arg) => {
    variables.push(`$v${variables.length}: ${String(arg.type)}`);
    return `${arg.name}: $v${variables.length - 1}`;
  });
  const call = args.length ? `${field.name}(${args.join(', ')})` : field.name;
  const type = getNamedType(field.type);
  if (!isObjectType(type)) return call;
  const children = Object.values(type.getFields()).filter((child) => !path.includes(getNamedType(child.type).name));
  return `${call} { ${children.map((child) => selectField(child, [...path, type.name], variables)).join(' ')} }`;
}

/** The largest legitimate operation on each root field: all of its result. */
function fullOperations(schema: GraphQLSchema): Array<[string, string]> {
  return (['query', 'mutation'] as const).flatMap((kind) => {
    const root = kind === 'query' ? schema.getQueryType()! : schema.getMutationType()!;
    return Object.values(root.getFields()).map((field): [string, string] => {
      const variables: string[] = [];
      const selection = selectField(field, [], variables);
      return [field.name, `${kind}${variables.length ? `(${variables.join(', ')})` : ''} { ${selection} }`];
    });
  });
}

describe('query limits leave every legitimate operation inside', () => {
  it('every root field with every field of its result, and the introspection query, pass the limits', async () => {
    const schema = await buildServedSchema(NO_RESOLVERS);
    const operations = [...fullOperations(schema), ['introspection', getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true })]];
    expect(operations.length).toBeGreaterThan(20);
    for (const [name, query] of operations) {
      expect([name, validate(schema, parse(query!), specifiedRules).map((e) => e.message)]).toEqual([name, []]);
      expect(() => parseWithinLimits(schema, query!)).not.toThrow();
    }
  });
});

describe('KEXIN_MAX_BODY_BYTES', () => {
  const base = { NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:' };

  it('defaults to 2 MiB, which a full batch of 1000 records with three beneficiaries each fits inside', () => {
    expect(loadConfig(base).maxBodyBytes).toBe(2 * 1024 * 1024);
    const beneficiary = () => ({ person: person({ address: '上海市浦东新区测试路一二三四五六七八九十号某某大厦二十三层' }), order: 1, relationshipToInsured: 'CHILD', sharePercent: 33.3333 });
    const records = Array.from({ length: MAX_BATCH_RECORDS }, (_, i) => salesRecord(`P-2026-${String(i).padStart(8, '0')}`, { insured: person(), insuredRelationship: 'SPOUSE', salesPersonCode: 'SP-000123', beneficiaries: [beneficiary(), beneficiary(), beneficiary()] }));
    const body = JSON.stringify({ query: SUBMIT_SALES, variables: { insurerCode: 'INSURER-0001', key: 'batch-2026-01-15-0001', records } });
    expect(Buffer.byteLength(body)).toBeLessThan(DEFAULT_MAX_BODY_BYTES);
  });

  it('takes a positive whole number of bytes and refuses anything else', () => {
    expect(loadConfig({ ...base, KEXIN_MAX_BODY_BYTES: '65536' }).maxBodyBytes).toBe(65536);
    for (const bad of ['0', '-1', '1.5', '2MB', '1e6']) {
      expect(() => loadConfig({ ...base, KEXIN_MAX_BODY_BYTES: bad })).toThrow(ConfigError);
    }
  });
});
