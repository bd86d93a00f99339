/**
 * Latent math shared by the server and the pages: seeds become latent vectors, and
 * every way of moving through latent space (walk, loop, seed plane, travel) is a pure
 * function of the state and the time, so the same inputs give the same faces anywhere.
 */
import { gaussian, hashSeeds } from './random.js';

export type Latent = Float32Array;

/** The latent vector of a seed: standard normal, as the generator was trained on. */
export function seedToLatent(seed: number, dim: number): Latent {
  return gaussian(seed, dim);
}

function norm(v: Latent): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/**
 * Spherical interpolation. Gaussian latents live near a sphere of radius sqrt(dim);
 * a straight line between two of them passes through low-norm, washed-out faces.
 * The norm itself is interpolated linearly.
 */
export function slerp(a: Latent, b: Latent, t: number, out: Latent = new Float32Array(a.length)): Latent {
  const na = norm(a);
  const nb = norm(b);
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  const cos = na > 0 && nb > 0 ? Math.min(1, Math.max(-1, dot / (na * nb))) : 1;
  const omega = Math.acos(cos);
  if (omega < 1e-4) {
    for (let i = 0; i < a.length; i++) out[i] = a[i]! + (b[i]! - a[i]!) * t;
    return out;
  }
  const s = Math.sin(omega);
  const wa = Math.sin((1 - t) * omega) / s / (na || 1);
  const wb = Math.sin(t * omega) / s / (nb || 1);
  const radius = na + (nb - na) * t;
  for (let i = 0; i < a.length; i++) out[i] = (wa * a[i]! + wb * b[i]!) * radius;
  return out;
}

/** Zero velocity at both ends: keyframes are held for an instant, never overshot. */
export function smoothstep(t: number): number {
  const c = Math.min(1, Math.max(0, t));
  return c * c * (3 - 2 * c);
}

/** The k-th seed of an endless walk that starts from `walkSeed`. */
export function walkSeedAt(walkSeed: number, k: number): number {
  return hashSeeds(walkSeed, k) % 2 ** 31;
}

export interface Position {
  /** The seeds this latent lies between, and how far along (0 = first seed). */
  seeds: [number, number];
  t: number;
}

/** A continuous random walk: `phase` counts seeds travelled (speed x time). */
export function walkAt(walkSeed: number, phase: number, dim: number): { latent: Latent; position: Position } {
  const k = Math.floor(phase);
  const a = walkSeedAt(walkSeed, k);
  const b = walkSeedAt(walkSeed, k + 1);
  const t = smoothstep(phase - k);
  return { latent: slerp(seedToLatent(a, dim), seedToLatent(b, dim), t), position: { seeds: [a, b], t } };
}

/** A loop through keyframe seeds, once every `period` seconds; `wrapped` counts completed loops. */
export function loopAt(seeds: readonly number[], period: number, seconds: number, dim: number) {
  if (seeds.length === 0) throw new Error('loopAt: a loop needs at least one seed');
  const cycles = seconds / period;
  const wrapped = Math.floor(cycles);
  const phase = (cycles - wrapped) * seeds.length;
  const k = Math.floor(phase);
  return { ...loopSegment(seeds, k, phase - k, dim), wrapped };
}

/**
 * The loop's `k`th segment, from keyframe k to keyframe k + 1 (both modulo the count), at
 * `fraction` 0..1 of the way (eased: it leaves and reaches each keyframe at rest).
 */
export function loopSegment(seeds: readonly number[], k: number, fraction: number, dim: number): { latent: Latent; position: Position } {
  if (seeds.length === 0) throw new Error('loopSegment: a loop needs at least one seed');
  const n = seeds.length;
  const a = seeds[((k % n) + n) % n]!;
  const b = seeds[(((k + 1) % n) + n) % n]!;
  const t = smoothstep(Math.min(1, Math.max(0, fraction)));
  return { latent: slerp(seedToLatent(a, dim), seedToLatent(b, dim), t), position: { seeds: [a, b], t } };
}

/** The seed at integer grid point (i, j) of a seed plane. */
export function planeSeedAt(planeSeed: number, i: number, j: number): number {
  return hashSeeds(planeSeed, i | 0, j | 0) % 2 ** 31;
}

/**
 * A point on the seed plane blends its four neighbouring grid seeds bilinearly, so
 * dragging across the plane morphs continuously. Bilinear blends of independent
 * Gaussians shrink the norm, so the result is rescaled to the expected radius.
 */
export function planeAt(planeSeed: number, x: number, y: number, dim: number): { latent: Latent; position: Position } {
  const i = Math.floor(x);
  const j = Math.floor(y);
  const fx = x - i;
  const fy = y - j;
  const corners: [number, number, number][] = [
    [i, j, (1 - fx) * (1 - fy)],
    [i + 1, j, fx * (1 - fy)],
    [i, j + 1, (1 - fx) * fy],
    [i + 1, j + 1, fx * fy],
  ];
  const out = new Float32Array(dim);
  let wsq = 0;
  let best = corners[0]!;
  for (const c of corners) {
    const [ci, cj, w] = c;
    if (w > best[2]) best = c;
    wsq += w * w;
    if (w === 0) continue;
    const z = seedToLatent(planeSeedAt(planeSeed, ci, cj), dim);
    for (let d = 0; d < dim; d++) out[d] = out[d]! + w * z[d]!;
  }
  const scale = 1 / Math.sqrt(wsq);
  for (let d = 0; d < dim; d++) out[d] = out[d]! * scale;
  const nearest = planeSeedAt(planeSeed, best[0], best[1]);
  return { latent: out, position: { seeds: [nearest, nearest], t: 0 } };
}

/**
 * Follow a moving target without jumps: each frame moves a fraction of the way,
 * 1 - exp(-dt / tau), so any change of mode or input glides in over about `tau` seconds.
 */
export function follow(current: Latent, target: Latent, dt: number, tau: number, out: Latent = current): Latent {
  const t = tau <= 0 ? 1 : 1 - Math.exp(-dt / tau);
  return slerp(current, target, t, out);
}

/** Euclidean distance, for "no jump" checks and tests. */
export function distance(a: Latent, b: Latent): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}
