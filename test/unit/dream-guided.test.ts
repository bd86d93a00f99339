/**
 * Guided dreaming on the shipped Darknet tiny (DreamNet.openGuided): dreaming a picture
 * toward a guide raises its match to that guide's features, and more than dreaming the same
 * picture toward a different guide does. A guide that pulled toward nothing in particular
 * would fail the second check.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import { planarToSharp, readPlanar } from '../../server/image/planar.js';
import { splitmix32 } from '../../common/random.js';
import { ROOT_DIR } from '../../server/config.js';
import { pictureBasis } from '../../server/dream/colour.js';
import { dreamStep, noiseImage } from '../../server/dream/engine.js';
import { DreamNet } from '../../server/dream/net.js';
import { DreamCatalogue } from '../../server/dream/styles.js';
import { readManifest } from '../../server/models/registry.js';
import type { PlanarImage } from '../../server/image/planar-image.js';

const SIZE = 96;

/** Stripes (vertical or horizontal), black on white: two guides with plainly different features. */
function stripes(vertical: boolean): PlanarImage {
  const data = new Float32Array(3 * SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) data[c * SIZE * SIZE + y * SIZE + x] = ((vertical ? x : y) % 12 < 6 ? 0.9 : 0.1);
  return { data, width: SIZE, height: SIZE };
}

let toVertical: DreamNet;
let toHorizontal: DreamNet;

beforeAll(async () => {
  const dir = join(ROOT_DIR, 'models', 'darknet-tiny');
  const catalogue = new DreamCatalogue('darknet-tiny', dir, await readManifest(dir));
  const spec = catalogue.guide('').spec;
  [toVertical, toHorizontal] = await Promise.all([DreamNet.openGuided(spec, stripes(true), 'cpu'), DreamNet.openGuided(spec, stripes(false), 'cpu')]);
});

afterAll(async () => {
  await Promise.all([toVertical?.dispose(), toHorizontal?.dispose()]);
});

async function dream(net: DreamNet, start: PlanarImage, steps: number): Promise<PlanarImage> {
  const random = splitmix32(5);
  const shape = { colour: pictureBasis(start), pyramid: 3 };
  let img = start;
  for (let i = 0; i < steps; i++) img = (await dreamStep(net, img, 2, 4, random, shape)).image;
  return img;
}

describe('guided dreaming', () => {
  it('draws a picture toward its guide, not toward any guide', async () => {
    const start = noiseImage(SIZE, SIZE, 3, 0.15);
    const dreamed = { vertical: await dream(toVertical, start, 12), horizontal: await dream(toHorizontal, start, 12) };
    const match = async (img: PlanarImage) => ({ vertical: (await toVertical.gradient(img)).objective, horizontal: (await toHorizontal.gradient(img)).objective });
    const before = await match(start);
    const v = await match(dreamed.vertical);
    const h = await match(dreamed.horizontal);
    console.log(
      `guided (match to vertical / horizontal stripes): start ${before.vertical.toFixed(2)} / ${before.horizontal.toFixed(2)}, ` +
        `dreamed toward vertical ${v.vertical.toFixed(2)} / ${v.horizontal.toFixed(2)}, toward horizontal ${h.vertical.toFixed(2)} / ${h.horizontal.toFixed(2)}`,
    );
    // Dreaming raises the match to its own guide...
    expect(v.vertical).toBeGreaterThan(before.vertical * 1.3);
    expect(h.horizontal).toBeGreaterThan(before.horizontal * 1.3);
    // ...and leans toward it: each result matches its own guide better, relative to the other
    // guide, than the other result does (a ratio, since any dreaming makes features stronger).
    expect(v.vertical / v.horizontal).toBeGreaterThan((h.vertical / h.horizontal) * 1.1);
  });

  it('names the valid layers for an unknown guide layer', async () => {
    const dir = join(ROOT_DIR, 'models', 'darknet-tiny');
    const catalogue = new DreamCatalogue('darknet-tiny', dir, await readManifest(dir));
    expect(() => catalogue.guide('nonsense')).toThrow(/layers: grid, hatching/);
    expect(catalogue.guide('irises').spec.objective).toEqual({ kind: 'guide', tensor: 'leaky_re_lu_8' });
    expect(catalogue.guide('eyes').name).toBe(catalogue.guide('').name);
  });

  it('portraits dream --guide dreams a picture toward a guide file, and refuses --guide with --class', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portraits-guided-cli-'));
    const write = (name: string, img: PlanarImage) => planarToSharp(img).png().toFile(join(dir, name));
    await write('in.png', noiseImage(64, 64, 9, 0.2));
    await write('guide.png', stripes(true));
    const out = join(dir, 'out.png');
    const quiet = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['dream', '--in', join(dir, 'in.png'), '--guide', join(dir, 'guide.png'), '--out', out, '--octaves', '1', '--iterations', '3'])).toBe(0);
      expect(await main(['dream', '--in', join(dir, 'in.png'), '--guide', join(dir, 'guide.png'), '--class', 'banana', '--out', out])).toBe(2);
      expect(await main(['dream', '--in', join(dir, 'in.png'), '--guide', join(dir, 'guide.png'), '--layer', 'nonsense', '--out', join(dir, 'x.png')])).toBe(2);
    } finally {
      quiet.mockRestore();
    }
    const [a, b] = await Promise.all([readPlanar(join(dir, 'in.png')), readPlanar(out)]);
    let diff = 0;
    for (let i = 0; i < a.data.length; i++) diff += Math.abs(a.data[i]! - b.data[i]!);
    expect((255 * diff) / a.data.length).toBeGreaterThan(2);
  }, 60_000);
});
