/** One CLI command: a name, a line of help, and a run function that returns an exit code. */
import type { FlagTable } from './flags.js';

export interface Command {
  name: string;
  summary: string;
  /** Printed by `portraits help NAME` and on a usage error. */
  usage: string;
  /** The flags it parses, each with its default and explanation; `portraits help NAME` lists them (cli/flags.ts). */
  flags?(): Promise<FlagTable>;
  /** More for `portraits help NAME`, after the flags (e.g. the names a flag accepts, read from the models, or a Python script's own help). */
  details?(): Promise<string>;
  run(argv: string[]): Promise<number>;
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}
