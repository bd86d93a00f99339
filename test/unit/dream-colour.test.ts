/** The dream's colour handling (server/dream/colour.ts) and pyramid normalisation (server/dream/pyramid.ts). */
import { describe, expect, it } from 'vitest';
import { splitmix32 } from '../../common/random.js';
import { colourBasis, colourPreconditioner, colourStats, holdColours, pictureBasis, symmetricEigen, type Mat3 } from '../../server/dream/colour.js';
import { shapeGradient } from '../../server/dream/engine.js';
import { laplacianNormalise } from '../../server/dream/pyramid.js';
import type { PlanarImage } from '../../server/image/planar-image.js';

/** A skin-toned test picture: light-dark variation along (0.9, 0.6, 0.45) plus a little chroma noise. */
function skin(w: number, h: number, seed = 1): PlanarImage {
  const random = splitmix32(seed);
  const plane = w * h;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    const x = i % w;
    const light = 0.25 + 0.5 * (x / w) + 0.1 * (random() - 0.5);
    const tint = [0.9, 0.6, 0.45];
    for (let c = 0; c < 3; c++) data[c * plane + i] = Math.min(1, Math.max(0, light * tint[c]! * 1.2 + 0.03 * (random() - 0.5)));
  }
  return { data, width: w, height: h };
}

function spreadAlong(img: PlanarImage, axis: readonly number[]): number {
  const plane = img.width * img.height;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < plane; i++) {
    const p = axis[0]! * img.data[i]! + axis[1]! * img.data[plane + i]! + axis[2]! * img.data[2 * plane + i]!;
    s += p;
    s2 += p * p;
  }
  return Math.sqrt(s2 / plane - (s / plane) ** 2);
}

describe('colour statistics', () => {
  it('eigen-decomposes a symmetric 3x3 matrix (descending, orthonormal, reconstructs)', () => {
    const random = splitmix32(9);
    for (let trial = 0; trial < 20; trial++) {
      const a = Array.from({ length: 9 }, () => random() * 2 - 1);
      const m = [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => (a[i * 3 + j]! + a[j * 3 + i]!) / 2)) as Mat3;
      const { values, vectors } = symmetricEigen(m);
      expect(values[0]).toBeGreaterThanOrEqual(values[1]);
      expect(values[1]).toBeGreaterThanOrEqual(values[2]);
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          const dot = vectors[i]!.reduce((s, v, k) => s + v * vectors[j]![k]!, 0);
          expect(dot).toBeCloseTo(i === j ? 1 : 0, 6);
          const back = [0, 1, 2].reduce((s, k) => s + values[k]! * vectors[k]![i]! * vectors[k]![j]!, 0);
          expect(back).toBeCloseTo(m[i * 3 + j]!, 6);
        }
      }
    }
  });

  it('holds a picture with a colour cast to the portrait\'s means and spreads', () => {
    const portrait = skin(64, 64);
    const target = pictureBasis(portrait);
    // A magenta cast and washed-out contrast, as a fed-back zoom drifts.
    const drifted: PlanarImage = { ...portrait, data: portrait.data.map((v, i) => (i < 4096 ? 0.3 + 0.3 * v : i < 8192 ? 0.5 * v : 0.4 + 0.3 * v)) };
    holdColours(drifted, target);
    const after = colourStats(drifted);
    const before = colourStats(portrait);
    for (let c = 0; c < 3; c++) expect(after.mean[c]).toBeCloseTo(before.mean[c]!, 2);
    // Along each of the portrait's colour axes, the spread is the portrait's again.
    for (let k = 0; k < 3; k++) expect(spreadAlong(drifted, target.axes[k]!) / target.spread[k]!).toBeCloseTo(1, 1);
  });

  it('lets the light-dark spread grow up to the contrast allowance, no further', () => {
    const portrait = skin(48, 48, 2);
    const target = pictureBasis(portrait);
    const mean = target.mean;
    const strong: PlanarImage = { ...portrait, data: portrait.data.map((v, i) => mean[Math.floor(i / 2304)]! + 3 * (v - mean[Math.floor(i / 2304)]!)) };
    holdColours(strong, target, { contrast: 1.3 });
    expect(colourBasis(colourStats(strong)).spread[0] / target.spread[0]).toBeCloseTo(1.3, 1);
  });

  it('steps in the decorrelated space mostly along the picture\'s own light-dark axis', () => {
    const portrait = skin(32, 32, 3);
    const basis = pictureBasis(portrait);
    // A gradient that pushes every channel on its own (what makes neon casts).
    const random = splitmix32(4);
    const grad = new Float32Array(3 * 32 * 32).map(() => random() * 2 - 1);
    const shaped = shapeGradient(grad.slice(), 32, 32, { colour: basis, pyramid: 1 });
    const along = (g: Float32Array, axis: readonly number[]) => {
      let s = 0;
      for (let i = 0; i < 1024; i++) s += Math.abs(axis[0]! * g[i]! + axis[1]! * g[1024 + i]! + axis[2]! * g[2048 + i]!);
      return s;
    };
    const share = (g: Float32Array) => along(g, basis.axes[0]) / (along(g, basis.axes[0]) + along(g, basis.axes[1]) + along(g, basis.axes[2]));
    expect(share(grad)).toBeLessThan(0.45);
    expect(share(shaped)).toBeGreaterThan(0.6);
  });

  it('the preconditioner is symmetric: a round trip is S^2 (the covariance, scaled)', () => {
    const basis = pictureBasis(skin(16, 16, 5));
    const pre = colourPreconditioner(basis, 0);
    const v = new Float32Array([1, 0, 0]);
    pre.toDecorrelated(v, 1);
    const w = new Float32Array([0, 1, 0]);
    pre.toDecorrelated(w, 1);
    expect(v[1]).toBeCloseTo(w[0]!, 6);
  });
});

describe('Laplacian pyramid normalisation', () => {
  it('keeps the shape, gives unit RMS with one band, and balances fine and coarse bands', () => {
    const w = 64;
    const h = 48;
    const random = splitmix32(6);
    const data = new Float32Array(3 * w * h);
    // Strong pixel noise on a weak smooth ramp: the raw gradient is almost all noise.
    for (let c = 0; c < 3; c++) for (let i = 0; i < w * h; i++) data[c * w * h + i] = 10 * (random() - 0.5) + ((i % w) / w - 0.5);
    const one = laplacianNormalise(data, w, h, 3, 1);
    expect(one).toHaveLength(data.length);
    expect(Math.sqrt(one.reduce((s, v) => s + v * v, 0) / one.length)).toBeCloseTo(1, 4);
    const four = laplacianNormalise(data, w, h, 3, 4);
    expect(four).toHaveLength(data.length);
    // The ramp (coarse) now matters: the left-right difference of column means grows.
    const ramp = (g: Float32Array) => {
      let left = 0;
      let right = 0;
      for (let y = 0; y < h; y++) for (let x = 0; x < 8; x++) {
        left += g[y * w + x]!;
        right += g[y * w + w - 1 - x]!;
      }
      const rms = Math.sqrt(g.reduce((s, v) => s + v * v, 0) / g.length);
      return (right - left) / (8 * h) / rms;
    };
    expect(ramp(four)).toBeGreaterThan(3 * Math.abs(ramp(one)));
  });
});
