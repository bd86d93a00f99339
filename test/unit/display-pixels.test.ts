/**
 * The encoder's resize-to-bytes graph: pixel order (planar in, interleaved out), rounding,
 * clamping, and enlargements that look like the libvips Lanczos resize it replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisplayPixels } from '../../server/image/display-pixels.js';
import { planarToSharp } from '../../server/image/planar.js';
import type { PlanarImage } from '../../server/image/planar-image.js';

let dp: DisplayPixels;
beforeAll(async () => {
  dp = await DisplayPixels.create();
});
afterAll(async () => {
  await dp?.dispose();
});

/** A smooth, asymmetric picture (a flipped or transposed result would not match). */
function smooth(size: number): PlanarImage {
  const plane = size * size;
  const data = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[c * plane + y * size + x] = 0.5 + 0.4 * Math.sin((x / size) * 5 + c) * Math.cos((y / size) * 3 - 2 * c) + 0.05 * (x / size);
  return { data, width: size, height: size };
}

describe('display pixels', () => {
  it('at the same size: interleaved RGB, rounded to nearest, clamped to 0..255', async () => {
    // 2x2, planes R, G, B; pixel (x=1, y=0) has R 0.2, G 0.6, B 1.5 (clamped)
    const img: PlanarImage = { width: 2, height: 2, data: Float32Array.from([0, 0.2, 0.4, 1, 0.1, 0.6, -0.3, 0.5, 0.002, 1.5, 0.999, 0.75]) };
    const out = await dp.rgb(img, 2, 2);
    expect([...out.data]).toEqual([0, 26, 1, 51, 153, 255, 102, 0, 255, 255, 128, 191]);
    expect(out).toMatchObject({ width: 2, height: 2 });
  });

  it('enlarges 64 -> 256 like a Lanczos resize, in the same orientation', async () => {
    const img = smooth(64);
    const ours = await dp.rgb(img, 256, 256);
    const vips = await planarToSharp(img).resize(256, 256, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
    let sum = 0;
    let max = 0;
    for (let i = 0; i < vips.length; i++) {
      const d = Math.abs(ours.data[i]! - vips[i]!);
      sum += d;
      max = Math.max(max, d);
    }
    expect(sum / vips.length).toBeLessThan(1.5);
    expect(max).toBeLessThanOrEqual(4);
  });

  it('shrinks with antialiasing (a pixel-wide checkerboard becomes flat grey)', async () => {
    const size = 64;
    const plane = size * size;
    const data = new Float32Array(3 * plane);
    for (let i = 0; i < 3 * plane; i++) data[i] = ((i % size) + Math.floor((i % plane) / size)) % 2;
    const out = await dp.rgb({ data, width: size, height: size }, 16, 16);
    for (const v of out.data) expect(Math.abs(v - 128)).toBeLessThanOrEqual(3);
  });
});
