/** The live dream pass on the real server: a tiny generator and a tiny dream network; guided mode and its uploads. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { RunningServer } from '../../server/app.js';
import { tinyModelsDir } from '../support/tiny-generator.js';
import { writeTinyDreamNet } from '../support/tiny-dream-net.js';
import { connect, nextFrames, startTestServer, type TestSocket, type ReceivedFrame } from '../support/server.js';

const ADMIN = 'dream-live-admin-token';
let server: RunningServer;
let display: TestSocket;

beforeAll(async () => {
  const modelsDir = await tinyModelsDir();
  await writeTinyDreamNet(modelsDir);
  server = await startTestServer({
    modelsDir,
    dreamModel: 'tiny-critic',
    dreamSize: 64,
    frameSize: 64,
    fps: 15,
    oscPort: 'off',
    adminToken: ADMIN,
    guidesDir: await mkdtemp(join(tmpdir(), 'portraits-guides-')),
  });
  display = await connect(server, 'display');
});

afterAll(async () => {
  display?.disconnect();
  await server?.close();
});

async function meanAbsDiff(a: ReceivedFrame, b: ReceivedFrame): Promise<number> {
  const [x, y] = await Promise.all([sharp(a.image).raw().toBuffer(), sharp(b.image).raw().toBuffer()]);
  let d = 0;
  for (let i = 0; i < x.length; i++) d += Math.abs(x[i]! - y[i]!);
  return d / x.length;
}

/** Frames made after the state change with version `v` (the chain may hold one older frame). */
async function framesAfter(v: number, n: number): Promise<ReceivedFrame[]> {
  for (let tries = 0; tries < 200; tries++) {
    const [f] = await nextFrames(display, 1);
    if (f!.meta.stateVersion >= v) return n > 1 ? [f!, ...(await nextFrames(display, n - 1))] : [f!];
  }
  throw new Error('no frame reflected the change');
}

describe('live dream pass', () => {
  it('refuses an unknown style and keeps dreaming off by default', async () => {
    const ack = server.store.apply({ dream: { style: 'nonsense' } }, 'http');
    expect(ack).toMatchObject({ ok: false, error: expect.stringContaining('strokes, shapes') });
    const [f] = await nextFrames(display, 1);
    expect(f!.meta.dream).toBeUndefined();
  });

  it('gentle mode changes a held face, and off brings it back', async () => {
    // the upscaler's automatic choice follows the machine's load; pin it so frames compare
    const hold = server.store.apply({ mode: 'seed', seed: 9, glide: 0, dream: { mode: 'off' }, upscale: { mode: 'off' } }, 'http');
    const [plain] = await framesAfter(hold.ok ? hold.version : 0, 2);
    const on = server.store.apply({ dream: { mode: 'gentle', style: 'shapes', strength: 1 } }, 'http');
    expect(on.ok).toBe(true);
    await server.loop.stop(); // let the style compile without racing frames, then go on
    server.loop.start();
    const dreamed = await framesAfter(on.ok ? on.version : 0, 12);
    const last = dreamed[dreamed.length - 1]!;
    expect(last.meta.dream).toEqual({ mode: 'gentle', style: 'shapes' });
    expect(await meanAbsDiff(plain!, last)).toBeGreaterThan(2);
    const off = server.store.apply({ dream: { mode: 'off' } }, 'http');
    const [back] = await framesAfter(off.ok ? off.version : 0, 1);
    expect(await meanAbsDiff(plain!, back!)).toBeLessThan(1);
  });

  it('zoom mode keeps evolving while the face holds still', async () => {
    const v = server.store.apply({ mode: 'seed', seed: 9, glide: 0, dream: { mode: 'zoom', style: 'strokes', strength: 1 } }, 'http');
    const frames = await framesAfter(v.ok ? v.version : 0, 10);
    const withDream = frames.filter((f) => f.meta.dream?.mode === 'zoom');
    expect(withDream.length).toBeGreaterThan(3);
    expect(await meanAbsDiff(withDream[0]!, withDream[withDream.length - 1]!)).toBeGreaterThan(1);
  });

  it('guided mode draws toward an uploaded picture; uploads are the administrator\'s, checked and listed', async () => {
    const put = (name: string, body: Buffer, token?: string) =>
      fetch(`${server.url}/api/guides/${name}`, { method: 'PUT', body: new Uint8Array(body), headers: { 'content-type': 'image/png', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    // Vertical stripes: a guide whose features differ from a face's.
    const stripes = await sharp(Buffer.from(Array.from({ length: 96 * 96 * 3 }, (_, i) => (Math.floor(i / 3) % 96) % 12 < 6 ? 240 : 20)), { raw: { width: 96, height: 96, channels: 3 } }).png().toBuffer();
    expect((await put('stripes', stripes)).status).toBe(401);
    const notPicture = await put('stripes', Buffer.from('not a picture'), ADMIN);
    expect(notPicture.status).toBe(400);
    expect((await put('bad%20name', stripes, ADMIN)).status).toBe(400);
    const stored = await put('stripes', stripes, ADMIN);
    expect(stored.status).toBe(200);
    expect(await stored.json()).toMatchObject({ ok: true, name: 'stripes', width: 96, height: 96 });
    expect(await (await fetch(`${server.url}/api/guides`)).json()).toEqual({ ok: true, guides: ['stripes'] });
    expect((await fetch(`${server.url}/api/guides/stripes`)).headers.get('content-type')).toMatch(/png/);

    // A missing guide is refused with the reason; an uploaded one is dreamed toward.
    const missing = server.store.apply({ dream: { mode: 'guided', guideFrom: 'upload', guideName: 'nowhere' } }, 'http');
    expect(missing).toMatchObject({ ok: false, error: expect.stringContaining("no uploaded guide named 'nowhere'") });
    const hold = server.store.apply({ mode: 'seed', seed: 9, glide: 0, dream: { mode: 'off' }, upscale: { mode: 'off' } }, 'http');
    const [plain] = await framesAfter(hold.ok ? hold.version : 0, 2);
    const on = server.store.apply({ dream: { mode: 'guided', guideFrom: 'upload', guideName: 'stripes', style: 'shapes', strength: 1 } }, 'http');
    expect(on.ok).toBe(true);
    const guided = (await framesAfter(on.ok ? on.version : 0, 30)).filter((f) => f.meta.dream?.mode === 'guided');
    expect(guided.length).toBeGreaterThan(3);
    expect(await meanAbsDiff(plain!, guided.at(-1)!)).toBeGreaterThan(2);

    // A seed's portrait as the guide needs no upload.
    const seedGuide = server.store.apply({ dream: { guideFrom: 'seed', guideSeed: 3 } }, 'http');
    expect(seedGuide.ok).toBe(true);
    const bySeed = (await framesAfter(seedGuide.ok ? seedGuide.version : 0, 30)).filter((f) => f.meta.dream?.mode === 'guided');
    expect(bySeed.length).toBeGreaterThan(3);
    expect((await fetch(`${server.url}/api/guides/stripes`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
    expect(await (await fetch(`${server.url}/api/guides`)).json()).toEqual({ ok: true, guides: [] });
    server.store.apply({ dream: { mode: 'off' } }, 'http');
  });
});
