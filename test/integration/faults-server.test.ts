/**
 * Server faults: the server process is killed with SIGKILL and started again on the same
 * port (the real display page in Chromium must be showing frames again within 3 s of
 * the new server answering), and storms of displays connecting and vanishing (some
 * mid-frame, some without a goodbye) must leave no display links, heartbeat entries,
 * sockets or timers behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { chromiumPath, launchBrowser, type TestBrowser } from '../support/browser.js';
import { startTestServer, type TestSocket } from '../support/server.js';
import { tinyModelsDir } from '../support/tiny-generator.js';
import { ensurePagesBuilt } from '../e2e/pages.js';
import { freePort } from '../support/ports.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** `npm start`'s server as its own process (node + tsx, as systemd runs it); resolves once /health answers. */
async function startProcess(port: number, modelsDir: string): Promise<{ child: ChildProcess; readyAt: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--port', String(port), '--host', '127.0.0.1', '--osc-port', 'off', '--models-dir', modelsDir], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) throw new Error('server did not answer /health in 120 s');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return { child, readyAt: Date.now() };
    } catch {
      // not up yet
    }
    await sleep(25);
  }
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const chromium = chromiumPath();

describe.skipIf(!chromium)('server restart', () => {
  let browser: TestBrowser | undefined;
  afterAll(async () => browser?.close());

  it('after kill -9 and a restart on the same port, the real display shows frames again within 3 s', { timeout: 300_000 }, async () => {
    await ensurePagesBuilt();
    const modelsDir = await tinyModelsDir();
    const port = await freePort();
    let server = await startProcess(port, modelsDir);
    browser = await launchBrowser(chromium!);
    const display = await browser.open(`http://127.0.0.1:${port}/`, { width: 480, height: 270 });
    const frames = () => display.page.evaluate(() => window.__display?.framesReceived ?? 0);
    await display.page.waitForFunction(() => (window.__display?.framesReceived ?? 0) >= 3, undefined, { timeout: 60_000 });

    const backIn: number[] = [];
    for (let round = 0; round < 3; round++) {
      await kill9(server.child);
      await display.page.waitForFunction(() => window.__display?.connected === false, undefined, { timeout: 10_000 });
      const before = await frames();
      server = await startProcess(port, modelsDir);
      await display.page.waitForFunction((n) => (window.__display?.framesReceived ?? 0) > n, before, { timeout: 30_000, polling: 20 });
      backIn.push(Date.now() - server.readyAt);
    }
    console.log(`display back after restart (ms after the new server answered): ${backIn.join(', ')}`);
    expect(display.errors).toEqual([]);
    for (const ms of backIn) expect(ms).toBeLessThanOrEqual(3000);
    await kill9(server.child);
  });
});

describe('display disconnect storms', () => {
  let server: RunningServer;
  afterAll(async () => server?.close());

  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

  /** One display that connects, maybe takes a frame without acknowledging it, and vanishes one of three ways. */
  async function flicker(i: number): Promise<void> {
    const socket: TestSocket = io(server.url, { auth: { role: 'display' }, transports: ['websocket'], reconnection: false, forceNew: true });
    if (i % 3 === 0) socket.on('frame', (_meta, _image, ack) => ack());
    await new Promise<void>((resolve) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', () => resolve());
    });
    await sleep(Math.random() * 60);
    if (i % 3 === 2) socket.io.engine.close(); // the transport drops without a socket.io goodbye
    else socket.disconnect();
  }

  async function storm(cycles: number): Promise<void> {
    for (let i = 0; i < cycles; i += 25) await Promise.all(Array.from({ length: 25 }, (_, k) => flicker(i + k)));
  }

  async function settled(): Promise<{ displays: number; heartbeats: number; controllers: number }> {
    // Longer than the 3 s a frame waits for its acknowledgement.
    await sleep(3500);
    const health = (await (await fetch(`${server.url}/health`)).json()) as { displays: number; controllers: number; heartbeats: unknown[] };
    return { displays: health.displays, heartbeats: health.heartbeats.length, controllers: health.controllers };
  }

  it('leave no links, heartbeat entries, sockets or timers behind', { timeout: 180_000 }, async () => {
    server = await startTestServer({ modelsDir: await tinyModelsDir(), fps: 30, socketEventRate: 0 });
    await settled(); // the keep-alive connection /health leaves open is part of the baseline
    const baseTimers = timers();
    const baseSockets = sockets();

    await storm(300);
    expect(await settled()).toEqual({ displays: 0, heartbeats: 0, controllers: 0 });
    const heapAfterFirst = (global.gc?.(), process.memoryUsage().heapUsed);
    await storm(300);
    expect(await settled()).toEqual({ displays: 0, heartbeats: 0, controllers: 0 });
    const frames = server.loop.frames;
    await sleep(500);
    expect(server.loop.frames, 'generation idles with no display left').toBeLessThanOrEqual(frames + 1);
    expect(timers()).toBeLessThanOrEqual(baseTimers + 2);
    expect(sockets()).toBeLessThanOrEqual(baseSockets);
    const heapAfterSecond = (global.gc?.(), process.memoryUsage().heapUsed);
    console.log(`disconnect storms: 2 x 300 displays; timers ${baseTimers} -> ${timers()}, sockets ${baseSockets} -> ${sockets()}, heap after storm 1 ${(heapAfterFirst / 1e6).toFixed(1)} MB, after storm 2 ${(heapAfterSecond / 1e6).toFixed(1)} MB`);
    // A leak of one link per display would grow with every storm; allow the garbage collector's slack.
    expect(heapAfterSecond - heapAfterFirst).toBeLessThan(20e6);

    // And the server still serves a display normally.
    const display: TestSocket = io(server.url, { auth: { role: 'display' }, transports: ['websocket'], reconnection: false, forceNew: true });
    const got = await new Promise<number>((resolve) => display.on('frame', (meta, _img, ack) => (ack(), resolve(meta.frame))));
    expect(got).toBeGreaterThan(0);
    display.disconnect();
  });
});
