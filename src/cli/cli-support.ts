import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { MigrationExecutor, type DataSource } from 'typeorm';
import { loadConfig, type Config, type DatabaseConfig } from '../config';
import { createServices, type Services } from '../container';
import { createDataSource } from '../db/data-source';
import { resolveSecrets, type Secrets } from '../db/secrets';
import { createLogger } from '../logger';

/** Where a command writes: standard output and error, or a test's buffers. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const processIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** The options a command takes: `'value'` for `--name value` or `--name=value`, `'flag'` for a bare switch. */
export type OptionSpec = Readonly<Record<`--${string}`, 'value' | 'flag'>>;

/** What the command line said, by option name: the value as typed (the last one wins), or true for a flag. */
export type ParsedOptions<S extends OptionSpec> = { -readonly [K in keyof S]?: S[K] extends 'flag' ? true : string };

/** A mistake on the command line: printed as one line with a hint to --help, status 2. */
export class UsageError extends Error {}

/** Whether the command line asks for help: `--help` or `-h` anywhere (even after `--`), whatever else it says. */
export function asksForHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/**
 * node:util parseArgs in strict mode over `spec`, with messages for the user.
 * Throws a {@link UsageError} on an option not in `spec` (`unknown argument
 * ARG`, plus ` for SCOPE` when given), on a value that is missing or empty
 * (`--name needs a value`), on a value given to a flag, and on more than
 * `positionals` bare arguments. Check {@link asksForHelp} first.
 */
export function parseOptions<S extends OptionSpec>(
  argv: readonly string[],
  spec: S,
  options: { scope?: string; positionals?: number } = {},
): { values: ParsedOptions<S>; positionals: string[] } {
  const scope = options.scope === undefined ? '' : ` for ${options.scope}`;
  const config = Object.fromEntries(Object.entries(spec).map(([name, kind]) => [name.slice(2), { type: kind === 'flag' ? ('boolean' as const) : ('string' as const) }]));
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: (options.positionals ?? 0) > 0 });
  } catch (error) {
    throw new UsageError(parseArgsMessage(error as Error & { code?: string }, scope));
  }
  const values: Record<string, string | true> = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === '') throw new UsageError(`--${name} needs a value`);
    if (value !== undefined && value !== false) values[`--${name}`] = value;
  }
  if (parsed.positionals.length > (options.positionals ?? 0)) throw new UsageError(`unexpected argument ${parsed.positionals[options.positionals ?? 0]}${scope}`);
  return { values: values as ParsedOptions<S>, positionals: parsed.positionals };
}

/** parseArgs' own messages span lines and suggest `--`; one short line instead, naming the argument. */
function parseArgsMessage(error: Error & { code?: string }, scope: string): string {
  const arg = (/'([^']*)'/.exec(error.message)?.[1] ?? '').replace(/ <value>$/, '');
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown argument ${arg}${scope}`;
  if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument ${arg}${scope}`;
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return /does not take/.test(error.message) ? `${arg} takes no value` : `${arg} needs a value`;
  return error.message.split('\n')[0]!;
}

/** The first lines of a command: its name, usage text, and a parser that throws a message for the user. */
export interface CommandLine<A> {
  /** Begins every message: `name: ...`; also the npm script named in the hint. */
  name: string;
  /** Printed for --help. */
  usage: string;
  /** Parses the command line (not called for --help); throws a message for the user on anything unknown, missing or bad. */
  parse: (argv: readonly string[]) => A;
}

/**
 * --help prints the usage (status 0); an argument the parser refuses prints
 * one line and a hint to --help (status 2). Either way the status is returned
 * and nothing else has been done; otherwise the parsed arguments.
 */
