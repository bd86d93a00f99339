/**
 * Command-line flags for every command: node's parseArgs, strict, with its errors turned into
 * UsageErrors (printed with the command's usage, exit code 2), and numeric flags checked
 * against their range with a message that names the flag.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The number given for --key, or `fallback` when it is absent; out of range is a usage error. */
export function numberFlag(values: Record<string, unknown>, key: string, fallback: number, check: (n: number) => boolean): number {
  const raw = values[key];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${key} ${String(raw)} is out of range`);
  return n;
}

/** A range check for numberFlag: an integer from lo to hi. */
export const int = (lo: number, hi: number) => (n: number) => Number.isInteger(n) && n >= lo && n <= hi;
