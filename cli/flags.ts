/**
 * Command-line flags for every command: node's parseArgs, strict, with its errors turned into
 * UsageErrors (printed with the command's usage, exit code 2), and numeric flags checked
 * against their range with a message that names the flag.
 *
 * Each command declares its flags once, in a flag table (flagTable): the type, the value's
 * placeholder, the default and a line of explanation. parseArgs' options are derived from the
 * table (flagOptions) and `portraits help` describes the same table (describeFlags), so the
 * help cannot name a flag the parser refuses, or miss one it takes.
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

/** Whether `value` is one of `names` (narrowing it to their type, which `includes` does not). */
export function isOneOf<T extends string>(names: readonly T[], value: string): value is T {
  return (names as readonly string[]).includes(value);
}

/** The names a flag accepts: fixed, or read when help is asked for (e.g. the models on disk). */
export type NameList = readonly string[] | (() => Promise<readonly string[]>);

/** One flag, as parsed and as explained. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** How the value is written in help: N, PX, DIR, NAME... (string flags). */
  readonly value?: string;
  /** What the command uses when the flag is absent, as help prints it (read from the command's own constants). */
  readonly default?: string | number;
  readonly required?: boolean;
  /** The environment variable that sets the same thing (the server's settings). */
  readonly env?: string;
  /** What the flag does, in a line. */
  readonly help: string;
  /** The valid names, listed under the flag. */
  readonly names?: NameList;
}

export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** Declares a command's flags; `const` keeps each type literal, so parseFlags types the values as string or boolean. */
export function flagTable<const T extends FlagTable>(table: T): T {
  return table;
}

type OptionsOf<T extends FlagTable> = { -readonly [K in keyof T]: { type: T[K]['type'] } };

/** parseArgs' options for a table: only the types; defaults stay with the code that applies them. */
export function flagOptions<T extends FlagTable>(table: T): OptionsOf<T> {
  return Object.fromEntries(Object.entries(table).map(([name, spec]) => [name, { type: spec.type }])) as OptionsOf<T>;
}

const HELP_WIDTH = 100;
/** Flags longer than this put their explanation on the next line. */
const FLAG_COLUMN = 28;

/** `text` broken into lines of at most `width` characters (a longer word stays whole). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/** `items` joined by ', ' into lines of at most `width`, never breaking an item ('kit fox' stays on one line). */
export function wrapList(items: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const [i, item] of items.entries()) {
    const piece = i < items.length - 1 ? `${item},` : item;
    if (line && line.length + 1 + piece.length > width) {
      lines.push(line);
      line = piece;
    } else line = line ? `${line} ${piece}` : piece;
  }
  return line ? [...lines, line] : lines;
}

function flagName(name: string, spec: FlagSpec): string {
  return spec.type === 'boolean' ? `--${name}` : `--${name} ${spec.value ?? 'VALUE'}`;
}

/** The explanation with what happens when the flag is absent, and what else sets it. */
function explanation(spec: FlagSpec): string {
  const notes = [
    spec.required ? 'required' : spec.default === undefined ? '' : `default: ${spec.default}`,
    spec.env ? `environment: ${spec.env}` : '',
  ].filter(Boolean);
  return notes.length ? `${spec.help} (${notes.join('; ')})` : spec.help;
}

/** The names lines: the list, or why it cannot be shown (a missing models folder must not break help). */
async function namesLines(names: NameList, width: number): Promise<string[]> {
  try {
    const list = typeof names === 'function' ? await names() : names;
    return list.length ? wrapList([`one of: ${list[0]}`, ...list.slice(1)], width) : ['one of: (none found)'];
  } catch (err) {
    return wrap(`(the valid names are unavailable: ${(err as Error).message.split('\n')[0]})`, width);
  }
}

/** Help lines for a flag table: each flag, its explanation and default, and the names it accepts. */
export async function describeFlags(table: FlagTable): Promise<string[]> {
  const entries = Object.entries(table);
  const column = Math.min(FLAG_COLUMN, Math.max(...entries.map(([name, spec]) => flagName(name, spec).length)));
  const indent = ' '.repeat(2 + column + 2);
  const width = HELP_WIDTH - indent.length;
  const lines: string[] = [];
  for (const [name, spec] of entries) {
    const flag = flagName(name, spec);
    const text = wrap(explanation(spec), width);
    if (spec.names) text.push(...(await namesLines(spec.names, width)));
    if (flag.length > column) lines.push(`  ${flag}`, ...text.map((t) => indent + t));
    else lines.push(`  ${flag.padEnd(column)}  ${text[0] ?? ''}`.trimEnd(), ...text.slice(1).map((t) => indent + t));
  }
  return lines;
}
