import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { parseArgs, runVerifyLog } from '../../src/cli/verify-log';
import { inTransaction } from '../../src/db/transaction';
import { entryHash, GENESIS_HASH } from '../../src/domain/hash-chain';
import type { TestApp } from '../support/app';
import { runCaptured, startCliApp, stopCliApp } from '../support/cli';
import { TEST_DB } from '../support/db';
import { createOrg } from '../support/factories';

const SIGNING_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe(`verify-log command line (${TEST_DB})`, () => {
  let app: TestApp;
  let dir: string;
  let env: Record<string, string>;
  let insurer: { id: string; code: string };

  beforeAll(async () => {
    ({ app, dir, env } = await startCliApp('kexin-verify-log-', { KEXIN_SIGNING_KEY: SIGNING_KEY }));
    insurer = await createOrg(app, 'INSURER');
    for (let i = 0; i < 12; i += 1) {
      await inTransaction(app.db, (em) =>
        app.services.transferLog.append(em, {
          insurerId: insurer.id,
          operation: 'submitSales',
          actorPrincipalId: insurer.id,
          actorOrganizationId: insurer.id,
          policyNos: [`CLI-${i}`],
          fields: ['policyholder.phone'],
          change: { i },
        }),
      );
    }
  });
  afterAll(() => stopCliApp(app, dir));

  const run = (...argv: string[]) => runCaptured(runVerifyLog, argv, env);

  it('parses its arguments', () => {
    expect(parseArgs(['--insurer', 'A', '--export', 'f.jsonl', '--checkpoint'])).toEqual({ insurer: 'A', exportFile: 'f.jsonl', checkpoint: true });
    expect(parseArgs(['--insurer=A'])).toEqual({ insurer: 'A', exportFile: null, checkpoint: false });
    expect(parseArgs(['--help'])).toBe('help');
    expect(() => parseArgs([])).toThrow(/--insurer/);
    expect(() => parseArgs(['--insurer'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--insurer', 'A', '--bogus'])).toThrow(/unknown argument/);
  });

  it('verifies a chain, exports it as recomputable JSON lines and signs a checkpoint the server accepts', async () => {
    const file = path.join(dir, 'chain.jsonl');
    const result = await run('--insurer', insurer.code.toLowerCase(), '--export', file, '--checkpoint');
    expect(result.status).toBe(0);
    const [verification, checkpoint] = result.out.trim().split(/\n(?=\{)/).map((t) => JSON.parse(t));
    expect(verification).toMatchObject({ insurer: insurer.code, valid: true, checked: 12, headSeq: 12 });

    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    let prev = GENESIS_HASH;
    for (const { prevHash, hash, ...content } of lines) {
      expect(prevHash).toBe(prev);
      expect(entryHash(prevHash, content)).toBe(hash);
      prev = hash;
    }
    expect(prev).toBe(verification.headHash);

    expect(checkpoint.checkpoint).toMatchObject({ insurerCode: insurer.code, seq: 12, headHash: prev });
    const { signedPayload: _s, ...claim } = checkpoint.checkpoint;
    const check = await app.services.transferLog.verifyChain(insurer, { checkpoint: { ...claim, signedAt: new Date(claim.signedAt) } });
    expect(check).toMatchObject({ valid: true, checkpointValid: true });
  });

  it('exits 1 and names the seq when an entry was edited; refuses to sign then', async () => {
    const other = await createOrg(app, 'INSURER');
    for (let i = 0; i < 3; i += 1) {
      await inTransaction(app.db, (em) =>
        app.services.transferLog.append(em, { insurerId: other.id, operation: 'READ_PII', actorPrincipalId: other.id, actorOrganizationId: other.id }),
      );
    }
    await app.db.query('UPDATE transfer_log SET operation = ? WHERE insurer_id = ? AND seq = 2', ['submitSales', other.id]);
    const result = await run('--insurer', other.code, '--checkpoint');
    expect(result.status).toBe(1);
    expect(JSON.parse(result.out)).toMatchObject({ valid: false, firstInvalidSeq: 2, reason: 'HASH' });
    expect(result.err).toContain('no checkpoint signed');
  });

  it('exits 2 on an unknown insurer or bad arguments', async () => {
    expect((await run('--insurer', 'NO_SUCH_CODE')).status).toBe(2);
    expect((await run()).status).toBe(2);
    expect((await run('--help')).status).toBe(0);
    const missing = await runVerifyLog(['--insurer', 'X'], { ...env, DATABASE_URL: `sqlite:${path.join(dir, 'absent.sqlite')}` }, { out: () => undefined, err: () => undefined });
    expect(missing).toBe(2);
    expect(fs.existsSync(path.join(dir, 'absent.sqlite'))).toBe(false);
  });
});
