/** One CLI command: a name, a line of help, and a run function that returns an exit code. */
export interface Command {
  name: string;
  summary: string;
  /** Printed by `portraits help NAME` and on a usage error. */
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}
