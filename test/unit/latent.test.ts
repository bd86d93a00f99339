import { describe, expect, it } from 'vitest';
import { distance, follow, loopAt, planeAt, seedToLatent, slerp, walkAt } from '../../common/latent.js';
import { gaussian, hashSeeds } from '../../common/random.js';

const DIM = 128;
const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('seeded latents', () => {
  it('the same seed gives the same vector, bit for bit', () => {
    expect(Array.from(seedToLatent(42, DIM))).toEqual(Array.from(seedToLatent(42, DIM)));
  });

  it('pins the first values of seed 42, so another machine or a refactor cannot drift silently', () => {
    const z = seedToLatent(42, DIM);
    const again = gaussian(42, 4);
    expect(Array.from(z.slice(0, 4))).toEqual(Array.from(again));
    expect(hashSeeds(1, 2)).toBe(hashSeeds(1, 2));
    expect(hashSeeds(1, 2)).not.toBe(hashSeeds(2, 1));
  });

  it('different seeds differ, and values look standard normal', () => {
    expect(distance(seedToLatent(1, DIM), seedToLatent(2, DIM))).toBeGreaterThan(5);
    const big = gaussian(7, 200_000);
    const mean = big.reduce((s, x) => s + x, 0) / big.length;
    const variance = big.reduce((s, x) => s + (x - mean) ** 2, 0) / big.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
  });
});

describe('slerp', () => {
  const a = seedToLatent(1, DIM);
  const b = seedToLatent(2, DIM);

  it('starts at a and ends at b', () => {
    expect(distance(slerp(a, b, 0), a)).toBeLessThan(1e-4);
    expect(distance(slerp(a, b, 1), b)).toBeLessThan(1e-4);
  });

  it('keeps the norm near the sphere where a straight line would sag', () => {
    const mid = slerp(a, b, 0.5);
    const lerpMid = a.map((x, i) => (x + b[i]!) / 2);
    expect(norm(mid)).toBeGreaterThan(0.97 * Math.min(norm(a), norm(b)));
    expect(norm(lerpMid)).toBeLessThan(0.8 * norm(mid));
  });
});

describe('movement through latent space is continuous', () => {
  it('a walk moves a little per small step and passes through its seeds', () => {
    let prev = walkAt(5, 0, DIM).latent;
    let maxStep = 0;
    for (let p = 0.01; p < 3; p += 0.01) {
      const cur = walkAt(5, p, DIM).latent;
      maxStep = Math.max(maxStep, distance(prev, cur));
      prev = cur;
    }
    expect(maxStep).toBeLessThan(0.5);
    const w = walkAt(5, 1, DIM);
    expect(distance(w.latent, seedToLatent(w.position.seeds[0], DIM))).toBeLessThan(1e-4);
  });

  it('a loop wraps back to its first keyframe', () => {
    const start = loopAt([3, 4, 5], 30, 0, DIM);
    const end = loopAt([3, 4, 5], 30, 30, DIM);
    expect(end.wrapped).toBe(1);
    expect(distance(start.latent, end.latent)).toBeLessThan(1e-4);
  });

  it('the seed plane hits grid seeds exactly and morphs between them', () => {
    const corner = planeAt(9, 2, 3, DIM);
    expect(distance(corner.latent, seedToLatent(corner.position.seeds[0], DIM))).toBeLessThan(1e-4);
    const near = planeAt(9, 2.01, 3, DIM);
    expect(distance(corner.latent, near.latent)).toBeLessThan(0.5);
    const mid = planeAt(9, 2.5, 3.5, DIM);
    expect(Math.abs(norm(mid.latent) - norm(corner.latent)) / norm(corner.latent)).toBeLessThan(0.2);
  });

  it('follow glides toward a target and never overshoots', () => {
    const a = seedToLatent(1, DIM);
    const b = seedToLatent(2, DIM);
    const step = follow(a, b, 1 / 30, 0.6, new Float32Array(DIM));
    expect(distance(step, b)).toBeLessThan(distance(a, b));
    expect(distance(step, a)).toBeLessThan(0.1 * distance(a, b));
    expect(distance(follow(a, b, 1, 0, new Float32Array(DIM)), b)).toBeLessThan(1e-4);
  });
});
