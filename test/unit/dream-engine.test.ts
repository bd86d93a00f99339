import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dreamImage, noiseImage, roll } from '../../server/dream/engine.js';
import { ImageOps } from '../../server/dream/image-ops.js';
import { DreamNet } from '../../server/dream/net.js';
import { readManifest, dreamSpec } from '../../server/models/registry.js';
import { writeTinyDreamNet } from '../support/tiny-dream-net.js';

let ops: ImageOps;
let net: DreamNet;

beforeAll(async () => {
  const dir = await writeTinyDreamNet(await mkdtemp(join(tmpdir(), 'dream-')));
  const manifest = await readManifest(dir);
  net = await DreamNet.open(dreamSpec(dir, manifest, 'high'), 'cpu');
  ops = await ImageOps.create();
});

afterAll(async () => {
  await net?.dispose();
  await ops?.dispose();
});

describe('dream engine', () => {
  it('roll is a circular shift that undoes itself', () => {
    const img = noiseImage(7, 5, 3);
    const back = roll(roll(img, 3, -2), -3, 2);
    expect(Array.from(back.data)).toEqual(Array.from(img.data));
    const once = roll(img, 1, 0);
    expect(once.data[1]).toBe(img.data[0]);
  });

  it('dreaming raises the objective, stays in range and keeps the size', async () => {
    const base = noiseImage(48, 40, 1);
    const before = (await net.gradient(base)).objective;
    const seen: number[] = [];
    const out = await dreamImage(net, ops, base, { octaves: 3, octaveScale: 1.4, iterations: 5, step: 3, jitter: 4, seed: 1, keepColours: false, pyramid: 3 }, (p) => seen.push(p.objective));
    const after = (await net.gradient(out)).objective;
    expect(out.width).toBe(48);
    expect(out.height).toBe(40);
    expect(after).toBeGreaterThan(before * 1.2);
    expect(seen).toHaveLength(15);
    expect(Math.min(...out.data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...out.data)).toBeLessThanOrEqual(1);
  });

  it('is deterministic for the same seed, and the seed matters', async () => {
    const base = noiseImage(32, 32, 2);
    const s = { octaves: 2, octaveScale: 1.4, iterations: 3, step: 2, jitter: 4, seed: 5, keepColours: true, pyramid: 3 };
    const a = await dreamImage(net, ops, base, s);
    const b = await dreamImage(net, ops, base, s);
    const c = await dreamImage(net, ops, base, { ...s, seed: 6 });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
  });

  it('zooms and rotates with the ONNX warp', async () => {
    const base = noiseImage(32, 32, 3);
    const same = await ops.zoomRotate(base, 1, 0);
    let err = 0;
    for (let i = 0; i < base.data.length; i++) err = Math.max(err, Math.abs(same.data[i]! - base.data[i]!));
    expect(err).toBeLessThan(1e-5);
    const zoomed = await ops.zoomRotate(base, 1.5, 0.1);
    expect(zoomed.data.length).toBe(base.data.length);
    expect(Array.from(zoomed.data)).not.toEqual(Array.from(base.data));
  });
});
