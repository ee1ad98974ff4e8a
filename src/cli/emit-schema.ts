import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { NO_RESOLVERS } from '../container';
import { buildBareSchema, printSdl } from '../graphql/schema';
import { parseOptions, processIo, readCommandLine, runMain, UsageError, type Io } from './cli-support';

/** Writes the schema built from the type-graphql classes to schema/schema.graphql (committed; a test checks it is current). */
export const SCHEMA_FILE = path.resolve(__dirname, '..', '..', '..', 'schema', 'schema.graphql');

const USAGE = `usage: npm run emit-schema [-- FILE]

Writes the GraphQL schema the code builds (SDL) to FILE, by default schema/schema.graphql
(committed; a test checks it is current). Exit status: 0 written, 2 usage error.`;

export interface EmitSchemaArgs {
  /** Where to write; null for the default. */
  target: string | null;
}

/** Parses the command line: at most one FILE, which may not look like an option. */
export function parseEmitSchemaArgs(argv: readonly string[]): EmitSchemaArgs {
  const { positionals } = parseOptions(argv, {}, { positionals: 1 });
  const target = positionals[0] ?? null;
  if (target !== null && (target === '' || target.startsWith('-'))) throw new UsageError(`not a file name: "${target}"`);
  return { target };
}

/** emit-schema: writes the schema file, returns the exit status. */
export async function runEmitSchema(argv: readonly string[], io: Io = processIo): Promise<number> {
  const line = readCommandLine({ name: 'emit-schema', usage: USAGE, parse: parseEmitSchemaArgs }, argv, io);
  if ('status' in line) return line.status;
  const target = line.args.target ?? (fs.existsSync(SCHEMA_FILE) ? SCHEMA_FILE : path.resolve('schema', 'schema.graphql'));
  fs.writeFileSync(target, printSdl(await buildBareSchema(NO_RESOLVERS)));
  io.out(`wrote ${path.relative(process.cwd(), target)}\n`);
  return 0;
}

if (require.main === module) runMain('emit-schema', (argv) => runEmitSchema(argv));
