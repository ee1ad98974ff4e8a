import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { buildBareSchema, printSdl } from '../graphql/schema';

/** Writes the schema built from the type-graphql classes to schema/schema.graphql (committed; a test checks it is current). */
export const SCHEMA_FILE = path.resolve(__dirname, '..', '..', '..', 'schema', 'schema.graphql');

async function main(): Promise<void> {
  const target = process.argv[2] ?? (fs.existsSync(SCHEMA_FILE) ? SCHEMA_FILE : path.resolve('schema', 'schema.graphql'));
  fs.writeFileSync(target, printSdl(await buildBareSchema()));
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(`emit-schema failed: ${(error as Error).message}\n`);
  process.exit(1);
});
