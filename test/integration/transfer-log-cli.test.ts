import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { parseVerifyLogArgs, runVerifyLog } from '../../src/cli/verify-log';
import { inTransaction } from '../../src/db/transaction';
import { entryHash, GENESIS_HASH } from '../../src/domain/hash-chain';
import type { TestApp } from '../support/app';
import { expectNoDatabaseRefusal, expectUsageRefusal, runCaptured, startCliApp, stopCliApp } from '../support/cli';
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
    expect(parseVerifyLogArgs(['--insurer', 'A', '--export', 'f.jsonl', '--save-checkpoint', 'c.json'])).toEqual({ insurer: 'A', exportFile: 'f.jsonl', checkpoint: null, saveCheckpoint: 'c.json' });
    expect(parseVerifyLogArgs(['--insurer=A'])).toEqual({ insurer: 'A', exportFile: null, checkpoint: null, saveCheckpoint: null });
    expect(() => parseVerifyLogArgs([])).toThrow(/--insurer/);
    expect(() => parseVerifyLogArgs(['--insurer'])).toThrow(/needs a value/);
    expect(() => parseVerifyLogArgs(['--insurer', '--export', 'f'])).toThrow(/--insurer needs a value/);
    expect(() => parseVerifyLogArgs(['--insurer', 'A', '--bogus'])).toThrow(/unknown argument --bogus/);
    expect(() => parseVerifyLogArgs(['--insurer', 'A', 'stray'])).toThrow(/unexpected argument stray/);
    expect(() => parseVerifyLogArgs(['--insurer', 'A', '--checkpoint', path.join(dir, 'absent.json')])).toThrow(/cannot read it \(ENOENT\)/);
  });

  it('--help prints the usage and writes nothing', async () => {
    const file = path.join(dir, 'help.jsonl');
    const help = await run('--insurer', insurer.code, '--export', file, '--help');
    expect(help).toMatchObject({ status: 0, err: '' });
    expect(help.out).toMatch(/^usage: npm run verify-log -- --insurer CODE/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a bad flag, a missing argument or a bad checkpoint file: one line, status 2, nothing written', async () => {
    const file = path.join(dir, 'refused.jsonl');
    expectUsageRefusal(await run('--insurer', insurer.code, '--export', file, '--bogus'), /^verify-log: unknown argument --bogus \(see: npm run verify-log -- --help\)$/);
    expectUsageRefusal(await run('--export', file), /^verify-log: --insurer CODE is required/);
    expectUsageRefusal(await run('--insurer'), /^verify-log: --insurer needs a value/);
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"checkpoint": {"seq": 1}}');
    expectUsageRefusal(await run('--insurer', insurer.code, '--export', file, '--checkpoint', path.join(dir, 'bad.json')), /not a checkpoint/);
    fs.writeFileSync(path.join(dir, 'bad.json'), 'seq=1');
    expectUsageRefusal(await run('--insurer', insurer.code, '--checkpoint', path.join(dir, 'bad.json')), /cannot read it \(not JSON\)/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('before the server created its database: says there is none and how to create it, and creates nothing', async () => {
    await expectNoDatabaseRefusal(runVerifyLog, ['--insurer', insurer.code], env, dir);
  });

  it('runs without KEXIN_DATA_KEY, which it never uses (MySQL requires it of the server)', async () => {
    const { KEXIN_DATA_KEY: _unused, ...withoutKey } = env;
    const result = await runCaptured(runVerifyLog, ['--insurer', insurer.code], withoutKey);
    expect(result.err).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ valid: true });
  });

  it('verifies a chain, exports it as recomputable JSON lines and signs a checkpoint the server accepts', async () => {
    const file = path.join(dir, 'chain.jsonl');
    const saved = path.join(dir, 'checkpoint.json');
    const result = await run('--insurer', insurer.code.toLowerCase(), '--export', file, '--save-checkpoint', saved);
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
    expect(JSON.parse(fs.readFileSync(saved, 'utf8'))).toEqual(checkpoint);
    const { signedPayload: _s, ...claim } = checkpoint.checkpoint;
    const check = await app.services.transferLogVerifier.verifyChain(insurer, { checkpoint: { ...claim, signedAt: new Date(claim.signedAt) } });
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
    const saved = path.join(dir, 'never.json');
    const result = await run('--insurer', other.code, '--save-checkpoint', saved);
    expect(result.status).toBe(1);
    expect(JSON.parse(result.out)).toMatchObject({ valid: false, firstInvalidSeq: 2, reason: 'HASH' });
    expect(result.err).toContain('the chain does not verify: HASH at seq 2');
    expect(result.err).toContain('no checkpoint signed');
    expect(fs.existsSync(saved)).toBe(false);
  });

  it('exits 2 on an unknown insurer', async () => {
    const result = await run('--insurer', 'NO_SUCH_CODE');
    expect(result.status).toBe(2);
    expect(result.err).toBe('verify-log: no insurer (or EXCHANGE) with code NO_SUCH_CODE\n');
  });

  it('--checkpoint FILE: entries deleted from the end with the stored checkpoints are seen against the saved checkpoint', async () => {
    const chain = await createOrg(app, 'INSURER');
    for (let i = 0; i < 6; i += 1) {
      await inTransaction(app.db, (em) =>
        app.services.transferLog.append(em, { insurerId: chain.id, operation: 'READ_PII', actorPrincipalId: chain.id, actorOrganizationId: chain.id, policyNos: [`T-${i}`] }),
      );
    }
    const saved = path.join(dir, `receipt-${chain.code}.json`);
    expect((await run('--insurer', chain.code, '--save-checkpoint', saved)).status).toBe(0);
    expect(await run('--insurer', chain.code, '--checkpoint', saved)).toMatchObject({ status: 0, err: '' });
    // The same checkpoint as GraphQL answers it is read as well.
    const asApi = path.join(dir, `api-${chain.code}.json`);
    fs.writeFileSync(asApi, JSON.stringify({ data: { transferLogCheckpoint: JSON.parse(fs.readFileSync(saved, 'utf8')).checkpoint } }));
    expect(await run('--insurer', chain.code, '--checkpoint', asApi)).toMatchObject({ status: 0, err: '' });

    // Entries 5 and 6 go, the head is rewritten to entry 4, the stored checkpoints are deleted: the database alone looks sound.
    const [four] = await app.db.query('SELECT hash FROM transfer_log WHERE insurer_id = ? AND seq = 4', [chain.id]);
    await app.db.query('DELETE FROM transfer_log WHERE insurer_id = ? AND seq > 4', [chain.id]);
    await app.db.query('DELETE FROM transfer_log_policy WHERE insurer_id = ? AND seq > 4', [chain.id]);
    await app.db.query('UPDATE transfer_log_head SET seq = 4, hash = ? WHERE insurer_id = ?', [four.hash, chain.id]);
    await app.db.query('DELETE FROM transfer_log_checkpoint WHERE insurer_id = ?', [chain.id]);
    const alone = await run('--insurer', chain.code);
    expect(alone.status).toBe(0);
    expect(JSON.parse(alone.out)).toMatchObject({ valid: true, checked: 4, checkpointValid: null });

    const against = await run('--insurer', chain.code, '--checkpoint', saved);
    expect(against.status).toBe(1);
    expect(JSON.parse(against.out)).toMatchObject({ valid: false, checkpointValid: false, checkpointSeq: 6, reason: 'CHECKPOINT_NOT_EXTENDED', firstInvalidSeq: 5 });
    expect(against.err).toMatch(/^verify-log: the chain does not verify: CHECKPOINT_NOT_EXTENDED at seq 5: the chain no longer holds the checkpoint's entry 6/);
  });
});
