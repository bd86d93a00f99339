/**
 * Seeded randomness that gives the same numbers on every machine and in every browser:
 * integer-only PRNG state (no platform float differences), Box-Muller for normals.
 */

/** splitmix32: a tiny, well-mixed 32-bit generator; the state is a plain uint32. */
export function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/** Mixes several integers into one 32-bit seed (for seed sequences and seed grids). */
export function hashSeeds(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return h >>> 0;
}

/** `n` standard-normal samples from `seed`. */
export function gaussian(seed: number, n: number): Float32Array {
  const next = splitmix32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    // 1 - u keeps the log argument in (0, 1]
    const r = Math.sqrt(-2 * Math.log(1 - next()));
    const theta = 2 * Math.PI * next();
    out[i] = r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}

/** A fresh random seed for "new face" buttons: not reproducible on purpose. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
