import { buildSchema, graphql } from 'graphql';
import { scrubValues } from '../../src/graphql/format-error';

/** graphql-js 16 coercion messages echo the rejected value; none of it may reach a client or a log. */
describe('scrubValues', () => {
  const schema = buildSchema('scalar Date enum E { A B } input I { p: String!, e: E, n: Int } type Query { f(i: I!, n: Int, d: Date): Int }');

  it('drops every echo of a rejected variable value, keeps variable, path and reason', async () => {
    const result = await graphql({
      schema,
      source: 'query($i: I!, $n: Int) { f(i: $i, n: $n) }',
      variableValues: { i: { p: 13800138000, e: 'C13900139000', n: 'x110105198503070019' }, n: '13700137000' },
    });
    const messages = (result.errors ?? []).map((e) => scrubValues(e.message));
    expect(messages.length).toBeGreaterThanOrEqual(3);
    for (const message of messages) {
      expect(message).not.toMatch(/1380013800|1390013900|110105198503070019|1370013700/);
      expect(message).toMatch(/^Variable "\$[in]" got an invalid value/);
    }
    expect(messages).toContain('Variable "$i" got an invalid value at "i.p"; String cannot represent a non string value');
    expect(messages.some((m) => m.includes('The value does not exist in "E" enum'))).toBe(true);
  });

  it('drops the whole value when it holds the separators itself (found by the fuzz: "; " inside a string)', async () => {
    const result = await graphql({
      schema,
      source: 'query($i: I!) { f(i: $i) }',
      variableValues: { i: { p: "'); drop table x; -- 13800138000", e: 'A', n: 'a at "i.p"; 110105198503070019 ] } [' } },
    });
    const messages = (result.errors ?? []).map((e) => scrubValues(e.message));
    expect(messages).toEqual(['Variable "$i" got an invalid value at "i.n"; Int cannot represent non-integer value']);
    expect(scrubValues('Variable "$i" got invalid value { p: "a; b 13800138000" }; Field "q" is not defined by type "I".')).toBe('Variable "$i" got an invalid value; Field "q" is not defined by type "I".');
  });

  it('leaves other messages alone', () => {
    expect(scrubValues('Cannot query field "nope" on type "Query".')).toBe('Cannot query field "nope" on type "Query".');
  });
});
