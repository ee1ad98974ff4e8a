#!/usr/bin/env node
/*
 * Builds dist/ with the TypeScript compiler, and lets every command skip that
 * when nothing changed.
 *
 *   node scripts/build.js                  `npm run build`: tsc -b tsconfig.build.json (src, migrations,
 *                                          ormconfig.ts → dist; incremental, so little changes cost little)
 *   node scripts/build.js --with-tests     the same with tsconfig.json (also test/ → dist/test): `npm test`, bench
 *   node scripts/build.js --force          compile everything even where tsc -b thinks it is up to date
 *                                          (`npm run build -- --force`; sources copied in with old times)
 *   node scripts/build.js --if-stale       what `npm start` and every CLI run first: nothing at all (no tsc is
 *                                          loaded) when the last successful build is newer than every input
 *   node scripts/build.js --prepare        npm's `prepare` (npm install / npm ci): --if-stale, but skipped with a
 *                                          note where it cannot build (no src/ yet, as in the Dockerfile's
 *                                          dependency layer; no TypeScript, as after npm ci --omit=dev)
 *
 * Fresh means: dist/.built-src (or dist/.built-all for --with-tests), written only after tsc exited 0 and
 * dated when that build started, is at least as new as every file and folder of the inputs (a deleted or
 * added file changes its folder's time), and every .ts input has its .js in dist/. A failed build leaves
 * no stamp, so the next command builds (and reports the errors) again. `tsc -b` alone is not used for the
 * check: it costs about half a second even when up to date, and it does not notice a deleted output
 * (a missing .js makes this script rebuild with --force).
 */
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');

const TARGETS = {
  src: { config: 'tsconfig.build.json', stamp: '.built-src', inputs: ['src', 'migrations', 'ormconfig.ts'] },
  all: { config: 'tsconfig.json', stamp: '.built-all', inputs: ['src', 'migrations', 'ormconfig.ts', 'test'] },
};
/** Files whose change may change the output of either build. */
const SETTINGS = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function parseArgs(argv) {
  const opts = { withTests: false, ifStale: false, prepare: false, force: false };
  for (const arg of argv) {
    if (arg === '--with-tests') opts.withTests = true;
    else if (arg === '--force') opts.force = true;
    else if (arg === '--if-stale') opts.ifStale = true;
    else if (arg === '--prepare') opts.prepare = opts.ifStale = true;
    else throw new Error(`unknown argument ${arg} (use --with-tests, --if-stale, --prepare or --force)`);
  }
  return opts;
}

function statOrNull(file) {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

/** Calls visit(path, stat) for `entry` and, if it is a folder, everything below it. */
function walk(entry, visit) {
  const stat = statOrNull(entry);
  if (!stat) return;
  visit(entry, stat);
  if (!stat.isDirectory()) return;
  for (const name of fs.readdirSync(entry)) walk(path.join(entry, name), visit);
}

/** Why dist/ is not current for `target` (null when it is): 'none', 'changed' or 'missing-output', with a detail. */
function staleness(target) {
  const stamp = statOrNull(path.join(DIST, target.stamp));
  if (!stamp) return { kind: 'none', detail: `no successful build yet, dist/${target.stamp} is absent` };
  let changed = null;
  let missing = null;
  const check = (file, stat) => {
    if (!changed && stat.mtimeMs > stamp.mtimeMs) changed = file;
    if (!missing && stat.isFile() && file.endsWith('.ts') && !file.endsWith('.d.ts')) {
      const out = path.join(DIST, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
      if (!fs.existsSync(out)) missing = out;
    }
  };
  for (const input of target.inputs) walk(path.join(ROOT, input), check);
  for (const file of SETTINGS) {
    const stat = statOrNull(path.join(ROOT, file));
    if (stat) check(path.join(ROOT, file), stat);
  }
  if (changed) return { kind: 'changed', detail: `${path.relative(ROOT, changed)} changed since the last build` };
  if (missing) return { kind: 'missing-output', detail: `${path.relative(ROOT, missing)} is missing` };
  return null;
}

function findTsc() {
  try {
    return require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  } catch {
    return null;
  }
}

function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    console.error(`build: ${e.message}`);
    return 2;
  }
  const target = opts.withTests ? TARGETS.all : TARGETS.src;
  const stale = staleness(target);
  if (opts.ifStale && !opts.force && !stale) return 0;

  if (opts.prepare && !fs.existsSync(path.join(ROOT, 'src'))) {
    console.error('build: no src/ here yet: not building at install (run npm run build once the sources are in place)');
    return 0;
  }
  const tsc = findTsc();
  if (!tsc) {
    if (opts.prepare) {
      console.error('build: TypeScript is not installed (npm ci --omit=dev?): dist/ not built at install');
      return 0;
    }
    const why = stale ? stale.detail : 'a build was asked for';
    console.error(
      `build: dist/ must be built (${why}) but TypeScript is not installed here (an install without dev dependencies?): ` +
        'run npm ci (with dev dependencies) and npm run build, or copy a built dist/ in',
    );
    return 1;
  }

  if (stale && opts.ifStale) console.error(`build: ${stale.detail}: compiling (tsc -b ${target.config})`);
  // The whole-project build emits src/ too (same options), so it makes both current.
  const done = target === TARGETS.all ? [TARGETS.all, TARGETS.src] : [TARGETS.src];
  const startedAt = new Date();
  for (const t of done) fs.rmSync(path.join(DIST, t.stamp), { force: true });
  const args = [tsc, '-b', target.config];
  // tsc -b does not see a deleted output; --force compiles everything again.
  if (opts.force || (stale && stale.kind === 'missing-output')) args.push('--force');
  const child = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (child.error) {
    console.error(`build: could not run tsc: ${child.error.message}`);
    return 1;
  }
  if (child.status !== 0) return child.status ?? 1;
  fs.mkdirSync(DIST, { recursive: true });
  for (const t of done) {
    const file = path.join(DIST, t.stamp);
    fs.writeFileSync(file, `built by scripts/build.js with tsc -b ${target.config}\n`);
    fs.utimesSync(file, startedAt, startedAt);
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

module.exports = { staleness, TARGETS };
