import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { separateOperations, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import type { RequestContext } from './context';
import { AppError, isErrorCode } from './errors';
import { isUnexpected } from './format-error';
import type { Logger } from '../logger';

export const MAX_DEPTH = 12;
export const MAX_COST = 50_000;

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

/** Lists cost their page size times their selection: `first` (default 50) multiplies the children. */
const pagedEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  const first = typeof args.first === 'number' ? Math.max(1, Math.min(args.first, 500)) : undefined;
  return first !== undefined || 'first' in args ? (first ?? 50) * Math.max(1, childComplexity) : undefined;
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

/** Throws QUERY_TOO_COMPLEX when an operation is deeper than {@link MAX_DEPTH} or costlier than {@link MAX_COST}. */
export function assertNotTooComplex(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> = {}): void {
  const fragments = new Map<string, { selectionSet: { selections: readonly unknown[] } }>();
  for (const def of document.definitions) if (def.kind === 'FragmentDefinition') fragments.set(def.name.value, def);
  const depth = depthOf(operation.selectionSet, fragments, new Set());
  if (depth > MAX_DEPTH) throw new AppError('QUERY_TOO_COMPLEX', `Query depth ${depth} is above the limit of ${MAX_DEPTH}`, { limit: MAX_DEPTH });
  const name = operation.name?.value;
  const query = name ? separateOperations(document)[name] ?? document : document;
  const cost = getComplexity({ schema, query, variables, operationName: name, estimators: [pagedEstimator, simpleEstimator({ defaultComplexity: 1 })] });
  if (cost > MAX_COST) throw new AppError('QUERY_TOO_COMPLEX', `Query cost ${cost} is above the limit of ${MAX_COST}`, { limit: MAX_COST });
}

/** Refuses over-deep or over-costly operations before they execute. */
export function complexityPlugin(schema: () => GraphQLSchema): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation }) {
          if (operation) assertNotTooComplex(schema(), document, operation, request.variables ?? {});
        },
      };
    },
  };
}
