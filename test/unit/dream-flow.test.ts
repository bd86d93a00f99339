/**
 * The optical flow the live dream carries its detail with (server/dream/flow.ts): on a
 * smooth picture moved by a known shift it finds the shift, and warping the earlier
 * picture by it lands on the later one.
 */
import { describe, expect, it } from 'vitest';
import { lumaAt, opticalFlow, warpByFlow } from '../../server/dream/flow.js';
import type { PlanarImage } from '../../server/image/planar-image.js';

/** A face-like smooth picture (a few soft blobs and a gentle ramp), shifted by (dx, dy) px. */
function blobs(side: number, dx: number, dy: number): PlanarImage {
  const plane = side * side;
  const data = new Float32Array(3 * plane);
  const spots = [
    [0.35, 0.4, 0.08, 0.6],
    [0.65, 0.4, 0.08, 0.6],
    [0.5, 0.7, 0.12, -0.4],
    [0.5, 0.5, 0.3, 0.3],
  ] as const;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const px = (x - dx) / side;
      const py = (y - dy) / side;
      let v = 0.3 + 0.2 * px;
      for (const [cx, cy, r, a] of spots) v += a * Math.exp(-((px - cx) ** 2 + (py - cy) ** 2) / (2 * r * r));
      for (let c = 0; c < 3; c++) data[c * plane + y * side + x] = v * (0.8 + 0.1 * c);
    }
  }
  return { data, width: side, height: side };
}

const meanAbs = (a: Float32Array, b: Float32Array, side: number, margin: number) => {
  let sum = 0;
  let n = 0;
  for (let c = 0; c < 3; c++) {
    for (let y = margin; y < side - margin; y++) {
      for (let x = margin; x < side - margin; x++) {
        const i = c * side * side + y * side + x;
        sum += Math.abs(a[i]! - b[i]!);
        n++;
      }
    }
  }
  return sum / n;
};

describe('optical flow between consecutive portraits', () => {
  it.each([
    [3, -2],
    [-1.5, 0.5],
    [0, 0],
  ])('finds a shift of (%f, %f) px at 256 px', (dx, dy) => {
    const side = 256;
    const prev = blobs(side, 0, 0);
    const cur = blobs(side, dx, dy);
    const flow = opticalFlow(lumaAt(cur, 64), lumaAt(prev, 64), 64);
    // In the middle of the picture (where the blobs are), the flow says where cur's pixel was in prev: p - shift.
    let su = 0;
    let sv = 0;
    let n = 0;
    for (let y = 16; y < 48; y++) {
      for (let x = 16; x < 48; x++) {
        su += flow.u[y * 64 + x]!;
        sv += flow.v[y * 64 + x]!;
        n++;
      }
    }
    const scale = side / 64;
    expect(Math.abs((su / n) * scale + dx)).toBeLessThan(0.25);
    expect(Math.abs((sv / n) * scale + dy)).toBeLessThan(0.25);
    // Warping the earlier picture by the flow lands on the later one, far closer than not warping.
    const warped = warpByFlow(prev, flow);
    const before = meanAbs(prev.data, cur.data, side, 24);
    const after = meanAbs(warped.data, cur.data, side, 24);
    if (dx !== 0 || dy !== 0) expect(after).toBeLessThan(before / 4);
    else expect(after).toBeLessThan(1e-3);
  });

  it('refuses pictures of the wrong size', () => {
    expect(() => opticalFlow(new Float32Array(10), new Float32Array(64 * 64), 64)).toThrow(/64x64/);
  });
});
