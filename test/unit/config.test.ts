import { ConfigError, loadConfig, parseDatabaseUrl } from '../../src/config';

const KEY = Buffer.alloc(32, 1).toString('base64');

describe('config', () => {
  it('defaults to the embedded SQLite file, port 4000, migrations on', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ type: 'sqlite', path: './data/kexin.sqlite', isDefault: true });
    expect(config.port).toBe(4000);
    expect(config.migrate).toBe(true);
    expect(config.demo).toBeNull();
    expect(config.adminToken).toBeNull();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads sqlite: and mysql:// URLs', () => {
    expect(parseDatabaseUrl('sqlite:./x/y.db')).toEqual({ type: 'sqlite', path: 'x/y.db', isDefault: false });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ type: 'sqlite', path: ':memory:', isDefault: false });
    expect(parseDatabaseUrl('mysql://root@127.0.0.1:3306/kexin')).toEqual({ type: 'mysql', url: 'mysql://root@127.0.0.1:3306/kexin', database: 'kexin' });
  });

  it.each([
    ['postgres://x/y', /must start with mysql:\/\/ or sqlite:/],
    ['mysql://127.0.0.1:3306', /names no database/],
    ['mysql://127.0.0.1:3306/', /names no database/],
    ['mysql://:bad', /not a valid URL|no host/],
    ['sqlite:', /needs a file path/],
  ])('a bad DATABASE_URL %s names the problem', (url, message) => {
    expect(() => loadConfig({ DATABASE_URL: url, KEXIN_DATA_KEY: KEY })).toThrow(message);
    expect(() => loadConfig({ DATABASE_URL: url, KEXIN_DATA_KEY: KEY })).toThrow(ConfigError);
  });

  it('requires KEXIN_DATA_KEY with MySQL and checks its size', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root@h/db' })).toThrow(/KEXIN_DATA_KEY is required/);
    expect(() => loadConfig({ KEXIN_DATA_KEY: Buffer.alloc(16).toString('base64') })).toThrow(/32 bytes/);
    expect(loadConfig({ DATABASE_URL: 'mysql://root@h/db', KEXIN_DATA_KEY: KEY }).dataKey?.length).toBe(32);
  });

  it('validates PORT, booleans and the admin token', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ KEXIN_MIGRATE: 'maybe' })).toThrow(/KEXIN_MIGRATE/);
    expect(loadConfig({ KEXIN_MIGRATE: 'false', KEXIN_DEMO: '1' })).toMatchObject({ migrate: false, demo: true });
    expect(() => loadConfig({ KEXIN_ADMIN_TOKEN: 'short' })).toThrow(/at least 24/);
    expect(loadConfig({ NODE_ENV: 'production' }).production).toBe(true);
  });
});
