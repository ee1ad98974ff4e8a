import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { getVariableValues, Kind, separateOperations, visit, type ArgumentNode, type ASTNode, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import type { RequestContext } from './context';
import { AppError, BadRequestInputError, isErrorCode, QueryTooComplexError } from './errors';
import { isUnexpected } from './format-error';
import { DEFAULT_FIRST, MAX_FIRST } from './pagination';
import { MAX_COST, MAX_DEPTH } from './query-limits';
import type { Logger } from '../logger';

/** Logs every error that is not one of the contract's on-purpose refusals, with the request id. */
export function errorLoggingPlugin(log: Logger): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            const code = (error.extensions?.code as string | undefined) ?? undefined;
            if (original instanceof AppError || (isErrorCode(code) && code !== 'INTERNAL_SERVER_ERROR' && !isUnexpected(original))) continue;
            if (!error.path) continue; // parse/validation errors: the caller's input, answered as BAD_USER_INPUT
            (contextValue?.log ?? log).error({ err: original, path: error.path?.join('.') }, 'unexpected error');
          }
        },
      };
    },
  };
}

/**
 * Strips "Did you mean …?" from every error (production): Apollo's
 * hideSchemaDetailsFromClientErrors covers validation only, and a variable's
 * coercion error still names the enum values near the one sent.
 */
export function hideSuggestionsPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) error.message = error.message.replace(/ ?Did you mean[\s\S]*?\?$/, '');
        },
      };
    },
  };
}

/**
 * Lists cost their page size times their selection: `first` (default 50)
 * multiplies the children. A page size outside 0..500 is refused here, before
 * any resolver runs (pageSize() in the resolvers says the same).
 */
const pagedEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  if (!('first' in args)) return undefined;
  const first = typeof args.first === 'number' ? args.first : DEFAULT_FIRST;
  if (first < 0 || first > MAX_FIRST) throw new BadRequestInputError(`first must be between 0 and ${MAX_FIRST}`, { field: 'first', limit: MAX_FIRST });
  return Math.max(1, first) * Math.max(1, childComplexity);
};

function depthOf(selectionSet: { selections: readonly unknown[] } | undefined, fragments: Map<string, { selectionSet: { selections: readonly unknown[] } }>, seen: Set<string>): number {
  if (!selectionSet) return 0;
  let max = 0;
  for (const node of selectionSet.selections as Array<{ kind: string; name?: { value: string }; selectionSet?: { selections: readonly unknown[] } }>) {
    if (node.kind === 'Field') max = Math.max(max, node.selectionSet ? 1 + depthOf(node.selectionSet, fragments, seen) : 1);
    else if (node.kind === 'InlineFragment') max = Math.max(max, depthOf(node.selectionSet, fragments, seen));
    else if (node.kind === 'FragmentSpread' && node.name && !seen.has(node.name.value)) {
      const fragment = fragments.get(node.name.value);
      if (fragment) max = Math.max(max, depthOf(fragment.selectionSet, fragments, new Set([...seen, node.name.value])));
    }
  }
  return max;
}

/**
 * Throws QUERY_TOO_COMPLEX when an operation is deeper than {@link MAX_DEPTH}
 * or costlier than {@link MAX_COST}, BAD_USER_INPUT for a page size above
 * {@link MAX_FIRST}; both answer HTTP 400. Variables that do not coerce are
 * left to execution, which refuses them all at once (BAD_USER_INPUT, 400)
 * before any resolver; the cost cannot be estimated without them anyway.
 * True when the operation was measured and is within the limits.
 */
export function assertNotTooComplex(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> = {}): boolean {
  if ('errors' in getVariableValues(schema, operation.variableDefinitions ?? [], variables)) return false;
  const fragments = new Map<string, { selectionSet: { selections: readonly unknown[] } }>();
  for (const def of document.definitions) if (def.kind === 'FragmentDefinition') fragments.set(def.name.value, def);
  const depth = depthOf(operation.selectionSet, fragments, new Set());
  if (depth > MAX_DEPTH) throw new QueryTooComplexError(`Query depth ${depth} is above the limit of ${MAX_DEPTH}`, MAX_DEPTH);
  const name = operation.name?.value;
  const query = name ? separateOperations(document)[name] ?? document : document;
  const cost = getComplexity({ schema, query, variables, operationName: name, estimators: [pagedEstimator, simpleEstimator({ defaultComplexity: 1 })] });
  if (cost > MAX_COST) throw new QueryTooComplexError(`Query cost ${cost} is above the limit of ${MAX_COST}`, MAX_COST);
  return true;
}

/**
 * The variables the cost of a document's operations can depend on: those
 * inside a `first` argument (pagedEstimator) or a directive (@skip/@include
 * drop fields from the count), in the operations and their fragments. The
 * others (an insurer code, a policy number, a filter) never change it.
 */
function costVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  visit(document, {
    Variable(node, _key, parent, _path, ancestors) {
      // graphql-js leaves the parent out of `ancestors`, and a `first: $n` variable's parent is the argument itself
      // (issue 12 found first: 501 let through to the resolvers, 200 instead of 400, once first: 1 had been admitted).
      const inCost = [parent, ...ancestors].some((a) => !!a && !Array.isArray(a) && ((a as ASTNode).kind === Kind.DIRECTIVE || ((a as ASTNode).kind === Kind.ARGUMENT && (a as ArgumentNode).name.value === 'first')));
      if (inCost) names.add(node.name.value);
    },
  });
  return [...names];
}

/**
 * Operations of a document already found within the limits, by operation
 * and the values of the document's {@link costVariables} (Apollo hands the
 * same DocumentNode for the same query text, from its document cache).
 * Issue 10: the depth walk, the variable coercion and
 * graphql-query-complexity's pass ran on every request, for a verdict that
 * only those values can change. Refusals are never remembered, so they are
 * always decided (and answered) in full.
 */
const admittedOperations = new WeakMap<DocumentNode, { variables: string[]; admitted: Set<string> }>();

/** Refuses over-deep or over-costly operations before they execute. */
export function complexityPlugin(schema: () => GraphQLSchema): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation }) {
          if (!operation) return;
          const variables = request.variables ?? {};
          let entry = admittedOperations.get(document);
          if (!entry) admittedOperations.set(document, (entry = { variables: costVariables(document), admitted: new Set() }));
          const values = entry.variables.map((name) => (variables[name] === undefined ? 'u' : JSON.stringify(variables[name])));
          const key = JSON.stringify([operation.name?.value ?? null, ...values]);
          if (entry.admitted.has(key)) return;
          const measured = assertNotTooComplex(schema(), document, operation, variables);
          if (measured && entry.admitted.size < MAX_ADMITTED_COSTS) entry.admitted.add(key);
        },
      };
    },
  };
}

/** Distinct cost-variable values remembered per operation (a page size has at most MAX_FIRST + 1). */
const MAX_ADMITTED_COSTS = 1_000;
