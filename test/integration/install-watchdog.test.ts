/**
 * The server's side of the systemd unit: READY=1 once it listens, WATCHDOG=1 only while
 * frames advance or the server idles on purpose. The real `systemd-notify` talks to a
 * real notify socket; a small Python receiver stands in for the service manager (it
 * prints each datagram and closes the barrier fd, as systemd does).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { SystemdNotifier } from '../../server/watchdog.js';
import { connect, startTestServer, type TestSocket } from '../support/server.js';
import { tinyModelsDir } from '../support/tiny-generator.js';

const PYTHON = '/usr/bin/python3';
const RECEIVER = `
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    msg, anc, _flags, _addr = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(msg.decode().replace("\\n", " "), flush=True)
`;

function available(): boolean {
  const missing = [PYTHON, 'systemd-notify'].filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (!missing.length) return true;
  const why = `${missing.join(' and ')} not installed (systemd-notify is in the systemd package)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
  console.warn(`skipped: ${why}`);
  return false;
}

const dir = mkdtempSync(join(tmpdir(), 'portraits-notify-'));
const socketPath = join(dir, 'notify');
let receiver: ChildProcessWithoutNullStreams | null = null;
const messages: string[] = [];
const ok = available();

beforeAll(async () => {
  if (!ok) return;
  receiver = spawn(PYTHON, ['-c', RECEIVER, socketPath]);
  const lines = createInterface({ input: receiver.stdout });
  await new Promise<void>((resolve, reject) => {
    receiver!.once('error', reject);
    lines.on('line', (line) => (line === 'listening' ? resolve() : line !== 'BARRIER=1' && messages.push(line)));
  });
});

afterAll(() => {
  receiver?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const until = async (what: string, test: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; received: ${messages.join(' | ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('SystemdNotifier', () => {
  it('is off without NOTIFY_SOCKET, and feeds three times per watchdog period', () => {
    expect(SystemdNotifier.fromEnv({})).toBeNull();
    expect(SystemdNotifier.fromEnv({ NOTIFY_SOCKET: socketPath })!.intervalMs).toBeNull();
    expect(SystemdNotifier.fromEnv({ NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '30000000' })!.intervalMs).toBe(10_000);
    // A watchdog meant for another process is not ours to feed.
    expect(SystemdNotifier.fromEnv({ NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' })!.intervalMs).toBeNull();
  });

  it('feeds only when frames advanced or the server idles on purpose', async () => {
    if (!ok) return;
    const notifier = SystemdNotifier.fromEnv({ NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '3000000', PATH: process.env.PATH })!;
    messages.length = 0;
    let frames = 0;
    let idle = false;
    const progress = { frames: () => frames, idle: () => idle, status: () => `frames ${frames}` };
    expect(await notifier.tick(progress)).toBe(true); // the first check always feeds
    frames = 5;
    expect(await notifier.tick(progress)).toBe(true);
    expect(await notifier.tick(progress)).toBe(false); // stuck: no feed
    idle = true;
    expect(await notifier.tick(progress)).toBe(true); // idle on purpose
    idle = false;
    expect(await notifier.tick(progress)).toBe(true); // just woke up: the first frame gets one period
    expect(await notifier.tick(progress)).toBe(false); // still no frame: stuck
    await until('four feeds', () => messages.length >= 4);
    expect(messages).toEqual(['WATCHDOG=1 STATUS=frames 0', 'WATCHDOG=1 STATUS=frames 5', 'WATCHDOG=1 STATUS=frames 5', 'WATCHDOG=1 STATUS=frames 5']);
  });
});

describe('the server under a systemd notify socket', () => {
  let server: RunningServer | null = null;
  let display: TestSocket | null = null;

  afterAll(async () => {
    display?.disconnect();
    await server?.close();
  });

  it('says READY=1, feeds while idle and while frames advance, and stops feeding when frames stop', async () => {
    if (!ok) return;
    messages.length = 0;
    const saved = { NOTIFY_SOCKET: process.env.NOTIFY_SOCKET, WATCHDOG_USEC: process.env.WATCHDOG_USEC };
    process.env.NOTIFY_SOCKET = socketPath;
    process.env.WATCHDOG_USEC = '900000'; // feed every 300 ms
    try {
      server = await startTestServer({ modelsDir: await tinyModelsDir(), frameSize: 32, fps: 10 });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    await until('READY=1', () => messages.some((m) => m.startsWith('READY=1')));
    // No display yet: idle on purpose, so the watchdog is fed.
    await until('a feed while idle', () => messages.some((m) => m.startsWith('WATCHDOG=1') && m.includes('0 display')));
    display = await connect(server, 'display');
    await until('a feed while generating', () => messages.some((m) => m.startsWith('WATCHDOG=1') && m.includes('1 display')) && server!.loop.frames > 2);
    // The frame loop dies while a display waits: no more feeds.
    await server.loop.stop();
    await new Promise((r) => setTimeout(r, 400)); // let an in-flight feed land
    const fed = messages.filter((m) => m.startsWith('WATCHDOG=1')).length;
    await new Promise((r) => setTimeout(r, 1200)); // four feed periods
    expect(messages.filter((m) => m.startsWith('WATCHDOG=1')).length).toBe(fed);
  });
});
