/**
 * A private redis-server for a test: Debian's binary on a free loopback port, with no
 * persistence (`--save '' --appendonly no`) and its own temp dir, never the system
 * instance. `stop()`/`start()` (or `restart()`) bring it down and back on the same port, so
 * tests can show that nodes survive a Redis outage and rejoin an empty Redis afterwards.
 * Machines without redis-server skip with a printed reason; under CI (CI=true) its absence
 * is a failure, so CI never passes by skipping the cluster tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export const REDIS_SERVER_PATH = '/usr/bin/redis-server';

/** The redis-server binary, or null (with a printed reason) when it is missing outside CI. */
export function redisServerPath(): string | null {
  if (existsSync(REDIS_SERVER_PATH)) return REDIS_SERVER_PATH;
  const why = `${REDIS_SERVER_PATH} is not installed (apt-get install -y redis-server)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
  console.warn(`skipped: ${why}`);
  return null;
}

export interface TestRedis {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** True while the server process runs. */
  readonly running: boolean;
  /** Ends the server (SIGTERM, then SIGKILL after 5 s); its data is gone, as after a crash without persistence. */
  stop(): Promise<void>;
  /** Starts it again on the same port (no-op while running). */
  start(): Promise<void>;
  /** stop(), wait `downMs`, start(). */
  restart(downMs?: number): Promise<void>;
}

// Every redis-server a test started dies with the test process, even if the test forgets to stop it.
const alive = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

function launch(binary: string, port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'notice'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on port ${port} was not ready in 10 s:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        // Keep draining its output so a chatty server never blocks on a full pipe.
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on port ${port} exited while starting (${code ?? signal}):\n${output}`));
    });
  });
}

function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a private redis-server; call `redisServerPath()` first to skip where it is missing. */
export async function startRedis(binary = REDIS_SERVER_PATH): Promise<TestRedis & { dispose(): Promise<void> }> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'portraits-redis-'));
  let child: ChildProcess | null = await launch(binary, port, dir);

  const stop = async () => {
    const current = child;
    if (!current) return;
    child = null;
    const done = ended(current);
    current.kill('SIGTERM');
    const timer = setTimeout(() => current.kill('SIGKILL'), 5_000);
    await done;
    clearTimeout(timer);
  };
  const start = async () => {
    if (child) return;
    child = await launch(binary, port, dir);
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get running() {
      return child !== null;
    },
    stop,
    start,
    async restart(downMs = 0) {
      await stop();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    /** Stops the server for good and removes its temp dir. */
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
