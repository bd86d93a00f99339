/** One CLI command: a name, a line of help, and a run function that returns an exit code. */
export interface Command {
  name: string;
  summary: string;
  /** Printed by `portraits help NAME` and on a usage error. */
  usage: string;
  /** More for `portraits help NAME`, after the usage (e.g. the names a flag accepts, read from the models). */
  details?(): Promise<string>;
  run(argv: string[]): Promise<number>;
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}
