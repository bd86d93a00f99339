/**
 * The fuzz tests' target: the real server (`server/main.ts`, as `npm start` runs it) in its
 * own process, so a crash is an exit the test sees, the server's error-level log lines
 * (pino JSON on stdout) are collected, and fuzzing client and server get a core each.
 * A display stays connected throughout, so frames are being made while inputs arrive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../common/protocol.js';
import type { LiveState } from '../../common/state.js';
import { tinyModelsDir } from '../support/tiny-generator.js';
import { freePort } from '../support/ports.js';
import { eachLine, fetchState, terminate, waitForStart } from '../support/child-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const ADMIN_TOKEN = 'fuzz-admin-token-0123456789';

/** Inputs per interface: FUZZ_COUNT overrides every default (e.g. FUZZ_COUNT=100000 for the full run). */
export function fuzzCount(fallback: number): number {
  const n = Number(process.env.FUZZ_COUNT ?? fallback);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`FUZZ_COUNT must be a positive integer, got ${process.env.FUZZ_COUNT}`);
  return n;
}

export interface ServerProcess {
  url: string;
  port: number;
  oscPort: number;
  /** Error-level (and worse) log lines the server printed. */
  errors: string[];
  /** Set when the process ended. */
  exit: { code: number | null; signal: string | null } | null;
  state(): Promise<{ state: LiveState; version: number }>;
  /** Frames the watching display has received so far. */
  frames(): number;
  stop(): Promise<void>;
}

export async function startServerProcess(extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  const modelsDir = await tinyModelsDir();
  const presetsDir = join(await mkdtemp(join(tmpdir(), 'portraits-fuzz-')), 'presets');
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/main.ts', '--port', String(port), '--host', '127.0.0.1', '--osc-port', '0', '--osc-host', '127.0.0.1', '--models-dir', modelsDir, '--presets-dir', presetsDir, '--fps', '10'],
    {
      cwd: ROOT,
      // Attract mode off: it changes the state by itself after a quiet spell, and the tests count every change.
      env: { ...process.env, LOG_LEVEL: 'error', PORTRAITS_ADMIN_TOKEN: ADMIN_TOKEN, PORTRAITS_HTTP_RATE_LIMIT: '0', PORTRAITS_SOCKET_EVENT_RATE: '0', PORTRAITS_ATTRACT_IDLE_SECONDS: '0', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const errors: string[] = [];
  let exit: ServerProcess['exit'] = null;
  eachLine(child.stdout!, (line) => {
    if (/^\{.*"level":(50|60)/.test(line)) errors.push(line);
  });
  child.stderr!.on('data', (chunk: Buffer) => errors.push(`stderr: ${chunk.toString()}`));
  child.on('exit', (code, signal) => (exit = { code, signal }));

  const url = `http://127.0.0.1:${port}`;
  const oscPort = await waitForStart(url, { name: 'server', timeoutMs: 180_000, exit: () => exit, errors });

  let frames = 0;
  const display: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, { auth: { role: 'display' }, transports: ['websocket'], reconnection: true, reconnectionDelay: 100 });
  display.on('frame', (_meta, _image, ack) => {
    frames += 1;
    ack();
  });

  return {
    url,
    port,
    oscPort,
    errors,
    get exit() {
      return exit;
    },
    state: () => fetchState(url, ADMIN_TOKEN),
    frames: () => frames,
    async stop() {
      display.close();
      if (!exit) await terminate(child);
    },
  };
}

/** Waits until the watching display has received `more` new frames: the frame path still runs. */
export async function framesStillFlow(server: ServerProcess, more = 3, timeoutMs = 30_000): Promise<void> {
  const start = server.frames();
  const end = Date.now() + timeoutMs;
  while (server.frames() < start + more) {
    if (Date.now() > end) throw new Error(`no frames for ${timeoutMs} ms after fuzzing (${server.frames() - start} arrived)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
