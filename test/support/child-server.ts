/** What tests that run the server as a child process (fuzz, faults, cluster nodes) share. */
import type { ChildProcess } from 'node:child_process';
import { get as httpGet } from 'node:http';
import type { Readable } from 'node:stream';
import { StateSchema, type LiveState } from '../../common/state.js';

/**
 * The live state as the server's `GET /api/state` serves it to the VJ, checked against the
 * schema. `adminToken`: the server's, where it has one (without it, a reader is a visitor and
 * gets the state without the VJ's instruments). The token is sent from 127.0.0.2, another
 * loopback address than the tests' clients use: a fuzz test that sends wrong tokens on purpose
 * gets its own address refused for a while, and the checker must still read.
 */
export async function fetchState(url: string, adminToken?: string): Promise<{ state: LiveState; version: number }> {
  const text = await new Promise<string>((resolve, reject) => {
    const headers: Record<string, string> = adminToken ? { authorization: `Bearer ${adminToken}` } : {};
    const req = httpGet(`${url}/api/state`, { headers, ...(adminToken ? { localAddress: '127.0.0.2' } : {}) }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (data += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(data) : reject(new Error(`GET /api/state answered ${res.statusCode}: ${data.slice(0, 200)}`))));
    });
    req.on('error', reject);
  });
  const body = JSON.parse(text) as { state: unknown; version: number };
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

/** Calls `onLine` with each whole line `stream` writes (the server logs one JSON object a line). */
export function eachLine(stream: Readable, onLine: (line: string) => void): void {
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) onLine(line);
  });
}

/**
 * Waits until the server process at `url` has started: it answers `/?HOST_INFO` with its OSC
 * port, which this returns. Fails at once if the process exits meanwhile (with its errors),
 * and after `timeoutMs`.
 */
export async function waitForStart(url: string, opts: { name: string; timeoutMs: number; exit: () => unknown; errors: readonly string[] }): Promise<number> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const exit = opts.exit();
    if (exit) throw new Error(`${opts.name} exited while starting: ${JSON.stringify(exit)} ${opts.errors.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`${opts.name} did not start in ${opts.timeoutMs / 1000} s`);
    try {
      const info = (await (await fetch(`${url}/?HOST_INFO`, { signal: AbortSignal.timeout(2000) })).json()) as { OSC_PORT?: number };
      if (info.OSC_PORT) return info.OSC_PORT;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
