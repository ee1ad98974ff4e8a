import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../support/db';

/**
 * `npm start` and every command run the compiled JavaScript in dist/ without
 * compiling again when nothing changed (scripts/build.js --if-stale), and
 * compile when something did. Two halves:
 *
 * - the real package: its scripts, run by npm in a copy of the project whose
 *   node_modules lacks TypeScript (as after `npm ci --omit=dev`), so any
 *   attempt to compile fails loudly; with dist/ current they answer and dist/
 *   is byte-for-byte and time-for-time untouched; with a source newer than
 *   the last build they refuse instead of running stale code;
 * - scripts/build.js itself in a tiny project with a fake `tsc` that records
 *   each call: when it compiles, with what, and what a failed build leaves.
 *
 * Times are set explicitly (utimes), never waited for: no timing assertion.
 */
const ROOT = path.join(__dirname, '..', '..');
const DAY = 86_400_000;

/** Every file below `dir` with its size and modification time: a change of any shows. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (p: string) => {
    const stat = fs.statSync(p);
    if (stat.isDirectory()) for (const name of fs.readdirSync(p)) visit(path.join(p, name));
    else out[path.relative(dir, p)] = `${stat.size}@${stat.mtimeMs}`;
  };
  visit(dir);
  return out;
}

/** Sets the time of `p` and everything below it. */
function setTimes(p: string, when: Date): void {
  const stat = fs.statSync(p);
  if (stat.isDirectory()) for (const name of fs.readdirSync(p)) setTimes(path.join(p, name), when);
  fs.utimesSync(p, when, when);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe(`the package scripts run dist/ without compiling when it is current (${TEST_DB})`, () => {
  const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;

  it('every script that runs dist/ gets there through scripts/build.js --if-stale, never through tsc or npm run build', () => {
    const runsDist = Object.keys(scripts).filter((name) => /\bnode dist\//.test(scripts[name]!));
    expect(runsDist).toEqual(expect.arrayContaining(['start', 'emit-schema', 'verify-log', 'report', 'export', 'bench']));
    for (const name of runsDist) {
      const command = scripts[name]!;
      const before = name === 'start' ? scripts.prestart! : command.slice(0, command.indexOf('node dist/'));
      const needsTests = /dist\/test\//.test(command);
      expect({ name, before }).toEqual({ name, before: expect.stringMatching(needsTests ? /^node scripts\/build\.js --if-stale --with-tests( &&|$)/ : /^node scripts\/build\.js --if-stale( &&|$)/) });
      expect({ name, command: `${scripts[`pre${name}`] ?? ''} ${command}` }).not.toEqual({ name, command: expect.stringMatching(/\btsc\b|npm run build/) });
    }
    // The test runners build test/ as well, the same way.
    for (const name of ['test', 'test:soak']) expect(scripts[name]).toMatch(/^node scripts\/build\.js --if-stale --with-tests && /);
    expect(scripts).toMatchObject({ build: 'node scripts/build.js', 'build:all': 'node scripts/build.js --with-tests', prepare: 'node scripts/build.js --prepare' });
  });

  describe('in a copy of the project without TypeScript', () => {
    let dir: string;
    let copy: string;
    let database: TestDatabase | null = null;
    const running = new Set<ChildProcess>();
    const T0 = new Date(Date.now() - DAY);
    const stamp = () => path.join(copy, 'dist', '.built-src');

    /** Inputs as of T0, the last successful build a minute later: dist/ is current. */
    const settle = () => {
      for (const input of ['src', 'migrations', 'ormconfig.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) setTimes(path.join(copy, input), T0);
      fs.writeFileSync(stamp(), 'copied\n');
      fs.utimesSync(stamp(), new Date(T0.getTime() + 60_000), new Date(T0.getTime() + 60_000));
    };

    const npmRun = (...args: string[]) => {
      const child = spawnSync('npm', ['run', '--silent', ...args], {
        cwd: copy,
        env: { PATH: process.env.PATH ?? '', HOME: dir, NODE_ENV: 'test' },
        encoding: 'utf8',
      });
      return { status: child.status, out: child.stdout, err: child.stderr };
    };

    beforeAll(() => {
      if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'main.js'))) throw new Error('dist/src is missing: run `npm run build` (npm test does it first)');
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-fast-'));
      copy = path.join(dir, 'kexin');
      for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'ormconfig.ts', 'scripts', 'src', 'migrations', 'schema']) {
        fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true, preserveTimestamps: true });
      }
      for (const entry of ['src', 'migrations', 'ormconfig.js']) {
        fs.cpSync(path.join(ROOT, 'dist', entry), path.join(copy, 'dist', entry), { recursive: true, preserveTimestamps: true });
      }
      // node_modules: every installed package but TypeScript (and its bin links).
      const modules = fs.realpathSync(path.join(ROOT, 'node_modules'));
      fs.mkdirSync(path.join(copy, 'node_modules'));
      for (const name of fs.readdirSync(modules)) {
        if (name === 'typescript' || name.startsWith('.')) continue;
        fs.symlinkSync(path.join(modules, name), path.join(copy, 'node_modules', name));
      }
      expect(() => require.resolve('typescript/bin/tsc', { paths: [copy] })).toThrow();
      settle();
    });
    afterAll(async () => {
      for (const child of running) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
      await database?.drop();
    });

    it.each(['verify-log', 'emit-schema', 'report', 'export'])('npm run %s -- --help answers and leaves dist/ untouched', (name) => {
      const before = snapshot(path.join(copy, 'dist'));
      const help = npmRun(name, '--', '--help');
      expect(help).toMatchObject({ status: 0, err: '' });
      expect(help.out).toMatch(new RegExp(`^usage: npm run ${name}`));
      expect(snapshot(path.join(copy, 'dist'))).toEqual(before);
    });

    it('npm start serves /health from dist/ as it is, and stops on SIGTERM', async () => {
      const port = await freePort();
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: dir, PORT: String(port), LOG_LEVEL: 'info' };
      if (TEST_DB === 'mysql') {
        database = await createTestDatabase();
        Object.assign(env, { DATABASE_URL: (database.config as { url: string }).url, KEXIN_DATA_KEY: Buffer.alloc(32, 5).toString('base64') });
      }
      const before = snapshot(path.join(copy, 'dist'));
      // Its own process group, so that npm, its shell and node all go on SIGTERM (and on SIGKILL after a failure).
      const child = spawn('npm', ['start'], { cwd: copy, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      running.add(child);
      let output = '';
      child.stdout!.on('data', (d) => (output += String(d)));
      child.stderr!.on('data', (d) => (output += String(d)));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

      let status = 0;
      const deadline = Date.now() + 45_000;
      while (status !== 200 && child.exitCode === null && Date.now() < deadline) {
        status = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status, () => 0);
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect({ status, output: status === 200 ? '' : output }).toEqual({ status: 200, output: '' });
      if (TEST_DB === 'sqlite') expect(fs.existsSync(path.join(copy, 'data', 'kexin.sqlite'))).toBe(true);
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
      expect(output).not.toMatch(/^build:/m);
      expect(snapshot(path.join(copy, 'dist'))).toEqual(before);
    });

    it('a source newer than the last build: the command refuses (it would have to compile) instead of running stale code', () => {
      const file = path.join(copy, 'src', 'cli', 'verify-log.ts');
      fs.utimesSync(file, new Date(T0.getTime() + 120_000), new Date(T0.getTime() + 120_000));
      try {
        const stale = npmRun('verify-log', '--', '--help');
        expect(stale).toMatchObject({ status: 1, out: '' });
        expect(stale.err).toMatch(/^build: dist\/ must be built \(src\/cli\/verify-log\.ts changed since the last build\) but TypeScript is not installed here/);
      } finally {
        settle();
      }
    });

    it('a removed source folder entry, no build yet, or a missing output: each refuses and names why', () => {
      const extra = path.join(copy, 'src', 'cli', 'extra.ts');
      fs.writeFileSync(extra, 'export {};\n');
      fs.rmSync(extra);
      fs.utimesSync(path.join(copy, 'src', 'cli'), new Date(T0.getTime() + 120_000), new Date(T0.getTime() + 120_000));
      expect(npmRun('report', '--', '--help')).toMatchObject({ status: 1, out: '', err: expect.stringMatching(/^build: dist\/ must be built \(src\/cli changed since the last build\)/) });
      settle();

      fs.rmSync(stamp());
      expect(npmRun('report', '--', '--help')).toMatchObject({ status: 1, out: '', err: expect.stringMatching(/^build: dist\/ must be built \(no successful build yet/) });
      settle();

      const js = path.join(copy, 'dist', 'src', 'cli', 'export.js');
      const kept = fs.readFileSync(js);
      fs.rmSync(js);
      try {
        expect(npmRun('export', '--', '--help')).toMatchObject({ status: 1, out: '', err: expect.stringMatching(/^build: dist\/ must be built \(dist\/src\/cli\/export\.js is missing\)/) });
      } finally {
        fs.writeFileSync(js, kept);
        settle();
      }
      expect(npmRun('export', '--', '--help')).toMatchObject({ status: 0, err: '' });
    });

    it('npm install (prepare) without TypeScript skips the build with a note and succeeds', () => {
      fs.rmSync(stamp());
      try {
        const prepare = npmRun('prepare');
        expect(prepare).toMatchObject({ status: 0, out: '' });
        expect(prepare.err).toMatch(/^build: TypeScript is not installed \(npm ci --omit=dev\?\): dist\/ not built at install\n$/);
      } finally {
        settle();
      }
    });
  });
});

