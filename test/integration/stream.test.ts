/**
 * The real server on an ephemeral port, real socket.io clients, the real model:
 * frames arrive, change, follow the controller, and bad input changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { RunningServer } from '../../server/app.js';
import { connect, emitAck, nextFrames, startTestServer, type TestSocket } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

let server: RunningServer;
const sockets: TestSocket[] = [];
const open = async (role: string, opts?: { ack?: boolean }) => {
  const s = await connect(server, role, opts);
  sockets.push(s);
  return s;
};

beforeAll(async () => {
  server = await startTestServer({ frameSize: 128, fps: 20 });
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server?.close();
});

async function pixels(jpeg: Buffer) {
  return sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
}

describe('frame stream', () => {
  it('idles while no display is connected', async () => {
    const before = server.loop.frames;
    await new Promise((r) => setTimeout(r, 400));
    expect(server.loop.frames).toBe(before);
  });

  it('sends JPEG frames of the configured size that change over time', async () => {
    // a brisk walk, so a dozen frames show a visibly different face
    server.store.apply({ walk: { speed: 2 } }, 'http');
    const display = await open('display');
    const frames = await nextFrames(display, 12);
    const first = await pixels(frames[0]!.image);
    const last = await pixels(frames[11]!.image);
    expect(first.info).toMatchObject({ width: 128, height: 128, channels: 3 });
    expect(frames[0]!.meta).toMatchObject({ width: 128, height: 128, format: 'jpeg' });
    expect(frames[11]!.meta.frame).toBeGreaterThan(frames[0]!.meta.frame);
    let diff = 0;
    for (let i = 0; i < first.data.length; i++) diff += Math.abs(first.data[i]! - last.data[i]!);
    expect(diff / first.data.length).toBeGreaterThan(0.5);
    // not a blank picture
    const mean = first.data.reduce((s, v) => s + v, 0) / first.data.length;
    const sd = Math.sqrt(first.data.reduce((s, v) => s + (v - mean) ** 2, 0) / first.data.length);
    expect(sd).toBeGreaterThan(10);
    display.disconnect();
  });

  it('a controller command changes the stream', async () => {
    const display = await open('display');
    const controller = await open('controller');
    const [before] = await nextFrames(display, 1);
    const ack = await emitAck(controller, 'command', { type: 'newFace' });
    expect(ack.ok).toBe(true);
    const version = ack.ok ? ack.version : -1;
    const after = await nextFrames(display, 8);
    const reflecting = after.filter((f) => f.meta.stateVersion >= version);
    expect(reflecting.length).toBeGreaterThan(0);
    expect(reflecting[0]!.meta.seeds).not.toEqual(before!.meta.seeds);
    expect(server.store.state.walk.seed).not.toBe(before!.meta.seeds[0]);
    display.disconnect();
    controller.disconnect();
  });

  it('a slow display gets the newest frame, never a queue', async () => {
    const slow = await open('display', { ack: false });
    const received: { frame: number; ack: () => void }[] = [];
    slow.on('frame', (meta, _img, ack) => received.push({ frame: meta.frame, ack }));
    // (The first frame after an idle spell may take a while on a busy machine: wait for it, then watch.)
    await waitUntil('the first frame arrives', () => received.length >= 1, 10_000, 20);
    await new Promise((r) => setTimeout(r, 1000));
    // one frame in flight, nothing more until it is acknowledged
    expect(received.length).toBe(1);
    const produced = server.loop.frames;
    received[0]!.ack();
    await waitUntil('the next frame arrives after the acknowledgement', () => received.length >= 2, 5000, 20);
    expect(received.length).toBe(2);
    // the second frame is the newest one made while waiting, not the one after the first
    expect(received[1]!.frame).toBeGreaterThanOrEqual(produced - 1);
    // frames made while waiting were dropped, not queued
    expect(produced - received[0]!.frame).toBeGreaterThan(2);
    expect(received[1]!.frame - received[0]!.frame).toBeGreaterThan(1);
    slow.disconnect();
  });
});

describe('bad input', () => {
  it('refuses invalid events with an error acknowledgement and changes nothing', async () => {
    const controller = await open('controller');
    const before = structuredClone(server.store.state);
    const version = server.store.version;
    for (const bad of [{ walk: { speed: 'fast' } }, { walk: { speed: -1 } }, 'x', null, 42, [], { nope: 1 }, { mode: 'x' }]) {
      const ack = await emitAck(controller, 'patch', bad);
      expect(ack.ok).toBe(false);
    }
    expect((await emitAck(controller, 'command', { type: 'launch' })).ok).toBe(false);
    expect(server.store.state).toEqual(before);
    expect(server.store.version).toBe(version);
  });

  it('survives events without callbacks, unknown events and huge payloads', async () => {
    const controller = await open('controller');
    const raw = controller as unknown as { emit: (...a: unknown[]) => void };
    raw.emit('patch', { walk: { speed: 'x' } }); // no ack function
    raw.emit('patch', { walk: { speed: 0.2 } }, 'not a function');
    raw.emit('command');
    raw.emit('no-such-event', 1, 2, 3);
    raw.emit('patch', { walk: { seed: 1 }, junk: 'x'.repeat(200_000) }); // over the size limit: socket is dropped
    await new Promise((r) => setTimeout(r, 300));
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
  });

  it('a display may not steer, and an unknown role is refused at the handshake', async () => {
    const display = await open('display');
    const ack = await emitAck(display, 'patch', { walk: { speed: 1 } });
    expect(ack.ok).toBe(false);
    await expect(connect(server, 'hacker')).rejects.toThrow(/role/);
    display.disconnect();
  });
});

describe('HTTP', () => {
  it('GET /health reports model, provider, fps and clients', async () => {
    const body = (await (await fetch(`${server.url}/health`)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', model: 'default-face', provider: 'cpu' });
    for (const key of ['fps', 'displays', 'controllers', 'uptime']) expect(typeof body[key]).toBe('number');
  });

  it('PATCH /api/state validates like the socket does', async () => {
    const bad = await fetch(`${server.url}/api/state`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"walk":{"speed":"x"}}' });
    expect(bad.status).toBe(400);
    const broken = await fetch(`${server.url}/api/state`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{oops' });
    expect(broken.status).toBe(400);
    const good = await fetch(`${server.url}/api/state`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"walk":{"speed":0.3}}' });
    expect(good.status).toBe(200);
    expect(server.store.state.walk.speed).toBe(0.3);
  });
});