export function readCommandLine<A>(command: CommandLine<A>, argv: readonly string[], io: Io): { args: A } | { status: number } {
  if (asksForHelp(argv)) {
    io.out(command.usage + '\n');
    return { status: 0 };
  }
  try {
    return { args: command.parse(argv) };
  } catch (error) {
    io.err(`${command.name}: ${(error as Error).message} (see: npm run ${command.name} -- --help)\n`);
    return { status: 2 };
  }
}

/** What a command's work gets: its arguments, and the configured database's services. */
export interface CliContext<A> {
  args: A;
  config: Config;
  secrets: Secrets;
  services: Services;
  io: Io;
}

export interface CliCommand<A> extends CommandLine<A> {
  /** False for a command that never touches a person's data: MySQL then runs without KEXIN_DATA_KEY. */
  needsDataKey?: boolean;
  /** The command proper, against the open database (destroyed afterwards); returns the exit status. */
  work: (context: CliContext<A>) => Promise<number>;
}

/**
 * The frame of a command on the database: the command line
 * ({@link readCommandLine}), the configuration from `env` (status 2), then the
 * configured database as the server left it (status 2 when there is none yet
 * or it has pending migrations: the command changes no schema and creates no
 * file), the services, and the work.
 */
export async function runCli<A>(command: CliCommand<A>, argv: readonly string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  const line = readCommandLine(command, argv, io);
  if ('status' in line) return line.status;
  const fail = (message: string) => {
    io.err(`${command.name}: ${message}\n`);
    return 2;
  };
  let config: Config;
  try {
    config = loadConfig(env, { requireDataKey: command.needsDataKey !== false });
  } catch (error) {
    return fail((error as Error).message);
  }
  const opened = await openExistingDatabase(config.database);
  if (typeof opened === 'string') return fail(opened);
  const db = opened;
  try {
    // Keys only once the database is open: resolveSecrets may write the SQLite key file beside it.
    const secrets = resolveSecrets(config);
    const services = createServices(db, config, createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel), secrets);
    return await command.work({ args: line.args, config, secrets, services, io });
  } finally {
    await db.destroy();
  }
}

const CREATE_HINT = 'start the server once (npm start) to create it, or set DATABASE_URL to the one the server uses';
const MYSQL_CREATE_HINT = 'create it (CHARACTER SET utf8mb4) and start the server once (npm start) to set it up, or set DATABASE_URL';

/**
 * The database the server created, opened without changing anything: no
 * SQLite file (nor its folder) is created, no migrations table written.
 * Answers a message for the user when there is no such database, it holds
 * no Kexin schema yet, or it has migrations pending.
 */
async function openExistingDatabase(database: DatabaseConfig): Promise<DataSource | string> {
  const where = database.type === 'sqlite' ? `at ${database.path}` : `\`${database.database}\` on the MySQL server`;
  if (database.type === 'sqlite' && database.path !== ':memory:' && !fs.existsSync(database.path)) {
    return `there is no database ${where}: ${CREATE_HINT}`;
  }
  let db: DataSource;
  try {
    db = await createDataSource(database);
    await db.initialize();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ER_BAD_DB_ERROR') return `there is no database ${where}: ${MYSQL_CREATE_HINT}`;
    return `cannot open the database ${where}: ${(error as Error).message}`;
  }
  const problem = await schemaProblem(db, where).catch((error: Error) => `cannot read the database ${where}: ${error.message}`);
  if (problem === null) return db;
  await db.destroy();
  return problem;
}

/** Why the command cannot run on this open database (no Kexin schema, pending migrations), or null. Reads only. */
async function schemaProblem(db: DataSource, where: string): Promise<string | null> {
  // Not db.showMigrations(): that creates the migrations table when it is missing.
  const executor = new MigrationExecutor(db);
  if ((await executor.getExecutedMigrations()).length === 0) return `the database ${where} holds no Kexin schema yet: ${CREATE_HINT}`;
  const pending = (await executor.getPendingMigrations()).length;
  return pending > 0 ? `the database ${where} has ${pending} pending migration(s): start the server (npm start) to apply them` : null;
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
