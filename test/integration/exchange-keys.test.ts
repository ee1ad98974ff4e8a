import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { checkDataKey, DataKeyMismatchError } from '../../src/db/key-registry';
import { resolveSecrets } from '../../src/db/secrets';
import { createLogger } from '../../src/logger';
import { PiiCipher } from '../../src/modules/person/pii';
import { CheckpointSigner } from '../../src/modules/transfer-log/transfer-log.checkpoint';
import { createServer, type KexinServer } from '../../src/server';
import { ADMIN_TOKEN, startTestApp, type GqlResult, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { salesRecord, SUBMIT_SALES } from '../support/sales';

/**
 * Keys across restarts (issue 8, item 10): a checkpoint signed before a
 * restart with another signing key still verifies, and a data key that cannot
 * open the stored personal data is refused before the server starts.
 */
const VERIFY = `query($code: String!) { verifyTransferLog(insurerCode: $code) { valid reason checkpointValid checkpointSeq } }`;
const CREATE_CHECKPOINT = `mutation($code: String!) { createTransferLogCheckpoint(insurerCode: $code) { seq insurerCode headHash signedAt publicKey signature } }`;
const VERIFY_CLAIM = `query($code: String!, $checkpoint: CheckpointInput) { verifyTransferLog(insurerCode: $code, checkpoint: $checkpoint) { valid reason checkpointValid } }`;

function signingKey(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

describe(`keys across restarts (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  const restarted: KexinServer[] = [];

  /** Another server on the same database, as after a restart with other settings. */
  async function restart(env: Record<string, string>): Promise<KexinServer> {
    const config = loadConfig({ ...envOf(app), ...env });
    const server = await createServer({ config, db: app.db, log: createLogger('silent'), secrets: resolveSecrets(config) });
    restarted.push(server);
    return server;
  }

  async function gql(server: KexinServer, token: string, query: string, variables: Record<string, unknown>): Promise<GqlResult> {
    const response = await server.apollo.executeOperation({ query, variables }, { contextValue: await server.contextFor(token) });
    if (response.body.kind !== 'single') throw new Error('unexpected incremental response');
    return response.body.singleResult as GqlResult;
  }

  beforeAll(async () => {
    app = await startTestApp({ KEXIN_SIGNING_KEY: signingKey() });
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'COMPLIANCE']);
    const bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES'], { attested: true });
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
    await app.ok(bank.keys.SALES, SUBMIT_SALES, { insurerCode: insurer.code, key: 'keys-1', records: [salesRecord('KEYS-1')] });
  });
  afterAll(async () => {
    for (const server of restarted) await server.stop();
    await app.close();
  });

  it('a checkpoint signed before a restart with another signing key still verifies, stored or handed back', async () => {
    const created = (await app.ok<{ createTransferLogCheckpoint: Record<string, unknown> & { seq: number } }>(insurer.keys.COMPLIANCE, CREATE_CHECKPOINT, { code: insurer.code }))
      .createTransferLogCheckpoint;
    const server = await restart({ KEXIN_SIGNING_KEY: signingKey() });
    const stored = await gql(server, insurer.keys.COMPLIANCE, VERIFY, { code: insurer.code });
    expect(stored).toEqual({ data: { verifyTransferLog: { valid: true, reason: null, checkpointValid: true, checkpointSeq: created.seq } } });
    const handedBack = await gql(server, insurer.keys.COMPLIANCE, VERIFY_CLAIM, { code: insurer.code, checkpoint: created });
    expect(handedBack).toEqual({ data: { verifyTransferLog: { valid: true, reason: null, checkpointValid: true } } });
  });

  it('a key the exchange never signed with is still refused (CHECKPOINT_KEY)', async () => {
    const server = await restart({ KEXIN_SIGNING_KEY: signingKey() });
    const outsider = new CheckpointSigner(signingKey());
    const claim = outsider.sign(insurer.id, { insurerCode: insurer.code, seq: 0, headHash: '0'.repeat(64), signedAt: new Date() });
    const result = await gql(server, insurer.keys.COMPLIANCE, VERIFY_CLAIM, { code: insurer.code, checkpoint: claim });
    expect(result).toEqual({ data: { verifyTransferLog: { valid: false, reason: 'CHECKPOINT_KEY', checkpointValid: false } } });
  });

  it('refuses a data key that cannot open the stored ID numbers and phones, and accepts the right one', async () => {
    const right = new PiiCipher(app.config.dataKey!);
    const wrong = new PiiCipher(Buffer.alloc(32, 9));
    await expect(checkDataKey(app.db, right)).resolves.toBeUndefined();
    await expect(checkDataKey(app.db, wrong)).rejects.toThrow(DataKeyMismatchError);
    await expect(checkDataKey(app.db, wrong)).rejects.toThrow(/KEXIN_DATA_KEY is not the key this database's ID numbers and phones were encrypted with/);
  });

  it('checks a database that holds personal data but no recorded key id by opening one stored value', async () => {
    await app.db.query('DELETE FROM exchange_key');
    await expect(checkDataKey(app.db, new PiiCipher(Buffer.alloc(32, 9)))).rejects.toThrow(DataKeyMismatchError);
    await expect(checkDataKey(app.db, new PiiCipher(app.config.dataKey!))).resolves.toBeUndefined();
    expect(await app.db.query("SELECT key_id FROM exchange_key WHERE purpose = 'PII'")).toEqual([{ key_id: new PiiCipher(app.config.dataKey!).keyId }]);
  });
});

/** The environment startTestApp built `app` from (same database and data key). */
function envOf(app: TestApp): Record<string, string> {
  return {
    NODE_ENV: 'test',
    KEXIN_ADMIN_TOKEN: ADMIN_TOKEN,
    KEXIN_DATA_KEY: app.config.dataKey!.toString('base64'),
    DATABASE_URL: app.config.database.type === 'mysql' ? app.config.database.url : 'sqlite::memory:',
  };
}
