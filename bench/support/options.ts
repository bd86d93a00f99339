/**
 * A bench's command-line options, declared once: each option's default says its type
 * (a number, a string, or a comma-separated list of either; no default: an optional string),
 * the values come back parsed and checked, `--help` prints the options and exits, and
 * `command` is the line that reproduces the run (for the report's header).
 *
 *   const { values, command } = benchOptions(import.meta.url, 'what it measures', {
 *     seconds: { default: 20, help: 'measured seconds per scenario' },
 *     displays: { default: [1, 4], help: 'display counts to run' },
 *   });
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

type Default = number | string | readonly number[] | readonly string[];

export interface BenchOption {
  /** The value when the option is not given; its type is the option's type. Absent: an optional string. */
  default?: Default;
  help: string;
  /** Left out of `--help` and of `command` (a bench's own flags for a child process). */
  internal?: boolean;
}

type Value<O extends BenchOption> = O extends { default: infer D }
  ? D extends number
    ? number
    : D extends string
      ? string
      : D extends readonly number[]
        ? number[]
        : string[]
  : string | undefined;

export type BenchValues<S extends Record<string, BenchOption>> = { [K in keyof S]: Value<S[K]> };

/** Thrown for an unknown option or a value of the wrong type; the message says which. */
export class BenchUsageError extends Error {}

function asNumber(name: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new BenchUsageError(`--${name} takes a number, not '${text}'`);
  return n;
}

function parse(name: string, option: BenchOption, text: string | undefined): unknown {
  const fallback = option.default;
  if (text === undefined) return Array.isArray(fallback) ? [...fallback] : fallback;
  if (typeof fallback === 'number') return asNumber(name, text);
  if (Array.isArray(fallback)) {
    const items = text.split(',').map((s) => s.trim());
    return typeof fallback[0] === 'number' ? items.map((s) => asNumber(name, s)) : items;
  }
  return text;
}

const shown = (value: unknown) => (Array.isArray(value) ? value.join(',') : String(value));

export function usage(script: string, about: string, spec: Record<string, BenchOption>): string {
  const rows = Object.entries(spec)
    .filter(([, o]) => !o.internal)
    .map(([name, o]) => `  --${name.padEnd(14)} ${o.help}${o.default === undefined ? '' : ` (default ${shown(o.default)})`}`);
  return [`npx tsx ${script} [options]`, '', about, '', ...rows, `  --${'help'.padEnd(14)} this list`].join('\n');
}

/**
 * Parses `argv` (default: this process's arguments) against `spec`; on `--help` prints the
 * usage and exits, on a wrong option prints why and exits with 2.
 */
export function benchOptions<const S extends Record<string, BenchOption>>(
  moduleUrl: string,
  about: string,
  spec: S,
  argv: string[] = process.argv.slice(2),
): { values: BenchValues<S>; command: string } {
  const script = `bench/${basename(fileURLToPath(moduleUrl))}`;
  try {
    return parseBenchOptions(script, spec, argv, () => {
      console.log(usage(script, about, spec));
      process.exit(0);
    });
  } catch (err) {
    if (!(err instanceof BenchUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) throw err;
    console.error(`${(err as Error).message}\n\n${usage(script, about, spec)}`);
    process.exit(2);
  }
}

/** benchOptions without the process: throws BenchUsageError (or node's parseArgs error) instead of exiting. */
export function parseBenchOptions<const S extends Record<string, BenchOption>>(script: string, spec: S, argv: string[], help: () => void = () => {}): { values: BenchValues<S>; command: string } {
  const options = Object.fromEntries(Object.keys(spec).map((name) => [name, { type: 'string' as const }]));
  const given = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  if (given.help) help();
  const values = Object.fromEntries(Object.entries(spec).map(([name, option]) => [name, parse(name, option, given[name] as string | undefined)])) as BenchValues<S>;
  const flags = Object.entries(spec)
    .filter(([name, o]) => !o.internal && (values as Record<string, unknown>)[name] !== undefined)
    .map(([name]) => `--${name} ${shown((values as Record<string, unknown>)[name])}`);
  return { values, command: ['npx tsx', script, ...flags].join(' ') };
}

/** The options of the benches that start the real server (bench/support/server-process.ts). */
export const SERVER_OPTIONS = {
  fps: { default: 30, help: "the server's target frame rate" },
  size: { default: 256, help: 'frame size, px' },
  model: { default: 'default-face', help: 'the face model (a folder in models/)' },
} as const satisfies Record<string, BenchOption>;

/** The options of the benches that run the real server through scenarios (applyScenario in bench/support/server-process.ts). */
export const SCENARIO_OPTIONS = {
  dream: { default: ['off', 'gentle'], help: 'dream modes, one scenario each (off, gentle, zoom)' },
  warmup: { default: 3, help: 'warm-up seconds per scenario' },
  ...SERVER_OPTIONS,
  upscale: { help: 'live state upscale.mode to set first (auto, off, x2, x4); by default the state is left as it starts' },
} as const satisfies Record<string, BenchOption>;

/** The options of the benches that load the real server with a crowd of tablets (bench/load-harness.ts). */
export const CROWD_OPTIONS = {
  tablets: { default: 200, help: 'visitor tablets' },
  rate: { default: 30, help: 'inputs a second per tablet' },
  ...SERVER_OPTIONS,
} as const satisfies Record<string, BenchOption>;

/** The options of the benches that time subjects in turns: `seconds` of runs each, cut into `rounds` slices. */
export function timingOptions(seconds: number, rounds: number) {
  return {
    seconds: { default: seconds, help: 'timed seconds per subject' },
    rounds: { default: rounds, help: 'slices those seconds are cut into, taken in turns with the other subjects' },
  } satisfies Record<string, BenchOption>;
}
