/** What tests that run the server as a child process (fuzz, faults, cluster nodes) share. */
import type { ChildProcess } from 'node:child_process';
import { StateSchema, type LiveState } from '../../common/state.js';

/** The live state as the server's `GET /api/state` serves it, checked against the schema. */
export async function fetchState(url: string): Promise<{ state: LiveState; version: number }> {
  const body = (await (await fetch(`${url}/api/state`)).json()) as { state: unknown; version: number };
  return { state: StateSchema.parse(body.state), version: body.version };
}

/** SIGTERM, and SIGKILL if the process has not ended 10 s later; resolves once it has exited. */
export async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await ended;
  clearTimeout(timer);
}
