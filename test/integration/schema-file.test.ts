import fs from 'node:fs';
import path from 'node:path';
import { NO_RESOLVERS } from '../../src/container';
import { buildBareSchema, printSdl } from '../../src/graphql/schema';

describe('schema/schema.graphql', () => {
  it('is the schema the code builds (run `npm run emit-schema` and commit when this fails)', async () => {
    const committed = fs.readFileSync(path.join(__dirname, '..', '..', 'schema', 'schema.graphql'), 'utf8');
    expect(committed).toBe(printSdl(await buildBareSchema(NO_RESOLVERS)));
  });

  it('names its scalars DateTime and Date as the contract does', async () => {
    const sdl = printSdl(await buildBareSchema(NO_RESOLVERS));
    expect(sdl).toContain('scalar DateTime');
    expect(sdl).not.toContain('DateTimeISO');
  });
});
