import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { GraphQLError, Kind, Lexer, parse, Source, TokenKind, validate, type DocumentNode, type GraphQLSchema, type SelectionSetNode, type ValidationRule } from 'graphql';
import { BadRequestInputError, QueryTooComplexError } from './errors';

/*
 * Limits on the GraphQL document of one request (README "Request limits").
 * The largest queries of the contract (a policy with every field of it and of
 * its people, a transfer-log page with every field) are under 1 KB, ~100
 * tokens, ~70 fields and depth 5; every limit leaves them far inside, and
 * large inputs (a sales batch) travel as variables, which no limit here counts.
 */

/** Bytes of the `query` string. */
export const MAX_QUERY_BYTES = 32 * 1024;
/** Lexical tokens of the document (graphql-js `maxTokens`; comments do not count). */
export const MAX_TOKENS = 1_000;
/** Nesting of field selections, fragments flattened (`{ a { b } }` is 2). */
export const MAX_DEPTH = 12;
/** Aliased fields of one operation, through its fragments (`__typename` aliases too). */
export const MAX_ALIASES = 50;
/** Field selections written in the document (each once: fragments are not expanded). */
export const MAX_FIELDS = 500;
/**
 * Field selections that repeat a response name already selected in the same
 * selection set (inline fragments merged into it), in the whole document.
 * graphql-js compares every pair of same-named fields and recurses into
 * their children, so repeats nested in repeats multiply: ten `me`, each with
 * ten `organization`, each with ten `code` (1,300 tokens) took 450 ms.
 */
export const MAX_REPEATED_FIELDS = 20;
/** Named fragments of the document: graphql-js compares them pairwise. */
export const MAX_FRAGMENTS = 20;
/** Directives of one operation, through its fragments. */
export const MAX_DIRECTIVES = 50;
/** Estimated cost: fields, lists multiplied by their page size (plugins.ts). */
export const MAX_COST = 50_000;

/**
 * Parses `query` when it is within every document limit, with checks linear
 * in its size, so that Apollo's own validation (whose overlapping-fields rule
 * is quadratic in repeated fields) only ever sees documents that cost a few
 * ms. Throws QUERY_TOO_COMPLEX for a limit, BAD_USER_INPUT for a syntax
 * error; both answer HTTP 400.
 */
export function parseWithinLimits(schema: GraphQLSchema, query: string): DocumentNode {
  const known = admitted.get(schema)?.get(query);
  if (known) return known;
  const document = checkWithinLimits(schema, query);
  rememberAdmitted(schema, query, document);
  return document;
}

/** Documents of each schema found within every limit, by query text: the checks are pure, and clients send the same few documents. */
const admitted = new WeakMap<GraphQLSchema, Map<string, DocumentNode>>();
/** Distinct documents remembered per schema (oldest forgotten first), so varied queries cannot grow the map without bound. */
export const ADMITTED_DOCUMENTS = 1_000;

/**
 * Remembers a document that passed (a refusal is never remembered, so a
 * hostile document costs its checks every time, as it did before; issue 10:
 * the checks ran on every request, ~1.5% of a point read's CPU).
 */
function rememberAdmitted(schema: GraphQLSchema, query: string, document: DocumentNode): void {
  let documents = admitted.get(schema);
  if (!documents) admitted.set(schema, (documents = new Map()));
  if (documents.size >= ADMITTED_DOCUMENTS) documents.delete(documents.keys().next().value!);
  documents.set(query, document);
}

function checkWithinLimits(schema: GraphQLSchema, query: string): DocumentNode {
  const bytes = Buffer.byteLength(query, 'utf8');
  if (bytes > MAX_QUERY_BYTES) {
    throw new QueryTooComplexError(`The query is ${bytes} bytes, above the limit of ${MAX_QUERY_BYTES}: pass large inputs as variables`, MAX_QUERY_BYTES);
  }
  const document = parseDocument(query);
  const [refusal] = armorRefusals(schema, document);
  if (refusal) throw refusal;
  const fragments = document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION).length;
  if (fragments > MAX_FRAGMENTS) throw new QueryTooComplexError(`The query defines ${fragments} fragments, above the limit of ${MAX_FRAGMENTS}`, MAX_FRAGMENTS);
  const { fields, repeated } = countFields(document);
  if (fields > MAX_FIELDS) throw new QueryTooComplexError(`The query selects ${fields} fields, above the limit of ${MAX_FIELDS}`, MAX_FIELDS);
  if (repeated > MAX_REPEATED_FIELDS) {
    throw new QueryTooComplexError(`The query repeats ${repeated} field selections within their selection sets, above the limit of ${MAX_REPEATED_FIELDS}`, MAX_REPEATED_FIELDS);
  }
  return document;
}

/** Counts tokens before building any tree, so that an oversized document costs one lexer pass. */
function parseDocument(query: string): DocumentNode {
  try {
    const lexer = new Lexer(new Source(query));
    let tokens = 0;
    while (lexer.advance().kind !== TokenKind.EOF) {
      tokens += 1;
      if (tokens > MAX_TOKENS) throw new QueryTooComplexError(`The query has more than ${MAX_TOKENS} tokens`, MAX_TOKENS);
    }
    return parse(query);
  } catch (error) {
    if (error instanceof QueryTooComplexError || !(error instanceof GraphQLError)) throw error;
    const at = error.locations?.[0];
    throw new BadRequestInputError(at ? `${error.message} (line ${at.line}, column ${at.column})` : error.message);
  }
}

/** graphql-armor's depth, alias and directive limits, run alone: each walks the document once. */
function armorRefusals(schema: GraphQLSchema, document: DocumentNode): QueryTooComplexError[] {
  const refusals: QueryTooComplexError[] = [];
  const refuse = (limit: number) => (_context: unknown, error: GraphQLError) => refusals.push(new QueryTooComplexError(error.message.replace(/^Syntax Error: /, ''), limit));
  const options = (n: number) => ({ n, exposeLimits: true, propagateOnRejection: false, onReject: [refuse(n)] });
  const rules = [
    maxDepthRule({ ...options(MAX_DEPTH), flattenFragments: true }),
    maxAliasesRule(options(MAX_ALIASES)),
    maxDirectivesRule(options(MAX_DIRECTIVES)),
  ] as unknown as ValidationRule[];
  validate(schema, document, rules);
  return refusals;
}

/**
 * Field nodes of the document, and how many of them repeat a response name
 * already selected in their selection set. Inline fragments count in the
 * selection set that holds them, as graphql-js merges them there; named
 * fragments count once, where they are defined.
 */
function countFields(document: DocumentNode): { fields: number; repeated: number } {
  let fields = 0;
  let repeated = 0;
  const scope = (selectionSet: SelectionSetNode): void => {
    const names = new Set<string>();
    const collect = (set: SelectionSetNode): void => {
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          fields += 1;
          const name = (selection.alias ?? selection.name).value;
          if (names.has(name)) repeated += 1;
          else names.add(name);
          if (selection.selectionSet) scope(selection.selectionSet);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          collect(selection.selectionSet);
        }
      }
    };
    collect(selectionSet);
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) scope(definition.selectionSet);
  }
  return { fields, repeated };
}
