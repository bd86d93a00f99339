/**
 * Tiled upscaling without a network: the layout covers every pixel, the feather weights
 * of neighbouring tiles sum to one, and with a pointwise "upscaler" (nearest neighbour,
 * which has no borders to get wrong) tiled and whole-image results are identical, so any
 * difference with a real network comes from the network's own border behaviour, never
 * from the blending.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { PlanarImage } from '../../server/image/planar-image.js';
import { featherWeights, tileCount, tileStarts, upscaleTiled, validateTiles } from '../../server/upscale/tiles.js';

function noise(width: number, height: number, seed = 1): PlanarImage {
  let s = seed;
  const data = new Float32Array(3 * width * height).map(() => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32));
  return { data, width, height };
}

/** Nearest-neighbour upscaling by `scale`: what every tile would do to its own pixels, border or not. */
function nearest(scale: number) {
  return async (img: PlanarImage): Promise<PlanarImage> => {
    const W = img.width * scale;
    const H = img.height * scale;
    const data = new Float32Array(3 * W * H);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) data[c * W * H + y * W + x] = img.data[c * img.width * img.height + Math.floor(y / scale) * img.width + Math.floor(x / scale)]!;
    return { data, width: W, height: H };
  };
}

describe('tile layout', () => {
  it('covers the axis with the overlap asked for, the last tile flush with the end', () => {
    expect(tileStarts(100, 32, 8)).toEqual([0, 24, 48, 68]);
    expect(tileStarts(32, 32, 8)).toEqual([0]);
    expect(tileStarts(20, 32, 8)).toEqual([0]);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 8, max: 128 }), fc.nat(64), (length, tile, o) => {
        const overlap = Math.min(o, Math.floor(tile / 2));
        const starts = tileStarts(length, tile, overlap);
        const span = Math.min(tile, length);
        expect(starts[0]).toBe(0);
        expect(starts.at(-1)! + span).toBe(length);
        for (let i = 1; i < starts.length; i++) {
          // neighbours overlap by at least `overlap` (more for the last, flush tile), never leave a gap
          expect(starts[i - 1]! + span - starts[i]!).toBeGreaterThanOrEqual(overlap);
          expect(starts[i]!).toBeGreaterThan(starts[i - 1]!);
        }
      }),
    );
  });

  it('counts tiles in both directions', () => {
    expect(tileCount(100, 32, { tile: 32, overlap: 8 })).toBe(4);
    expect(tileCount(1024, 1024, { tile: 192, overlap: 32 })).toBe(49);
  });

  it('refuses overlaps larger than half a tile', () => {
    expect(() => validateTiles({ tile: 32, overlap: 17 })).toThrow(/half the tile/);
    expect(() => validateTiles({ tile: 4, overlap: 0 })).toThrow(/at least 8/);
  });
});

describe('feather weights', () => {
  it('ignore the outer quarter of the overlap and crossfade over the middle half, summing to one', () => {
    for (const overlapOut of [8, 16, 30, 64]) {
      const length = 100;
      const a = featherWeights(length, overlapOut, false, true);
      const b = featherWeights(length, overlapOut, true, false);
      const margin = Math.floor(overlapOut / 4);
      expect(a[length - 1]).toBe(0);
      expect(a[length - margin]).toBe(0);
      expect(b[margin - 1] ?? 0).toBe(0);
      // tile B starts overlapOut pixels before tile A ends
      for (let k = 0; k < overlapOut; k++) expect(a[length - overlapOut + k]! + b[k]!).toBeCloseTo(1, 6);
      expect(a[0]).toBe(1); // image border: full weight
    }
  });
});

describe('upscaleTiled', () => {
  it('equals the whole-image result for a pointwise upscaler, for any tiling', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 9, max: 70 }), fc.integer({ min: 9, max: 70 }), fc.integer({ min: 8, max: 40 }), fc.nat(20), fc.constantFrom(2, 4), async (w, h, tile, o, scale) => {
        const overlap = Math.min(o, Math.floor(tile / 2));
        const img = noise(w, h, w * 100 + h);
        const whole = await nearest(scale)(img);
        const tiled = await upscaleTiled(img, scale, nearest(scale), { tile, overlap });
        expect(tiled.width).toBe(w * scale);
        expect(tiled.height).toBe(h * scale);
        let max = 0;
        for (let i = 0; i < whole.data.length; i++) max = Math.max(max, Math.abs(whole.data[i]! - tiled.data[i]!));
        expect(max).toBeLessThan(1e-6);
      }),
      { numRuns: 40 },
    );
  });

  it('reports every tile and refuses a tile that comes back the wrong size', async () => {
    const seen: number[] = [];
    await upscaleTiled(noise(40, 30), 2, nearest(2), { tile: 16, overlap: 4, onTile: (done, total) => seen.push(done / total) });
    expect(seen.at(-1)).toBe(1);
    expect(seen.length).toBe(tileCount(40, 30, { tile: 16, overlap: 4 }));
    await expect(upscaleTiled(noise(40, 30), 2, nearest(3), { tile: 16, overlap: 4 })).rejects.toThrow(/came back/);
  });

  it('blends away a border artefact that a plain grid would show as a seam', async () => {
    // An "upscaler" that darkens the outer ring of every tile it gets, like zero padding does.
    const ring = (scale: number, width: number) => async (img: PlanarImage) => {
      const out = await nearest(scale)(img);
      const W = out.width;
      const H = out.height;
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) if (x < width || y < width || x >= W - width || y >= H - width) out.data[c * W * H + y * W + x] = 0;
      return out;
    };
    const flat: PlanarImage = { data: new Float32Array(3 * 48 * 48).fill(0.5), width: 48, height: 48 };
    const tiled = await upscaleTiled(flat, 2, ring(2, 3), { tile: 24, overlap: 8 });
    // Inside the picture (away from its own border, which really is dark) every pixel is 0.5.
    const W = tiled.width;
    let worst = 0;
    for (let y = 3; y < W - 3; y++) for (let x = 3; x < W - 3; x++) worst = Math.max(worst, Math.abs(tiled.data[y * W + x]! - 0.5));
    expect(worst).toBeLessThan(1e-6);
  });
});
