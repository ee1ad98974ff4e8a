#!/usr/bin/env node
/*
 * `npm test`: the whole jest suite on the embedded SQLite, then again on MySQL
 * when TEST_MYSQL_URL names a server (tests create their own databases there).
 * Extra arguments go to jest: `npm test -- test/unit`, `npm test -- -t agreement`.
 *
 * Without TEST_MYSQL_URL the MySQL run is skipped loudly; in CI (CI=true) that is
 * a failure, because a MySQL test must never skip silently there.
 *
 * Last line of output, always: `tests: N passed, N failed[, N skipped]`.
 */
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const MYSQL_HINT = 'set TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/kexin_test to run it';

const extraArgs = process.argv.slice(2);
const mysqlUrl = (process.env.TEST_MYSQL_URL || '').trim();
const inCI = process.env.CI === 'true';

/** Runs jest once with KEXIN_TEST_DB=<db>; returns its counts, or an error that says why there are none. */
function runSuite(db, env) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kexin-jest-${db}-`));
  const outputFile = path.join(dir, 'results.json');
  console.log(`\n=== ${db}: jest ${extraArgs.join(' ')}`.trimEnd());
  const child = spawnSync(process.execPath, [JEST, '--json', `--outputFile=${outputFile}`, ...extraArgs], {
    cwd: ROOT,
    env: { ...env, KEXIN_TEST_DB: db },
    stdio: 'inherit',
  });
  const result = { db, passed: 0, failed: 0, skipped: 0, ok: false, problem: null };
  try {
    if (child.error) {
      result.problem = `could not start jest: ${child.error.message}`;
      return result;
    }
    let report;
    try {
      report = JSON.parse(fs.readFileSync(outputFile, 'utf8'));
    } catch {
      const how = child.signal ? `killed by ${child.signal}` : `exit code ${child.status}`;
      result.problem = `jest wrote no JSON results (${how})`;
      return result;
    }
    result.passed = report.numPassedTests || 0;
    result.failed = report.numFailedTests || 0;
    result.skipped = report.numPendingTests || 0;
    const brokenFiles = report.numRuntimeErrorTestSuites || 0;
    if (brokenFiles > 0) {
      result.problem = `${brokenFiles} test file(s) failed to run (jest exit code ${child.status})`;
    } else if (result.passed + result.failed === 0) {
      result.problem = 'ran zero tests';
    } else if (child.status !== 0 || report.success === false) {
      result.problem = `jest exit code ${child.status}`;
    } else {
      result.ok = true;
    }
    return result;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function counts({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

function main() {
  if (!fs.existsSync(JEST)) {
    console.error(`jest is not installed (${path.relative(ROOT, JEST)} is missing): run npm ci`);
    console.log('tests: 0 passed, 0 failed');
    return 1;
  }
  if (!mysqlUrl && inCI) {
    console.error(`CI=true but TEST_MYSQL_URL is unset: the MySQL suite may not be skipped in CI (${MYSQL_HINT}).`);
    console.log('tests: 0 passed, 0 failed');
    return 1;
  }

  // The SQLite run must not reach a MySQL server by accident.
  const sqliteEnv = { ...process.env };
  delete sqliteEnv.TEST_MYSQL_URL;
  const results = [runSuite('sqlite', sqliteEnv)];
  if (mysqlUrl) results.push(runSuite('mysql', { ...process.env, TEST_MYSQL_URL: mysqlUrl }));

  console.log('');
  for (const r of results) {
    console.log(`${r.db}: ${counts(r)}${r.problem ? ` (FAILED: ${r.problem})` : ''}`);
  }
  if (!mysqlUrl) console.log(`MySQL suite NOT run: ${MYSQL_HINT}`);
  const total = results.reduce(
    (sum, r) => ({ passed: sum.passed + r.passed, failed: sum.failed + r.failed, skipped: sum.skipped + r.skipped }),
    { passed: 0, failed: 0, skipped: 0 },
  );
  console.log(`tests: ${counts(total)}`);
  return results.every((r) => r.ok) ? 0 : 1;
}

process.exitCode = main();
