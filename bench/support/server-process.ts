/**
 * The real server (server/main.ts, as `npm start` runs it) in a child process, so its CPU
 * time and memory can be read from /proc apart from the bench's own clients, and socket.io
 * clients that play displays and a controller. The displays acknowledge each frame as soon
 * as it arrives (no decoding), so they measure the server, not a browser.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import type { FrameMeta } from '../../common/frame.js';
import { SOCKET_PATH, type Ack, type ClientToServerEvents, type ServerToClientEvents } from '../../common/protocol.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_TIMEOUT_MS = 120_000;
const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat counts CPU time in these ticks

export interface ServerProcess {
  url: string;
  pid: number;
  /** GET /health (frames, fps, stageMs, ...). */
  health(): Promise<{ frames: number; fps: number; stageMs: Record<string, number>; provider: string; model: string }>;
  stop(): Promise<void>;
}

/** Starts `server/main.ts` with the given flags (kebab-case names, as on the command line). */
export async function spawnServer(flags: Record<string, string | number>): Promise<ServerProcess> {
  const args = ['--import', 'tsx', 'server/main.ts', '--port', '0', '--host', '127.0.0.1', '--osc-port', 'off'];
  for (const [k, v] of Object.entries(flags)) args.push(`--${k}`, String(v));
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${START_TIMEOUT_MS / 1000} s:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = output.match(/display:\s+(http:\/\/\S+?)\/\s/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (code ${code}) before it was ready:\n${output}`));
    });
  });
  // Keep draining the pipes so the child never blocks on a full one; show warnings and errors.
  child.stdout!.removeAllListeners('data');
  child.stdout!.on('data', (c: Buffer) => forwardProblems(c));
  child.stderr!.removeAllListeners('data');
  child.stderr!.on('data', (c: Buffer) => forwardProblems(c));
  child.removeAllListeners('exit');
  return {
    url,
    pid: child.pid!,
    async health() {
      const res = await fetch(`${url}/health`);
      return (await res.json()) as Awaited<ReturnType<ServerProcess['health']>>;
    },
    stop: () => stopChild(child),
  };
}

function forwardProblems(chunk: Buffer): void {
  for (const line of chunk.toString().split('\n')) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as { level?: number; msg?: string; component?: string };
      if ((rec.level ?? 0) >= 40) process.stderr.write(`  [server ${rec.component ?? ''}] ${rec.msg ?? line}\n`);
    } catch {
      process.stderr.write(`  [server] ${line}\n`);
    }
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** CPU seconds (user + system, all threads) and resident memory of a process, from /proc. */
export function processUsage(pid: number): { cpuSeconds: number; rssBytes: number; threads: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(status.match(/^VmRSS:\s+(\d+)/m)?.[1] ?? NaN);
  const threads = Number(status.match(/^Threads:\s+(\d+)/m)?.[1] ?? NaN);
  return { cpuSeconds, rssBytes: rssKb * 1024, threads };
}

/** Samples a process's RSS every `everyMs` until stopped: the memory over the run, not one reading. */
export class RssSampler {
  readonly samples: number[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(pid: number, everyMs = 250) {
    const take = () => this.samples.push(processUsage(pid).rssBytes);
    take();
    this.timer = setInterval(take, everyMs);
  }

  stop(): number[] {
    clearInterval(this.timer);
    return this.samples;
  }
}

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface Arrival {
  meta: FrameMeta;
  bytes: number;
  /** performance.now() in the bench process when the frame arrived. */
  at: number;
  /** Date.now() at arrival (same clock as meta.serverTime: server and bench share the machine). */
  wall: number;
}

export interface BenchDisplay {
  socket: Client;
  arrivals: Arrival[];
  /** Resolves with the first arrival after `since` whose state version is at least `version`. */
  firstReflecting(version: number, since: number, timeoutMs: number): Promise<Arrival>;
  close(): void;
}

function open(url: string, role: 'display' | 'controller'): Promise<Client> {
  const socket: Client = io(url, { path: SOCKET_PATH, auth: { role }, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

export async function openDisplay(url: string): Promise<BenchDisplay> {
  const socket = await open(url, 'display');
  const arrivals: Arrival[] = [];
  const waiters = new Set<(a: Arrival) => void>();
  socket.on('frame', (meta, image, ack) => {
    const arrival = { meta, bytes: (image as ArrayBuffer).byteLength, at: performance.now(), wall: Date.now() };
    arrivals.push(arrival);
    ack();
    for (const w of waiters) w(arrival);
  });
  return {
    socket,
    arrivals,
    firstReflecting(version, since, timeoutMs) {
      const found = arrivals.find((a) => a.at >= since && a.meta.stateVersion >= version);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no frame reflected state version ${version} within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (a: Arrival) => {
          if (a.meta.stateVersion < version) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(a);
        };
        waiters.add(check);
      });
    },
    close: () => socket.disconnect(),
  };
}

export interface BenchController {
  patch(patch: unknown): Promise<Ack>;
  command(command: unknown): Promise<Ack>;
  close(): void;
}

export async function openController(url: string): Promise<BenchController> {
  const socket = await open(url, 'controller');
  return {
    patch: (patch) => new Promise((resolve) => socket.emit('patch', patch, resolve)),
    command: (command) => new Promise((resolve) => socket.emit('command', command, resolve)),
    close: () => socket.disconnect(),
  };
}

/**
 * A scenario's live settings, through the controller as a VJ would set them: `upscale` is
 * upscale.mode (left as the server starts when undefined), `dream` is dream.mode.
 */
export async function applyScenario(controller: BenchController, settings: { upscale?: string | undefined; dream: string }): Promise<void> {
  const patches: [string, object][] = [];
  if (settings.upscale) patches.push(['set upscale.mode', { upscale: { mode: settings.upscale } }]);
  if (settings.dream !== 'off') patches.push(['turn dreaming on', { dream: { mode: settings.dream } }]);
  for (const [what, patch] of patches) {
    const ack = await controller.patch(patch);
    if (!ack.ok) throw new Error(`cannot ${what}: ${ack.error}`);
  }
}

/** Waits until `display` has received frames whose dream pass really ran (the style compiles in the background). */
export async function waitForDream(display: BenchDisplay, timeoutMs = 120_000): Promise<void> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    const recent = display.arrivals.slice(-3);
    if (recent.length === 3 && recent.every((a) => (a.meta.timings.dream ?? 0) > 1)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the dream pass did not start within ${timeoutMs / 1000} s (is a dream network installed?)`);
}
