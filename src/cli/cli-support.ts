import type { DataSource } from 'typeorm';
import { ConfigError, loadConfig, type Config } from '../config';
import { createServices, type Services } from '../container';
import { openDatabase } from '../db/data-source';
import { resolveSecrets, type Secrets } from '../db/secrets';
import { createLogger } from '../logger';

/** Where a command writes: standard output and error, or a test's buffers. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const processIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** The options a command takes: `'value'` for `--name value` or `--name=value`, `'flag'` for a bare switch. */
export type OptionSpec = Readonly<Record<string, 'value' | 'flag'>>;

/** What the command line said, by option name: the value as typed (the last one wins), or true for a flag. */
export type ParsedOptions<S extends OptionSpec> = { -readonly [K in keyof S]?: S[K] extends 'flag' ? true : string };

/**
 * The option loop the commands share. `--help` or `-h` answers 'help'; a flag
 * ignores anything after `=`. Throws a message for the user on an option not in
 * `spec` (`unknown argument ARG`, plus ` for SCOPE` when given) and on a value
 * that is missing or empty (`--name needs a value`), at the first one met.
 */
export function parseOptions<S extends OptionSpec>(argv: readonly string[], spec: S, scope?: string): ParsedOptions<S> | 'help' {
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const [name, inline] = eq >= 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (name === '--help' || name === '-h') return 'help';
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined) throw new Error(`unknown argument ${arg}${scope === undefined ? '' : ` for ${scope}`}`);
    if (kind === 'flag') {
      options[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new Error(`${name} needs a value`);
    options[name] = value;
  }
  return options as ParsedOptions<S>;
}

/** What a command's work gets: its arguments, and the configured database's services. */
export interface CliContext<A> {
  args: A;
  config: Config;
  secrets: Secrets;
  services: Services;
  io: Io;
}

export interface CliCommand<A> {
  /** Begins every message: `name: ...`. */
  name: string;
  /** Printed for --help, and after any usage error. */
  usage: string;
  /** Parses the command line; throws a message for the user on anything unknown or missing. */
  parse: (argv: readonly string[]) => A | 'help';
  /** Runs after the configuration is read and before the database is opened: a message refuses the run (status 2). */
  beforeOpen?: (config: Config) => string | null;
  /** The command proper, against the open database (destroyed afterwards); returns the exit status. */
  work: (context: CliContext<A>) => Promise<number>;
}

/**
 * The frame of a command: parse (status 2 and the usage on an error, 0 for
 * --help), read the configuration from `env` (status 2), open the configured
 * database without changing its schema (a database with pending migrations is
 * refused: status 2), create the services and run the work.
 */
export async function runCli<A>(command: CliCommand<A>, argv: readonly string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  const { name, usage } = command;
  let args: A;
  let config: Config;
  try {
    const parsed = command.parse(argv);
    if (parsed === 'help') {
      io.out(usage + '\n');
      return 0;
    }
    args = parsed;
    config = loadConfig(env);
  } catch (error) {
    io.err(`${name}: ${(error as Error).message}\n${error instanceof ConfigError ? '' : usage + '\n'}`);
    return 2;
  }
  const refusal = command.beforeOpen?.(config) ?? null;
  if (refusal !== null) {
    io.err(`${name}: ${refusal}\n`);
    return 2;
  }
  let db: DataSource;
  try {
    db = await openDatabase(config.database, { migrate: false });
  } catch (error) {
    io.err(`${name}: cannot open the database: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    // Keys only once the database is open: resolveSecrets may write the SQLite key file beside it.
    const secrets = resolveSecrets(config);
    const services = createServices(db, config, createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel), secrets);
    return await command.work({ args, config, secrets, services, io });
  } finally {
    await db.destroy();
  }
}

/** The end of a command's module: runs it on this process's arguments and exits with its status (2 when it fails). */
export function runMain(name: string, run: (argv: readonly string[]) => Promise<number>): void {
  run(process.argv.slice(2)).then(
    (status) => process.exit(status),
    (error: unknown) => {
      process.stderr.write(`${name} failed: ${(error as Error).message}\n`);
      process.exit(2);
    },
  );
}
