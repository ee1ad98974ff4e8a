import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Config } from '../config';

/** The keys the server runs with, from the configuration or (embedded default only) from the key file. */
export interface Secrets {
  /** AES-256 key for ID numbers and phones at rest. */
  dataKey: Buffer;
  /** Ed25519 private key (PKCS#8 PEM) that signs transfer-log checkpoints. */
  signingKey: string;
  /** Where generated keys were kept, or null when all came from the environment. */
  keyFile: string | null;
}

/**
 * KEXIN_DATA_KEY and KEXIN_SIGNING_KEY when set. On SQLite without them the
 * keys are generated once and kept in `<database>.keys.json` (mode 0600)
 * beside the database file, so a copy of the database alone does not carry
 * them; an in-memory database gets throw-away keys. MySQL requires
 * KEXIN_DATA_KEY (checked by the config) and gets a fresh signing key per
 * process only when none is configured.
 */
export function resolveSecrets(config: Config): Secrets {
  const fromEnv = { dataKey: config.dataKey, signingKey: config.signingKey };
  if (fromEnv.dataKey && fromEnv.signingKey) return { dataKey: fromEnv.dataKey, signingKey: fromEnv.signingKey, keyFile: null };
  if (config.database.type === 'sqlite' && config.database.path !== ':memory:') {
    const file = path.resolve(config.database.path + '.keys.json');
    let stored: { dataKey?: string; signingKey?: string } = {};
    if (fs.existsSync(file)) stored = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof stored;
    const next = {
      dataKey: stored.dataKey ?? randomBytes(32).toString('base64'),
      signingKey: stored.signingKey ?? newSigningKey(),
    };
    if (next.dataKey !== stored.dataKey || next.signingKey !== stored.signingKey) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
    }
    return { dataKey: fromEnv.dataKey ?? Buffer.from(next.dataKey, 'base64'), signingKey: fromEnv.signingKey ?? next.signingKey, keyFile: file };
  }
  return { dataKey: fromEnv.dataKey ?? randomBytes(32), signingKey: fromEnv.signingKey ?? newSigningKey(), keyFile: null };
}

function newSigningKey(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
