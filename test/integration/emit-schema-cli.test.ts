import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runEmitSchema } from '../../src/cli/emit-schema';
import { NO_RESOLVERS } from '../../src/container';
import { buildBareSchema, printSdl } from '../../src/graphql/schema';
import { expectUsageRefusal } from '../support/cli';

/** `npm run emit-schema [-- FILE]`: no database; --help and bad arguments write no file. */
describe('emit-schema command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-emit-schema-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const status = await runEmitSchema(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { status, out: out.join(''), err: err.join('') };
  };
  const filesIn = () => fs.readdirSync(dir);

  it('writes the schema the code builds to the FILE given', async () => {
    const file = path.join(dir, 'schema.graphql');
    expect(await run(file)).toMatchObject({ status: 0, err: '' });
    expect(fs.readFileSync(file, 'utf8')).toBe(printSdl(await buildBareSchema(NO_RESOLVERS)));
    fs.rmSync(file);
  });

  it('--help prints the usage and writes no file (neither `npm run emit-schema -- --help` nor `emit-schema.js -- --help`)', async () => {
    for (const argv of [['--help'], ['--', '--help'], ['-h'], [path.join(dir, 'x.graphql'), '--help']]) {
      const help = await run(...argv);
      expect(help).toMatchObject({ status: 0, err: '' });
      expect(help.out).toMatch(/^usage: npm run emit-schema/);
    }
    expect(fs.existsSync(path.resolve('--help'))).toBe(false);
    expect(filesIn()).toEqual([]);
  });

  it('a bad flag, a file name that looks like a flag or two files: one line, status 2, no file', async () => {
    expectUsageRefusal(await run('--bogus'), /^emit-schema: unknown argument --bogus \(see: npm run emit-schema -- --help\)$/);
    expectUsageRefusal(await run('--', '--out'), /^emit-schema: not a file name: "--out"/);
    expectUsageRefusal(await run(path.join(dir, 'a.graphql'), path.join(dir, 'b.graphql')), /^emit-schema: unexpected argument .*b\.graphql/);
    expect(fs.existsSync(path.resolve('--bogus'))).toBe(false);
    expect(filesIn()).toEqual([]);
  });
});
