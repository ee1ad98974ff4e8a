import type http from 'node:http';
import fc from 'fast-check';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { loadConfig } from '../../src/config';
import { Metrics, MULTIPLE_OPERATION, operationLabel, outcomeOf, scrapeAllowed } from '../../src/metrics';

const TOKEN = 'metrics-token-0123456789abcdef';

function label(query: string, operationName?: string): string {
  const document = parse(query);
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName)! : operations[0]!;
  return operationLabel(document, operation);
}

const request = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as http.IncomingMessage;

describe('metrics config (KEXIN_METRICS_TOKEN, KEXIN_METRICS_PORT)', () => {
  it('is off by default: no token, no port', () => {
    expect(loadConfig({}).metrics).toEqual({ token: null, port: null });
    expect(loadConfig({ KEXIN_METRICS_TOKEN: '  ', KEXIN_METRICS_PORT: '' }).metrics).toEqual({ token: null, port: null });
  });

  it('takes a token of 24 characters or more and a port from 0 to 65535', () => {
    expect(loadConfig({ KEXIN_METRICS_TOKEN: TOKEN, KEXIN_METRICS_PORT: '9464' }).metrics).toEqual({ token: TOKEN, port: 9464 });
    expect(loadConfig({ KEXIN_METRICS_PORT: '0' }).metrics.port).toBe(0);
  });

  it('refuses a short or spaced token, a bad port, and the main port, naming the variable and never the token', () => {
    expect(() => loadConfig({ KEXIN_METRICS_TOKEN: 'short-secret' })).toThrow(/^KEXIN_METRICS_TOKEN must be at least 24 characters/);
    expect(() => loadConfig({ KEXIN_METRICS_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
    expect(() => loadConfig({ KEXIN_METRICS_TOKEN: 'a token with spaces in it, long enough' })).toThrow(/KEXIN_METRICS_TOKEN/);
    for (const bad of ['-1', '65536', '80a', '1.5']) expect(() => loadConfig({ KEXIN_METRICS_PORT: bad })).toThrow(/^KEXIN_METRICS_PORT must be a whole number from 0 to 65535/);
    expect(() => loadConfig({ PORT: '4000', KEXIN_METRICS_PORT: '4000' })).toThrow(/KEXIN_METRICS_PORT must differ from PORT/);
  });
});

describe('operation labels', () => {
  it('are the root field selected, whatever the operation name, alias or fragment', () => {
    expect(label('{ me { id } }')).toBe('me');
    expect(label('query AnythingTheCallerLikes { mine: me { id } }')).toBe('me');
    expect(label('query Q { ...F } fragment F on Query { policies { totalCount } }')).toBe('policies');
    expect(label('{ ... on Query { me { id } } __typename }')).toBe('me');
    expect(label('{ a: me { id } b: me { name } }')).toBe('me');
    expect(label('{ me { id } policies { totalCount } }')).toBe(MULTIPLE_OPERATION);
    expect(label('query A { me { id } } mutation B { signAttestation { id } }', 'B')).toBe('signAttestation');
    expect(label('{ __typename }')).toBe('__typename');
    // A fragment that spreads itself (refused by validation later) does not loop here.
    expect(label('{ ...F } fragment F on Query { me { id } ...F }')).toBe('me');
  });

  it('take only root field names, never what the caller named (seeded property, 200 documents)', () => {
    const roots = ['me', 'policy', 'policies', 'submitSales', 'verifyTransferLog'];
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/);
    const seed = 12_012;
    fc.assert(
      fc.property(name, fc.array(fc.tuple(fc.constantFrom(...roots), fc.option(name)), { minLength: 1, maxLength: 4 }), (operationName, fields) => {
        const selections = fields.map(([field, alias]) => `${alias ? `${alias}_a: ` : ''}${field} { __typename }`).join(' ');
        const got = label(`query ${operationName}_op { ${selections} }`);
        const distinct = new Set(fields.map(([field]) => field));
        expect(got).toBe(distinct.size === 1 ? [...distinct][0] : MULTIPLE_OPERATION);
      }),
      { seed, numRuns: 200 },
    );
  });
});

describe('outcomes and scrape authorization', () => {
  it('classes a response by its error codes', () => {
    expect(outcomeOf([])).toBe('ok');
    expect(outcomeOf(['BAD_USER_INPUT', 'FORBIDDEN'])).toBe('client_error');
    expect(outcomeOf(['NOT_FOUND', 'INTERNAL_SERVER_ERROR'])).toBe('server_error');
    expect(outcomeOf(['SOMETHING_ELSE'])).toBe('server_error');
  });

  it('lets a scrape in only with the exact bearer token, or on the open loopback port when no token is set', () => {
    expect(scrapeAllowed(request(`Bearer ${TOKEN}`), TOKEN, false)).toBe(true);
    expect(scrapeAllowed(request(`bearer ${TOKEN}`), TOKEN, false)).toBe(true);
    for (const bad of [undefined, '', 'Bearer', `Bearer ${TOKEN}0`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, `Bearer ${TOKEN} extra`]) expect(scrapeAllowed(request(bad), TOKEN, true)).toBe(false);
    expect(scrapeAllowed(request(), null, true)).toBe(true);
    expect(scrapeAllowed(request(`Bearer ${TOKEN}`), null, false)).toBe(false);
  });

  it('maps an error code outside the contract to INTERNAL_SERVER_ERROR, so the code label stays a fixed set', async () => {
    const metrics = new Metrics();
    metrics.countErrors(['SOMETHING_A_CALLER_SENT', 'FORBIDDEN']);
    const { body } = await metrics.scrape();
    expect(body).not.toContain('SOMETHING_A_CALLER_SENT');
    expect(body).toContain('kexin_graphql_errors_total{code="INTERNAL_SERVER_ERROR"} 1');
    expect(body).toContain('kexin_graphql_errors_total{code="FORBIDDEN"} 1');
  });
});
