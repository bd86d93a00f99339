/**
 * `portraits export` stores torch's outputs for fixed inputs in reference.json beside each
 * ONNX file (shape, mean, and values at evenly spaced flat indices); these helpers check
 * that a runtime reproduces them.
 */
import { expect } from 'vitest';

export interface ReferenceSummary {
  shape: number[];
  mean: number;
  std: number;
  indices: number[];
  values: number[];
}

export function expectMatchesReference(actual: Float32Array, dims: readonly number[], ref: ReferenceSummary, label: string): void {
  expect([...dims], `${label} shape`).toEqual(ref.shape);
  let sum = 0;
  for (const v of actual) sum += v;
  expect(Math.abs(sum / actual.length - ref.mean), `${label} mean`).toBeLessThan(1e-4 + 1e-4 * Math.abs(ref.mean));
  ref.indices.forEach((idx, k) => {
    const want = ref.values[k]!;
    const got = actual[idx]!;
    expect(Math.abs(got - want), `${label}[${idx}]: onnxruntime ${got}, torch ${want}`).toBeLessThan(1e-4 + 1e-3 * Math.abs(want));
  });
}

/** The critic's reference input: 0.8 sin(0.1 x + 0.2 y + c + n), as models/tools/export.py test_pattern. */
export function testPattern(n: number, size: number): Float32Array {
  const out = new Float32Array(n * 3 * size * size);
  let i = 0;
  for (let b = 0; b < n; b++) for (let c = 0; c < 3; c++) for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[i++] = 0.8 * Math.sin(0.1 * x + 0.2 * y + c + b);
  return out;
}

/** Resolves a manifest dim ("N", "H/2", 16) for concrete N, H, W. */
export function resolveDim(d: number | string, sizes: { N: number; H: number; W: number }): number {
  if (typeof d === 'number') return d;
  const m = /^([NHW])(?:\/(\d+))?$/.exec(d);
  if (!m) throw new Error(`unknown symbolic dim '${d}'`);
  return sizes[m[1] as 'N' | 'H' | 'W'] / Number(m[2] ?? 1);
}
