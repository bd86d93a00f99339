/**
 * Structured logs (pino, JSON lines: the journal and log shippers read them as they are).
 * LOG_LEVEL picks the level; tests run at 'error' unless told otherwise.
 */
import pino from 'pino';

const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'error' : 'info');

export const log = pino({ level, base: { app: 'portraits' } });
export type Logger = typeof log;

/** A child logger per component, so every line says where it came from. */
export function logger(component: string): Logger {
  return log.child({ component });
}
