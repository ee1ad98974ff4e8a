/**
 * The database for measuring `npm run import` on MariaDB (not a test): a
 * fresh, migrated database `kexin_import_bench` with an insurer, a bank with
 * an attested SALES principal and an ACTIVE SUBMIT_SALES agreement. Prints
 * the shell lines to run the import against it; the key goes to KEY_FILE (0600).
 *
 *   KEXIN_TEST_DB=mysql TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/kexin_test node dist/test/bench/import-setup.js KEY_FILE
 */
import fs from 'node:fs';
import { startTestApp } from '../support/app';
import { keptTestDatabase } from '../support/db';
import { salesSetup } from '../support/sales';

async function main(keyFile: string): Promise<void> {
  const database = await keptTestDatabase('kexin_import_bench', async () => false);
  const app = await startTestApp({}, database);
  try {
    const s = await salesSetup(app);
    fs.writeFileSync(keyFile, `${s.bank.keys.SALES}\n`, { mode: 0o600 });
    const url = (database.config as { url: string }).url;
    process.stdout.write(`export NODE_ENV=test DATABASE_URL='${url}' KEXIN_DATA_KEY=${Buffer.alloc(32, 7).toString('base64')}\n`);
    process.stdout.write(`node dist/src/cli/import.js --insurer ${s.insurer.code} --channel ${s.bank.code} --key-file ${keyFile} FILE\n`);
  } finally {
    await app.close();
  }
}

main(process.argv[2] ?? '/tmp/kexin-import-bench.key').catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
