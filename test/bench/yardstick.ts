/**
 * The yardstick of the read measures: bare Apollo Server 5 on node:http (the
 * same set-up as src/server.ts: executeHTTPGraphQLRequest, JSON bodies), with
 * a schema of the same shape as Kexin's Policy and every resolver answering
 * a static object, configured as Kexin runs in production (no introspection,
 * no landing page, no stack traces). What Kexin adds on top (auth, grants, SQL, masking, shield,
 * the transfer log) is what the ratio measures.
 */
import http from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';

const TYPE_DEFS = `#graphql
  type Organization { code: String! name: String! }
  type Person { id: ID! name: String idNumber: String phone: String address: String }
  type Beneficiary { order: Int sharePercent: Float person: Person! }
  type Completeness { status: String! missing: [String!]! }
  type Policy { policyNo: String! productCode: String! completeness: Completeness! channel: Organization
    policyholder: Person! insured: Person! beneficiaries: [Beneficiary!]! }
  type PolicyEdge { cursor: String! node: Policy! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type PolicyConnection { edges: [PolicyEdge!]! pageInfo: PageInfo! }
  type Query {
    policy(insurerCode: String!, policyNo: String!): Policy
    policies(first: Int, after: String): PolicyConnection!
  }
`;

function staticPolicy(i: number) {
  const person = (n: string) => ({ id: `p-${i}-${n}`, name: `测试${n}`, idNumber: '110105********0019', phone: '138****8000', address: '上海市浦东新区测试路1号' });
  return {
    policyNo: `STATIC-${i}`,
    productCode: 'LIFE-20Y',
    completeness: { status: 'COMPLETE', missing: [] },
    channel: { code: 'BANK', name: 'Bank' },
    policyholder: person('h'),
    insured: person('i'),
    beneficiaries: [{ order: 1, sharePercent: 100, person: person('b') }],
  };
}

/** Starts the bare server on a loopback port; returns its /graphql URL and a stop function. */
export async function startYardstick(): Promise<{ url: string; stop: () => Promise<void> }> {
  const page = Array.from({ length: 500 }, (_, i) => staticPolicy(i));
  const apollo = new ApolloServer({
    typeDefs: TYPE_DEFS,
    resolvers: {
      Query: {
        policy: () => page[0],
        policies: (_: unknown, args: { first?: number | null }) => {
          const nodes = page.slice(0, args.first ?? 50);
          return { edges: nodes.map((node) => ({ cursor: node.policyNo, node })), pageInfo: { hasNextPage: true, endCursor: nodes.at(-1)?.policyNo ?? null } };
        },
      },
    },
    includeStacktraceInErrorResponses: false,
    introspection: false,
    csrfPrevention: true,
    plugins: [ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      apollo
        .executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method ?? 'POST', headers, search: '', body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') },
          context: async () => ({}),
        })
        .then((response) => {
          for (const [key, value] of response.headers) res.setHeader(key, value);
          res.statusCode = response.status ?? 200;
          res.end(response.body.kind === 'complete' ? response.body.string : '');
        })
        .catch(() => {
          res.statusCode = 500;
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    stop: async () => {
      await apollo.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
