import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout. Never log a person's data: ids and codes only. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'kexin' }, timestamp: pino.stdTimeFunctions.isoTime });
}
