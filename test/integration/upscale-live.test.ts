/**
 * The upscale stage live: on its own with a real store (forced modes, and 'auto' picking
 * by the time the frame leaves), then in the real server, where the display receives the
 * configured size whatever the mode, and ESRGAN frames differ from plain resized ones.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { ROOT_DIR } from '../../server/config.js';
import { fixedSnapshot, type FrameJob } from '../../server/stages/stage.js';
import type { PlanarImage } from '../../server/image/planar-image.js';
import { UpscaleStage } from '../../server/stages/upscale.js';
import { Store } from '../../server/store.js';
import { planName } from '../../server/upscale/plan.js';
import { connect, nextFrames, startTestServer, type ReceivedFrame, type TestSocket } from '../support/server.js';

const cacheDir = join(ROOT_DIR, 'models/.converted');

function job(image: PlanarImage, timings: Record<string, number> = {}, mode: 'x2' | 'x4' | 'off' | 'auto' = 'auto'): FrameJob {
  return { image, snapshot: fixedSnapshot({ upscale: { mode } }), meta: { frame: 1, serverTime: 0, stateVersion: 0, mode: 'seed', seeds: [1, 1], t: 0, width: image.width, height: image.height, format: 'jpeg', timings: { ...timings } } };
}

function grey(size: number): PlanarImage {
  const data = new Float32Array(3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 37) % 101) / 100;
  return { data, width: size, height: size };
}

describe('UpscaleStage', () => {
  // A 10 s frame period: the stage's own measurements decide, whatever this machine's speed.
  const stage = new UpscaleStage({ family: 'esrgan-slim', cacheDir, provider: 'cpu', fps: 0.1, budget: 0.9, frameSize: 256, measureSize: 64, probeEveryMs: 0 });
  beforeAll(async () => {
    await stage.init();
    expect(stage.problem).toBeNull();
  }, 180_000);
  afterAll(async () => {
    await stage.dispose();
  });

  it('runs the forced modes: x2, x4 and off', async () => {
    for (const [mode, side] of [['x2', 128], ['x4', 256], ['off', 64]] as const) {
      const j = job(grey(64), {}, mode);
      await stage.run(j);
      expect([j.image!.width, j.image!.height, j.meta.width]).toEqual([side, side, side]);
    }
  });

  it("'auto' takes the largest pass that fits what the other stages leave, and none when nothing fits", async () => {
    const x4 = stage.costs.estimate([4], 64)!;
    const x2 = stage.costs.estimate([2], 64)!;
    expect(x4).toBeGreaterThan(0);
    // Plenty of time: x4 reaches the 256 px display.
    const roomy = job(grey(64), { generate: 1 });
    await stage.run(roomy);
    expect(planName(stage.autoChoice!)).toBe('x4');
    expect(roomy.image!.width).toBe(256);
    // The other stages leave a fifth of the cheapest pass: nothing is upscaled.
    const busy = job(grey(64), { generate: 9000 - x2 / 5 });
    await stage.run(busy);
    expect(planName(stage.autoChoice!)).toBe('off');
    expect(busy.image!.width).toBe(64);
    // A 128 px picture (the dream's size) needs only x2 for a 256 px display.
    const dreamed = job(grey(128), { generate: 1 });
    await stage.run(dreamed);
    expect(planName(stage.autoChoice!)).toBe('x2');
    expect(dreamed.image!.width).toBe(256);
  }, 60_000);
});

describe('upscaling in the live server', () => {
  let server: RunningServer;
  let display: TestSocket;
  beforeAll(async () => {
    server = await startTestServer({ frameSize: 256, fps: 5, oscPort: 'off', upscaleCacheDir: cacheDir });
    display = await connect(server, 'display');
  }, 180_000);
  afterAll(async () => {
    display?.disconnect();
    await server?.close();
  });

  async function frameAfter(patch: object): Promise<ReceivedFrame> {
    const ack = server.store.apply(patch, 'http');
    if (!ack.ok) throw new Error(ack.error);
    for (let tries = 0; tries < 100; tries++) {
      const [f] = await nextFrames(display, 1, 60_000);
      if (f!.meta.stateVersion >= ack.version) return f!;
    }
    throw new Error('no frame reflected the change');
  }

  it('sends the configured size in every mode, with ESRGAN detail when upscaling', async () => {
    const hold = { mode: 'seed', seed: 42, glide: 0 };
    const off = await frameAfter({ ...hold, upscale: { mode: 'off' } });
    const x4 = await frameAfter({ upscale: { mode: 'x4' } });
    const x2 = await frameAfter({ upscale: { mode: 'x2' } });
    const frames = [off, x4, x2];
    for (const f of frames) {
      const meta = await sharp(f.image).metadata();
      expect([meta.width, meta.height, f.meta.width, f.meta.height]).toEqual([256, 256, 256, 256]);
      expect(f.meta.timings).toHaveProperty('upscale');
    }
    const [a, b] = await Promise.all([sharp(off.image).raw().toBuffer(), sharp(x4.image).raw().toBuffer()]);
    let d = 0;
    for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
    console.log(`x4 vs off (Lanczos from 64 px): mean abs difference ${(d / a.length).toFixed(2)} grey levels`);
    // Same face, different painter: ESRGAN's edges and texture against Lanczos' blur.
    expect(d / a.length).toBeGreaterThan(0.5);
    expect(server.loop.stageMs()).toHaveProperty('upscale');
  }, 180_000);
});
