import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Every command as `npm run NAME -- …` runs it (`node dist/src/cli/NAME.js`,
 * built by `npm test` first), in a fresh working directory where the server
 * never ran: --help, bad arguments and the missing embedded database leave
 * that directory empty (no file named `--help`, no `./data/`).
 */
const CLI = path.join(__dirname, '..', '..', 'dist', 'src', 'cli');

describe('the command-line entry points', () => {
  let cwd: string;
  beforeAll(() => {
    if (!fs.existsSync(path.join(CLI, 'emit-schema.js'))) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
  });
  beforeEach(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-cli-'));
  });
  afterEach(() => fs.rmSync(cwd, { recursive: true, force: true }));

  const run = (name: string, ...argv: string[]) => {
    const child = spawnSync(process.execPath, [path.join(CLI, `${name}.js`), ...argv], { cwd, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
    return { status: child.status, out: child.stdout, err: child.stderr, left: fs.readdirSync(cwd) };
  };

  it.each(['emit-schema', 'verify-log', 'report', 'export', 'import'])('%s --help prints the usage, exits 0 and writes nothing', (name) => {
    // `node emit-schema.js -- --help` once wrote a file named `--`, `npm run emit-schema -- --help` one named `--help`.
    for (const argv of name === 'emit-schema' ? [['--help'], ['--', '--help']] : [['--help']]) {
      const help = run(name, ...argv);
      expect(help).toMatchObject({ status: 0, err: '', left: [] });
      expect(help.out).toMatch(new RegExp(`^usage: npm run ${name}`));
    }
  });

  it.each(['emit-schema', 'verify-log', 'report', 'export', 'import'])('%s --bogus: one line on standard error, exit 2, nothing written', (name) => {
    const bad = run(name, ...(name === 'export' ? ['holds'] : []), '--bogus');
    expect(bad).toMatchObject({ status: 2, out: '', left: [] });
    expect(bad.err).toMatch(new RegExp(`^${name}: unknown argument --bogus.* \\(see: npm run ${name} -- --help\\)\\n$`));
  });

  it('export with no arguments exits 2', () => {
    expect(run('export')).toMatchObject({ status: 2, out: '', err: expect.stringMatching(/^export: say what to export/), left: [] });
  });

  it.each([
    ['verify-log', '--insurer', 'DEMO_LIFE'],
    ['report', '--campaign', 'x', '--format', 'csv'],
    ['export', 'holds', '--insurer', 'DEMO_LIFE'],
    ['import', '--insurer', 'DEMO_LIFE', '--own-book', 'book.csv'],
  ])('%s before the server ever ran: says there is no database at ./data/kexin.sqlite and how to create it; no ./data/ appears', (name, ...argv) => {
    const none = run(name, ...argv);
    expect(none).toMatchObject({ status: 2, out: '', left: [] });
    expect(none.err).toMatch(new RegExp(`^${name}: there is no database at \\./data/kexin\\.sqlite: start the server once \\(npm start\\) to create it.*\\n$`));
  });
});
