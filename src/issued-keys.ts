import fs from 'node:fs';
import path from 'node:path';

/**
 * Secrets Kexin issues itself (a generated bootstrap admin token, the demo
 * principals' keys) never go to the log stream (issue 12, item 2): they are
 * appended to one file, mode 0600 (config.issuedKeysFile: beside a SQLite
 * file, ./data/kexin-issued-keys.txt otherwise), and shown on the terminal
 * only when stdout is one (and not in production). The log says where the
 * file is, never what is in it. Only hashes are stored in the database, so
 * this file is the only copy: keep it private, or move it away.
 */

/**
 * Refuses (with the reason) a file that could not be written, before anything
 * is issued: a token issued and then not written would be lost.
 */
export function issuedKeysFileProblem(file: string): string | null {
  const absolute = path.resolve(file);
  let dir = path.dirname(absolute);
  try {
    if (fs.existsSync(absolute)) {
      if (!fs.statSync(absolute).isFile()) return `${absolute} is not a file`;
      fs.accessSync(absolute, fs.constants.W_OK);
      return null;
    }
    // The nearest folder that exists must let us create the rest.
    while (!fs.existsSync(dir)) dir = path.dirname(dir);
    if (!fs.statSync(dir).isDirectory()) return `${absolute} cannot be created: ${dir} is not a folder`;
    fs.accessSync(dir, fs.constants.W_OK);
    return null;
  } catch (error) {
    return `${absolute} cannot be written (${(error as { code?: string }).code ?? 'error'}): set KEXIN_ISSUED_KEYS_FILE to a writable path`;
  }
}

/**
 * Appends `lines` under a dated heading to `file`, created with its folder
 * and mode 0600 (an existing file is set back to 0600), flushed to disk
 * before returning. Returns the file's absolute path.
 */
export function appendIssuedKeys(file: string, heading: string, lines: string[], now = new Date()): string {
  const absolute = path.resolve(file);
  fs.mkdirSync(path.dirname(absolute), { recursive: true });
  const fd = fs.openSync(absolute, 'a', 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, [`# ${now.toISOString()} ${heading}`, ...lines, ''].join('\n') + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return absolute;
}

/** Whether issued keys are also shown on the terminal: stdout is one, and this is not a production process. */
export function showOnTerminal(production: boolean, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return stdout.isTTY === true && !production;
}
