import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';

/** A plausible literal for an input type, enough to pass validation (so the call reaches shield). */
function sampleValue(type: GraphQLInputType): string {
  if (isNonNullType(type)) return sampleValue(type.ofType);
  if (isListType(type)) return `[${sampleValue(type.ofType)}]`;
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type));
    return `{ ${fields.map((f) => `${f.name}: ${sampleValue(f.type)}`).join(', ')} }`;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return '1';
      case 'Float':
        return '1.5';
      case 'Boolean':
        return 'true';
      case 'Date':
        return '"2024-01-31"';
      case 'DateTime':
        return '"2024-01-31T00:00:00.000Z"';
      default:
        return '"X1"';
    }
  }
  throw new Error(`no sample for ${String(type)}`);
}

/** A minimal operation calling one root field with sample arguments (required ones only) and selecting __typename. */
export function minimalOperation(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const args = field.args.filter((a) => isNonNullType(a.type));
  const argText = args.length ? `(${args.map((a) => `${a.name}: ${sampleValue(a.type)}`).join(', ')})` : '';
  const selection = isObjectType(getNamedType(field.type)) ? ' { __typename }' : '';
  return `${kind} { ${field.name}${argText}${selection} }`;
}

export function rootFields(schema: GraphQLSchema): Array<{ kind: 'query' | 'mutation'; type: 'Query' | 'Mutation'; field: GraphQLField<unknown, unknown> }> {
  const out: Array<{ kind: 'query' | 'mutation'; type: 'Query' | 'Mutation'; field: GraphQLField<unknown, unknown> }> = [];
  for (const field of Object.values(schema.getQueryType()?.getFields() ?? {})) out.push({ kind: 'query', type: 'Query', field });
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) out.push({ kind: 'mutation', type: 'Mutation', field });
  return out;
}
