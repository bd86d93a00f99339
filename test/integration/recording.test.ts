/**
 * Live recording on the real server: the administrator (HTTP) and the VJ (OSC) start and
 * stop it; ffprobe reads the file; a recorded frame is the deterministic offline render
 * of the same state (seed mode, no glide); and stopping the server, SIGTERM to the
 * server process, or ffmpeg dying outright all leave a playable file. The disk-space
 * floor refuses a start and ends a recording cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameMeta } from '../../common/frame.js';
import type { RunningServer } from '../../server/app.js';
import { LiveRecorder, type RecordingStatus } from '../../server/recording/recorder.js';
import { OfflineRenderer } from '../../server/render/offline.js';
import { OSC, OscPeer } from './osc-support.js';
import { connect, nextFrames, startTestServer, type TestSocket } from '../support/server.js';
import { tinyModelsDir } from '../support/tiny-generator.js';
import { decodeFrames, haveFfmpeg, meanAbsDiff, probe } from './video-support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'recording-test-token';
const SIZE = 96;
const FPS = 15;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tempDir = (name: string) => mkdtemp(join(tmpdir(), `portraits-${name}-`));

const ffmpeg = haveFfmpeg();

let modelsDir: string;
const servers: RunningServer[] = [];
const sockets: TestSocket[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  modelsDir = await tinyModelsDir();
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.allSettled(servers.map((s) => s.close()));
});

async function start(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<{ server: RunningServer; dir: string }> {
  const dir = join(await tempDir('recordings'), 'recordings');
  const server = await startTestServer({ modelsDir, frameSize: SIZE, fps: FPS, upscaler: 'off', recordingsDir: dir, presetsDir: await tempDir('presets'), adminToken: TOKEN, ...overrides });
  servers.push(server);
  return { server, dir };
}

async function api(server: { url: string }, method: string, path: string, opts: { token?: string | null; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.url + path, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  return { status: res.status, body: (await res.json()) as { ok: boolean; error?: string; status: RecordingStatus; recording?: { file: string; frames: number; seconds: number; error?: string } } };
}

/** Sets the state and waits until a display has been sent a frame that shows it. */
async function show(server: RunningServer, display: TestSocket, patch: object): Promise<void> {
  const res = await api(server, 'PATCH', '/api/state', { body: patch });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const version = (res.body as unknown as { version: number }).version;
  for (let i = 0; i < 100; i++) {
    const [frame] = await nextFrames(display, 1);
    if (frame!.meta.stateVersion >= version) return;
  }
  throw new Error('no frame showed the new state');
}

/** The offline renderer's frame of one seed at the display size: what the live path must show in seed mode. */
async function offlineFrame(seed: number): Promise<Buffer> {
  const renderer = await OfflineRenderer.open({ modelsDir, model: 'default-face', dreamModel: '', provider: 'cpu' }, { seeds: [seed], seconds: 1 / FPS, fps: FPS, size: SIZE, loop: false, upscale: 'off' });
  try {
    for await (const frame of renderer.render()) return frame.rgb;
    throw new Error('no frame rendered');
  } finally {
    await renderer.dispose();
  }
}