/**
 * scripts/build.js in a project of three source files, with a fake compiler
 * at node_modules/typescript/bin/tsc: it appends its arguments to tsc-calls.log,
 * "emits" dist/<file>.js for each .ts of the project it was given, and exits
 * with the number in ./tsc-exit (0 without it).
 */
describe(`scripts/build.js decides when to compile (${TEST_DB})`, () => {
  let project: string;
  const T0 = new Date(Date.now() - DAY);
  const at = (ms: number) => new Date(T0.getTime() + ms);
  const FAKE_TSC = `
    const fs = require('node:fs'), path = require('node:path');
    const args = process.argv.slice(2);
    fs.appendFileSync('tsc-calls.log', args.join(' ') + '\\n');
    const folders = args.includes('tsconfig.json') ? ['src', 'migrations', 'test'] : ['src', 'migrations'];
    const visit = (p) => {
      if (!fs.existsSync(p)) return;
      if (fs.statSync(p).isDirectory()) return fs.readdirSync(p).forEach((n) => visit(path.join(p, n)));
      if (p.endsWith('.ts')) { fs.mkdirSync(path.join('dist', path.dirname(p)), { recursive: true }); fs.writeFileSync(path.join('dist', p.replace(/\\.ts$/, '.js')), ''); }
    };
    folders.forEach(visit);
    if (fs.existsSync('edit-during-build')) fs.writeFileSync('src/a.ts', 'export const a = 2;\\n');
    process.exit(fs.existsSync('tsc-exit') ? Number(fs.readFileSync('tsc-exit', 'utf8')) : 0);
  `;

  const build = (...args: string[]) => {
    const log = path.join(project, 'tsc-calls.log');
    const before = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
    const child = spawnSync(process.execPath, [path.join(project, 'scripts', 'build.js'), ...args], { cwd: project, encoding: 'utf8' });
    const after = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
    return { status: child.status, err: child.stderr, calls: after.slice(before.length).split('\n').filter(Boolean) };
  };
  /** Every input as of T0 and every stamp a minute later: the state right after a build. */
  const settle = () => {
    for (const input of ['src', 'migrations', 'test', 'tsconfig.json', 'tsconfig.build.json']) fs.existsSync(path.join(project, input)) && setTimes(path.join(project, input), T0);
    for (const stamp of ['.built-src', '.built-all']) {
      const file = path.join(project, 'dist', stamp);
      if (fs.existsSync(file)) fs.utimesSync(file, at(60_000), at(60_000));
    }
  };
  const stamps = () => ['.built-src', '.built-all'].filter((s) => fs.existsSync(path.join(project, 'dist', s)));

  beforeEach(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-build-'));
    fs.mkdirSync(path.join(project, 'scripts'));
    fs.copyFileSync(path.join(ROOT, 'scripts', 'build.js'), path.join(project, 'scripts', 'build.js'));
    fs.mkdirSync(path.join(project, 'node_modules', 'typescript', 'bin'), { recursive: true });
    fs.writeFileSync(path.join(project, 'node_modules', 'typescript', 'package.json'), '{"name":"typescript","version":"0.0.0-fake"}\n');
    fs.writeFileSync(path.join(project, 'node_modules', 'typescript', 'bin', 'tsc'), FAKE_TSC);
    for (const [file, text] of Object.entries({ 'src/a.ts': 'export const a = 1;\n', 'src/cli/b.ts': 'export {};\n', 'test/a.test.ts': 'export {};\n', 'tsconfig.json': '{}\n', 'tsconfig.build.json': '{}\n' })) {
      fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
      fs.writeFileSync(path.join(project, file), text);
    }
  });
  afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

  it('compiles once when there is no build, then not again until an input changes, is added or is removed', () => {
    expect(build('--if-stale')).toEqual({ status: 0, err: expect.stringMatching(/no successful build yet.*compiling \(tsc -b tsconfig\.build\.json\)/), calls: ['-b tsconfig.build.json'] });
    expect(stamps()).toEqual(['.built-src']);
    settle();
    expect(build('--if-stale')).toEqual({ status: 0, err: '', calls: [] });
    expect(build('--prepare')).toEqual({ status: 0, err: '', calls: [] });

    fs.utimesSync(path.join(project, 'src', 'a.ts'), at(120_000), at(120_000));
    expect(build('--if-stale')).toMatchObject({ status: 0, err: expect.stringMatching(/src\/a\.ts changed since the last build/), calls: ['-b tsconfig.build.json'] });
    settle();

    fs.writeFileSync(path.join(project, 'src', 'cli', 'c.ts'), 'export {};\n');
    setTimes(path.join(project, 'src'), T0);
    fs.utimesSync(path.join(project, 'src', 'cli'), at(120_000), at(120_000)); // what adding a file does to its folder
    expect(build('--if-stale')).toMatchObject({ status: 0, err: expect.stringMatching(/src\/cli changed since the last build/), calls: ['-b tsconfig.build.json'] });
    expect(fs.existsSync(path.join(project, 'dist', 'src', 'cli', 'c.js'))).toBe(true);
    settle();

    fs.utimesSync(path.join(project, 'tsconfig.json'), at(120_000), at(120_000));
    expect(build('--if-stale')).toMatchObject({ status: 0, calls: ['-b tsconfig.build.json'] });
    settle();

    // A change only under test/ leaves the server's build current, not the tests'.
    fs.utimesSync(path.join(project, 'test', 'a.test.ts'), at(120_000), at(120_000));
    expect(build('--if-stale')).toEqual({ status: 0, err: '', calls: [] });
  });

  it('--with-tests compiles tsconfig.json and makes both builds current; `build` without --if-stale always compiles', () => {
    expect(build('--if-stale', '--with-tests')).toMatchObject({ status: 0, calls: ['-b tsconfig.json'] });
    expect(fs.existsSync(path.join(project, 'dist', 'test', 'a.test.js'))).toBe(true);
    expect(stamps()).toEqual(['.built-src', '.built-all']);
    settle();
    expect(build('--if-stale')).toEqual({ status: 0, err: '', calls: [] });
    expect(build('--if-stale', '--with-tests')).toEqual({ status: 0, err: '', calls: [] });
    expect(build()).toEqual({ status: 0, err: '', calls: ['-b tsconfig.build.json'] });
    expect(build('--with-tests')).toEqual({ status: 0, err: '', calls: ['-b tsconfig.json'] });
    expect(build('--force')).toEqual({ status: 0, err: '', calls: ['-b tsconfig.build.json --force'] });
  });

  it('a deleted output is compiled again with --force (tsc -b alone does not see it)', () => {
    build();
    settle();
    fs.rmSync(path.join(project, 'dist', 'src', 'cli', 'b.js'));
    expect(build('--if-stale')).toMatchObject({ status: 0, err: expect.stringMatching(/dist\/src\/cli\/b\.js is missing/), calls: ['-b tsconfig.build.json --force'] });
    expect(fs.existsSync(path.join(project, 'dist', 'src', 'cli', 'b.js'))).toBe(true);
  });

  it('a failed compile passes its exit code on and leaves no stamp, so the next command compiles (and reports) again', () => {
    fs.writeFileSync(path.join(project, 'tsc-exit'), '2');
    expect(build('--if-stale')).toMatchObject({ status: 2, calls: ['-b tsconfig.build.json'] });
    expect(stamps()).toEqual([]);
    expect(build('--if-stale')).toMatchObject({ status: 2, calls: ['-b tsconfig.build.json'] });
    fs.rmSync(path.join(project, 'tsc-exit'));
    expect(build('--if-stale')).toMatchObject({ status: 0, calls: ['-b tsconfig.build.json'] });
    settle();
    // A failure after a good build takes the old stamp away too.
    fs.writeFileSync(path.join(project, 'tsc-exit'), '1');
    expect(build()).toMatchObject({ status: 1, calls: ['-b tsconfig.build.json'] });
    expect(build('--if-stale')).toMatchObject({ status: 1, calls: ['-b tsconfig.build.json'] });
  });

  it('a source saved while the compiler runs is newer than the stamp: the next command compiles again', () => {
    fs.writeFileSync(path.join(project, 'edit-during-build'), '');
    expect(build('--if-stale')).toMatchObject({ status: 0, calls: ['-b tsconfig.build.json'] });
    fs.rmSync(path.join(project, 'edit-during-build'));
    expect(build('--if-stale')).toMatchObject({ status: 0, err: expect.stringMatching(/src\/a\.ts changed/), calls: ['-b tsconfig.build.json'] });
  });

  it('at install (--prepare): no src/ yet or no TypeScript skip with a note; otherwise it builds', () => {
    fs.renameSync(path.join(project, 'src'), path.join(project, 'src-later'));
    expect(build('--prepare')).toEqual({ status: 0, err: expect.stringMatching(/^build: no src\/ here yet: not building at install/), calls: [] });
    fs.renameSync(path.join(project, 'src-later'), path.join(project, 'src'));
    fs.renameSync(path.join(project, 'node_modules', 'typescript'), path.join(project, 'typescript-elsewhere'));
    expect(build('--prepare')).toEqual({ status: 0, err: expect.stringMatching(/^build: TypeScript is not installed/), calls: [] });
    expect(build('--if-stale')).toMatchObject({ status: 1, err: expect.stringMatching(/but TypeScript is not installed here/) });
    expect(build()).toMatchObject({ status: 1, err: expect.stringMatching(/^build: dist\/ must be built \(no successful build yet.*\) but TypeScript is not installed here/) });
    fs.renameSync(path.join(project, 'typescript-elsewhere'), path.join(project, 'node_modules', 'typescript'));
    expect(build('--prepare')).toMatchObject({ status: 0, calls: ['-b tsconfig.build.json'] });
    expect(stamps()).toEqual(['.built-src']);
    // Current and TypeScript gone (a production install): the commands run; only an explicit build refuses.
    settle();
    fs.renameSync(path.join(project, 'node_modules', 'typescript'), path.join(project, 'typescript-elsewhere'));
    expect(build('--if-stale')).toEqual({ status: 0, err: '', calls: [] });
    expect(build()).toMatchObject({ status: 1, err: expect.stringMatching(/^build: dist\/ must be built \(a build was asked for\) but TypeScript is not installed/) });
  });

  it('refuses an unknown argument with exit 2', () => {
    expect(build('--watch')).toEqual({ status: 2, err: expect.stringMatching(/^build: unknown argument --watch/), calls: [] });
  });
});
