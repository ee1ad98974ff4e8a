import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_ISSUED_KEYS_FILE, loadConfig, SANDBOX_ORIGINS } from '../../src/config';
import { appendIssuedKeys, issuedKeysFileProblem, showOnTerminal } from '../../src/issued-keys';
import { REQUEST_ID_PATTERN, requestIdOf } from '../../src/request-log';

const KEY = Buffer.alloc(32, 1).toString('base64');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Issue 12, items 1, 2 and 6: the settings of request logs, issued keys and CORS, and the request id rule. */
describe('operations settings', () => {
  it('KEXIN_SLOW_REQUEST_MS: default 1000, a whole number of milliseconds, 0 allowed (every request warns)', () => {
    expect(loadConfig({}).slowRequestMs).toBe(1000);
    expect(loadConfig({ KEXIN_SLOW_REQUEST_MS: '0' }).slowRequestMs).toBe(0);
    expect(loadConfig({ KEXIN_SLOW_REQUEST_MS: ' 250 ' }).slowRequestMs).toBe(250);
    for (const bad of ['-1', '1.5', 'fast', '3600001']) {
      expect(() => loadConfig({ KEXIN_SLOW_REQUEST_MS: bad })).toThrow(new ConfigError(`KEXIN_SLOW_REQUEST_MS must be a whole number from 0 to 3600000 (milliseconds), got "${bad}"`));
    }
  });

  it('KEXIN_CORS_ORIGINS: Sandbox by default outside production, none in production, none or an exact list when set', () => {
    expect(loadConfig({}).corsOrigins).toEqual([...SANDBOX_ORIGINS]);
    expect(loadConfig({ NODE_ENV: 'test' }).corsOrigins).toEqual([...SANDBOX_ORIGINS]);
    expect(loadConfig({ NODE_ENV: 'production' }).corsOrigins).toEqual([]);
    expect(loadConfig({ KEXIN_CORS_ORIGINS: 'none' }).corsOrigins).toEqual([]);
    expect(loadConfig({ NODE_ENV: 'production', KEXIN_CORS_ORIGINS: 'https://ide.example.org, http://localhost:3000' }).corsOrigins).toEqual(['https://ide.example.org', 'http://localhost:3000']);
    expect(Object.isFrozen(loadConfig({}).corsOrigins)).toBe(true);
    for (const bad of ['*', 'https://ide.example.org/', 'https://ide.example.org/graphql', 'ide.example.org', 'ftp://ide.example.org', 'https://IDE.example.org', ',', 'https://a.example, nope']) {
      expect(() => loadConfig({ KEXIN_CORS_ORIGINS: bad })).toThrow(/^KEXIN_CORS_ORIGINS must be none or a comma list of origins/);
    }
  });

  it('KEXIN_ISSUED_KEYS_FILE: beside a SQLite file, ./data/kexin-issued-keys.txt for MySQL and in-memory SQLite, or as set', () => {
    expect(loadConfig({}).issuedKeysFile).toBe('./data/kexin.sqlite.issued-keys.txt');
    expect(loadConfig({ DATABASE_URL: 'sqlite:/var/lib/kexin/k.db' }).issuedKeysFile).toBe('/var/lib/kexin/k.db.issued-keys.txt');
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).issuedKeysFile).toBe(DEFAULT_ISSUED_KEYS_FILE);
    expect(loadConfig({ DATABASE_URL: 'mysql://root@h/db', KEXIN_DATA_KEY: KEY }).issuedKeysFile).toBe(DEFAULT_ISSUED_KEYS_FILE);
    expect(loadConfig({ DATABASE_URL: 'mysql://root@h/db', KEXIN_DATA_KEY: KEY, KEXIN_ISSUED_KEYS_FILE: '/run/kexin/keys.txt' }).issuedKeysFile).toBe('/run/kexin/keys.txt');
  });

  it('a well-formed x-request-id (1-128 of A-Za-z0-9._:-) is kept, anything else replaced by a UUID', () => {
    for (const good of ['a', '0f8fad5b-d9cb-469f-a165-70867728950e', 'svc:job.1_2-3', 'x'.repeat(128)]) expect(requestIdOf(good)).toBe(good);
    for (const bad of [undefined, '', 'x'.repeat(129), 'a b', 'a\nb', '"a"', 'a/b', 'ä', ['a', 'b']]) {
      const id = requestIdOf(bad as string | string[] | undefined);
      expect(id).toMatch(UUID);
      expect(id).toMatch(REQUEST_ID_PATTERN);
    }
    expect(requestIdOf(undefined)).not.toBe(requestIdOf(undefined));
  });

  describe('the issued-keys file', () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-issued-'))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('is created with its folders at mode 0600, appended to, and set back to 0600 when it was wider', () => {
      const file = path.join(dir, 'a', 'b', 'keys.txt');
      expect(issuedKeysFileProblem(file)).toBeNull();
      expect(appendIssuedKeys(file, 'first', ['KEXIN_ADMIN_TOKEN=t1'], new Date('2026-12-03T00:00:00Z'))).toBe(file);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      fs.chmodSync(file, 0o644);
      appendIssuedKeys(file, 'second', ['  ORG p ADMIN kx_2'], new Date('2026-12-03T00:00:01Z'));
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(file, 'utf8')).toBe('# 2026-12-03T00:00:00.000Z first\nKEXIN_ADMIN_TOKEN=t1\n\n# 2026-12-03T00:00:01.000Z second\n  ORG p ADMIN kx_2\n\n');
    });

    it('a file that cannot be written is named before anything is issued', () => {
      expect(issuedKeysFileProblem(dir)).toBe(`${dir} is not a file`);
      const plain = path.join(dir, 'plain');
      fs.writeFileSync(plain, '');
      expect(issuedKeysFileProblem(path.join(plain, 'sub', 'keys.txt'))).toBe(`${path.join(plain, 'sub', 'keys.txt')} cannot be created: ${plain} is not a folder`);
      expect(() => appendIssuedKeys(path.join(plain, 'keys.txt'), 'h', ['x'])).toThrow(/ENOTDIR|EEXIST/);
      // (A folder without write permission is refused the same way, EACCES; not shown here: the tests may run as root.)
    });

    it('is shown on the terminal only when stdout is one, and never in production', () => {
      expect([showOnTerminal(false, { isTTY: true }), showOnTerminal(false, {}), showOnTerminal(true, { isTTY: true })]).toEqual([true, false, false]);
    });
  });
});