describe.skipIf(!ffmpeg)('live recording', () => {
  it('the administrator records what the displays show, and a recorded frame is the offline render of that state', async () => {
    const { server, dir } = await start();
    const display = await connect(server, 'display');
    sockets.push(display);
    await show(server, display, { mode: 'seed', seed: 1234, glide: 0 });

    const started = await api(server, 'POST', '/api/recording/start');
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.status).toMatchObject({ recording: true, startedBy: expect.stringMatching(/^http:/) });
    expect(dirname(started.body.status.file!)).toBe(dir);
    expect((await api(server, 'GET', '/api/recording/status')).body.status.recording).toBe(true);
    await sleep(2500);
    const stopped = await api(server, 'POST', '/api/recording/stop');
    expect(stopped.status, JSON.stringify(stopped.body)).toBe(200);
    const rec = stopped.body.recording!;
    expect(rec.file).toBe(started.body.status.file);
    expect(stopped.body.status.recording).toBe(false);
    expect(stopped.body.status.last).toMatchObject({ file: rec.file, stoppedBecause: 'stopped by the administrator' });
    // Real time: about as long as it ran (the frames in between were repeated or dropped to the video's rate).
    expect(rec.seconds).toBeGreaterThan(1.5);
    expect(rec.seconds).toBeLessThan(3.5);

    const p = await probe(rec.file);
    expect(p).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width: SIZE, height: SIZE, frames: rec.frames, frameRate: `${FPS}/1` });
    expect(p.duration).toBeCloseTo(rec.seconds, 1);

    const frames = await decodeFrames(rec.file, SIZE, SIZE);
    const recorded = frames[frames.length - 1]!;
    const expected = await offlineFrame(1234);
    // The tolerance: what the displays' JPEG (quality 85) already loses, plus a little for H.264.
    const jpeg = await sharp(expected, { raw: { width: SIZE, height: SIZE, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    const jpegLoss = meanAbsDiff(await sharp(jpeg).raw().toBuffer(), expected);
    const same = meanAbsDiff(recorded, expected);
    const other = meanAbsDiff(recorded, await offlineFrame(1235));
    expect(same).toBeLessThan(jpegLoss + 2);
    // Another face is far away.
    expect(other).toBeGreaterThan(10 * same);
  });

  it('is for the administrator only, one recording at a time', async () => {
    const { server, dir } = await start();
    expect((await api(server, 'POST', '/api/recording/start', { token: null })).status).toBe(401);
    expect((await api(server, 'GET', '/api/recording/status', { token: null })).status).toBe(401);
    expect((await api(server, 'POST', '/api/recording/start', { token: 'not-the-right-token' })).status).toBe(403);
    expect(existsSync(dir)).toBe(false);

    const idle = await api(server, 'POST', '/api/recording/stop');
    expect(idle.status).toBe(409);
    expect(idle.body.error).toMatch(/not recording/);
    expect((await api(server, 'POST', '/api/recording/start')).status).toBe(200);
    const again = await api(server, 'POST', '/api/recording/start');
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/already recording/);
    // No display is connected: the recording keeps frames coming by itself.
    await sleep(1000);
    const stopped = await api(server, 'POST', '/api/recording/stop');
    expect(stopped.status, JSON.stringify(stopped.body)).toBe(200);
    expect(stopped.body.recording!.frames).toBeGreaterThan(0);
    expect(await readdir(dir)).toHaveLength(1);
  });

  it('refuses to start below the free-space floor (507) and writes nothing', async () => {
    const { server, dir } = await start({ minFreeBytes: 10 ** 15 });
    const res = await api(server, 'POST', '/api/recording/start');
    expect(res.status).toBe(507);
    expect(res.body.error).toMatch(/below the floor of 1000 TB \(minFreeBytes\)/);
    expect(res.body.status.recording).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('the VJ starts and stops it over OSC', async () => {
    const { server, dir } = await start({ oscPort: 0 });
    const peer = await OscPeer.open();
    try {
      await peer.send(server.osc!.port, new OSC.Message('/portraits/record/start'));
      const on = await peer.waitFor('/portraits/record/status', 10_000);
      expect(on.args[0]).toBe(true);
      expect(dirname(String(on.args[1]))).toBe(dir);
      expect(server.recorder.status()).toMatchObject({ recording: true, startedBy: expect.stringMatching(/^osc:/) });
      // A second start is refused with the reason.
      await peer.send(server.osc!.port, new OSC.Message('/portraits/record/start'));
      expect(String((await peer.waitFor('/portraits/error', 5000)).args[0])).toMatch(/already recording/);
      await sleep(1000);
      const from = peer.received.length;
      // A button's release (0) is ignored; the press (1) stops.
      await peer.send(server.osc!.port, new OSC.Message('/portraits/record/stop', 0));
      await sleep(300);
      expect(server.recorder.active).toBe(true);
      await peer.send(server.osc!.port, new OSC.Message('/portraits/record/stop', 1));
      const off = await peer.waitFor('/portraits/record/status', 10_000, from);
      expect(off.args).toEqual([false, on.args[1]]);
      const p = await probe(String(off.args[1]));
      expect(p.frames).toBeGreaterThan(0);
    } finally {
      peer.close();
    }
  });

  it('server.close() mid-recording finishes the file', async () => {
    const { server } = await start();
    const { status } = (await api(server, 'POST', '/api/recording/start')).body;
    await sleep(1500);
    await server.close();
    expect(server.recorder.status().last).toMatchObject({ file: status.file, stoppedBecause: 'server stopped' });
    expect(server.recorder.status().last!.error).toBeUndefined();
    const p = await probe(status.file!);
    expect(p.frames).toBe(server.recorder.status().last!.frames);
    expect(p.duration).toBeGreaterThan(1);
  });

  it('SIGTERM to the server process mid-recording leaves a finished, playable file', async () => {
    const dir = join(await tempDir('recordings'), 'recordings');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'server/main.ts', '--port', '0', '--host', '127.0.0.1', '--osc-port', 'off', '--models-dir', modelsDir, '--frame-size', String(SIZE), '--fps', String(FPS), '--upscaler', 'off', '--recordings-dir', dir],
      { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'error', PORTRAITS_ADMIN_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const deadline = Date.now() + 120_000;
    let url: string | null = null;
    while (!url) {
      if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${out}`);
      if (Date.now() > deadline) throw new Error(`server did not start in 120 s: ${out}`);
      url = /health: +(http:\/\/\S+)\/health/.exec(out)?.[1] ?? null;
      await sleep(50);
    }
    const started = await api({ url }, 'POST', '/api/recording/start');
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    await sleep(2000);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const p = await probe(started.body.status.file!);
    expect(p).toMatchObject({ codec: 'h264', width: SIZE, height: SIZE });
    expect(p.frames).toBeGreaterThan(FPS);
  });

  it('a file whose ffmpeg was killed outright (a power cut) still plays up to its last fragment', async () => {
    const { server } = await start();
    const { status } = (await api(server, 'POST', '/api/recording/start')).body;
    // Fragments are two seconds long: after five, at least two are on disk.
    await sleep(5000);
    process.kill(status.pid!, 'SIGKILL');
    for (let i = 0; i < 100 && !server.recorder.status().last; i++) await sleep(50);
    expect(server.recorder.active).toBe(false);
    expect(server.recorder.status().last).toMatchObject({ file: status.file, stoppedBecause: 'ffmpeg stopped', error: expect.stringMatching(/SIGKILL/) });
    const p = await probe(status.file!);
    expect(p.frames).toBeGreaterThanOrEqual(2 * FPS);
    expect(p.width).toBe(SIZE);
  });
});

describe.skipIf(!ffmpeg)('recorder disk guard', () => {
  it('stops cleanly, with a finished file, when free space falls below the floor', async () => {
    const dir = join(await tempDir('recordings'), 'recordings');
    const opts = { dir, fps: 10, minFreeBytes: 0, checkEveryMs: 100 };
    const recorder = new LiveRecorder(opts);
    const jpeg = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#468' } }).jpeg().toBuffer();
    const meta = (frame: number): FrameMeta => ({ frame, serverTime: Date.now(), stateVersion: 0, mode: 'seed', seeds: [0, 0], t: 0, width: 32, height: 32, format: 'jpeg', timings: {} });
    await recorder.start('test');
    for (let i = 0; i < 10; i++) {
      recorder.offer(meta(i), jpeg);
      await sleep(100);
    }
    // The disk "fills up": the floor is now above what is free.
    opts.minFreeBytes = 10 ** 15;
    for (let i = 0; i < 100 && !recorder.status().last; i++) await sleep(100);
    expect(recorder.active).toBe(false);
    const last = recorder.status().last!;
    expect(last.stoppedBecause).toMatch(/^disk space low/);
    expect(last.error).toBeUndefined();
    const p = await probe(last.file);
    expect(p.frames).toBe(last.frames);
    expect(p.frames).toBeGreaterThanOrEqual(9);
  });
});
