import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { assertNotTooComplex } from '../../src/graphql/plugins';
import { MAX_COST, MAX_DEPTH } from '../../src/graphql/query-limits';

const schema = buildSchema(`
  type Node { id: ID! child: Node items(first: Int): [Node!]! }
  type Query { root: Node }
`);

function check(query: string, variables: Record<string, unknown> = {}) {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode;
  return () => assertNotTooComplex(schema, document, operation, variables);
}

function nested(depth: number): string {
  let selection = 'id';
  for (let i = 1; i < depth; i += 1) selection = `child { ${selection} }`;
  return `{ ${selection.replace(/^child/, 'root')} }`;
}

describe('query complexity', () => {
  it(`allows depth ${MAX_DEPTH} and refuses depth ${MAX_DEPTH + 1} with QUERY_TOO_COMPLEX`, () => {
    expect(check(nested(MAX_DEPTH))).not.toThrow();
    expect(check(nested(MAX_DEPTH + 1))).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX' }) }));
  });

  it('counts depth through fragments, without looping on cycles', () => {
    const q = `query { root { ...F } } fragment F on Node { child { child { child { child { child { child { child { child { child { child { child { child { id } } } } } } } } } } } } }`;
    expect(check(q)).toThrow(/depth/);
  });

  it(`multiplies list children by their page size and refuses a cost above ${MAX_COST}`, () => {
    expect(check('{ root { items(first: 100) { id child { id } } } }')).not.toThrow();
    expect(check('query($n: Int) { root { items(first: $n) { items(first: $n) { items(first: $n) { id } } } } }', { n: 500 })).toThrow(/cost/);
  });
});
