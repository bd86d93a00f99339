/**
 * A cluster node for a test: the real server (`server/main.ts`, as `npm start` runs it) in
 * its own process with `--redis-url`, so a test can kill it with SIGKILL like a power cut.
 * Its pino log lines (JSON on stdout) are kept, so tests can wait for "lost Redis" or
 * "seeded", and see error-level lines and unhandled rejections (they end the process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LiveState } from '../../common/state.js';
import { afterAll, beforeAll } from 'vitest';
import { startRedis, type TestRedis } from './redis.js';
import { connect, type TestSocket } from './server.js';
import { freePort } from './ports.js';
import { eachLine, fetchState, terminate, waitForStart } from './child-server.js';
import { tinyModelsDir } from './tiny-generator.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ClusterNode {
  readonly name: string;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly oscPort: number;
  /** Every JSON log line so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Error-level log lines and anything on stderr. */
  readonly errors: string[];
  /** Set once the process has ended. */
  readonly exit: { code: number | null; signal: string | null } | null;
  state(): Promise<{ state: LiveState; version: number }>;
  /** Resolves with the first log line (past or future) whose msg matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGKILL: no goodbye to Redis or the clients. */
  kill9(): Promise<void>;
  /** SIGTERM (a clean shutdown), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export interface ClusterNodeOptions {
  name: string;
  redisUrl: string;
  /** Same models dir for every node of a cluster (they must run the same model). */
  modelsDir?: string;
  /** The HTTP port (a restarted node keeps its address); default a free one. */
  port?: number;
  /** Extra flags, e.g. ['--fps', '5']. */
  args?: string[];
  env?: Record<string, string>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startClusterNode(opts: ClusterNodeOptions): Promise<ClusterNode> {
  const port = opts.port ?? (await freePort());
  const modelsDir = opts.modelsDir ?? (await tinyModelsDir());
  const dir = await mkdtemp(join(tmpdir(), `portraits-cluster-${opts.name}-`));
  const child = spawn(
    process.execPath,
    [
      '--import', 'tsx', 'server/main.ts',
      '--port', String(port), '--host', '127.0.0.1', '--osc-port', '0', '--osc-host', '127.0.0.1',
      '--models-dir', modelsDir, '--presets-dir', join(dir, 'presets'), '--captures-dir', join(dir, 'captures'), '--recordings-dir', join(dir, 'recordings'),
      '--fps', '10', '--upscaler', 'off', '--redis-url', opts.redisUrl, '--node-name', opts.name,
      ...(opts.args ?? []),
    ],
    {
      cwd: ROOT,
      // Attract mode off: it changes the state by itself; limits off: the tests send bursts.
      env: { ...process.env, LOG_LEVEL: 'info', PORTRAITS_HTTP_RATE_LIMIT: '0', PORTRAITS_SOCKET_EVENT_RATE: '0', PORTRAITS_ATTRACT_IDLE_SECONDS: '0', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  live.add(child);
  const logs: Record<string, unknown>[] = [];
  const errors: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: Record<string, unknown>) => void }[] = [];
  let exit: ClusterNode['exit'] = null;
  eachLine(child.stdout!, (line) => {
    if (!line.startsWith('{')) return;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    logs.push(parsed);
    if (Number(parsed.level) >= 50) errors.push(line);
    for (const w of [...waiters]) {
      if (w.pattern.test(String(parsed.msg))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(parsed);
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => errors.push(`stderr: ${chunk.toString()}`));
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    live.delete(child);
  });

  const url = `http://127.0.0.1:${port}`;
  const oscPort = await waitForStart(url, { name: `node ${opts.name}`, timeoutMs: 120_000, exit: () => exit, errors });

  const ended = () => (exit ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r())));
  return {
    name: opts.name,
    url,
    port,
    oscPort,
    logs,
    errors,
    get exit() {
      return exit;
    },
    state: () => fetchState(url, opts.env?.PORTRAITS_ADMIN_TOKEN),
    waitForLog(pattern, timeoutMs = 15_000) {
      const found = logs.find((l) => pattern.test(String(l.msg)));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = { pattern, resolve: (line: Record<string, unknown>) => (clearTimeout(timer), resolve(line)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`node ${opts.name} logged nothing matching ${pattern} in ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    async kill9() {
      const done = ended();
      child.kill('SIGKILL');
      await done;
    },
    async stop() {
      if (!exit) await terminate(child);
    },
  };
}

/** Counts the frames a display socket receives and keeps the seeds of the newest few. */
export function watchFrames(socket: TestSocket): { frames: number; seeds: number[][] } {
  const seen = { frames: 0, seeds: [] as number[][] };
  socket.on('frame', (meta) => {
    seen.frames += 1;
    seen.seeds.push(meta.seeds);
    if (seen.seeds.length > 50) seen.seeds.shift();
  });
  return seen;
}

export interface TwoNodes {
  redis: TestRedis & { dispose(): Promise<void> };
  a: ClusterNode;
  b: ClusterNode;
}

/**
 * For a describe block: a private Redis and two nodes on it (node-a, node-b, the tiny test
 * generator), started before its tests and stopped after them, with every socket opened
 * through the returned `open` closed at the end. `ready` gets the nodes once they run
 * (to keep them and wait for what the block needs).
 */
export function useTwoNodes(
  redisBinary: string,
  ready: (nodes: TwoNodes) => Promise<void>,
  nodeOptions: Pick<ClusterNodeOptions, 'args' | 'env'> = {},
): (node: ClusterNode, role: 'display' | 'controller') => Promise<TestSocket> {
  let nodes: Partial<TwoNodes> = {};
  const sockets: TestSocket[] = [];
  beforeAll(async () => {
    const redis = await startRedis(redisBinary);
    nodes.redis = redis;
    const modelsDir = await tinyModelsDir();
    [nodes.a, nodes.b] = await Promise.all(['node-a', 'node-b'].map((name) => startClusterNode({ name, redisUrl: redis.url, modelsDir, ...nodeOptions })));
    await ready(nodes as TwoNodes);
  }, 150_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.allSettled([nodes.a?.stop(), nodes.b?.stop()]);
    await nodes.redis?.dispose();
    nodes = {};
  });
  return async (node, role) => {
    const socket = await connect(node, role);
    sockets.push(socket);
    return socket;
  };
}
