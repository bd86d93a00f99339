/**
 * Tiled and whole-image upscaling agree on a small photo (the ESRGAN package's own
 * fixture, 96x80), with the real converted networks: the feathered overlap hides each
 * tile's zero-padded border. A plain grid (no overlap) on the same photo shows the seams
 * the blending removes, so the comparison can tell the two apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_DIR } from '../../server/config.js';
import { readPlanar } from '../../server/image/planar.js';
import type { PlanarImage } from '../../server/image/planar-image.js';
import type { UpscaleFactor, UpscalerFamily } from '../../server/upscale/converted.js';
import { upscaleTiled } from '../../server/upscale/tiles.js';
import { Upscaler } from '../../server/upscale/upscaler.js';
import { join } from 'node:path';

const FIXTURE = join(ROOT_DIR, 'node_modules/@upscalerjs/esrgan-slim/assets/fixture.png');
const cacheDir = join(ROOT_DIR, 'models/.converted');

let photo: PlanarImage;
beforeAll(async () => {
  photo = await readPlanar(FIXTURE, { width: 96, height: 80 });
});

/** Max and mean absolute difference, in 8-bit grey levels. */
function diff(a: PlanarImage, b: PlanarImage): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max: max * 255, mean: (sum / a.data.length) * 255 };
}

const cases: { family: UpscalerFamily; scale: UpscaleFactor }[] = [
  { family: 'esrgan-slim', scale: 2 },
  { family: 'esrgan-medium', scale: 4 },
];

describe('tiled vs whole-image ESRGAN', () => {
  const opened: Upscaler[] = [];
  afterAll(async () => {
    await Promise.allSettled(opened.map((u) => u.dispose()));
  });

  for (const { family, scale } of cases) {
    it(`${family} x${scale}: 48 px tiles with a 24 px feathered overlap match the whole picture to within half a grey level`, async () => {
      const { upscaler } = await Upscaler.load(family, scale, 'cpu', { cacheDir });
      opened.push(upscaler);
      const whole = await upscaler.run(photo);
      const tiled = await upscaleTiled(photo, scale, (t) => upscaler.run(t), { tile: 48, overlap: 24 });
      const grid = await upscaleTiled(photo, scale, (t) => upscaler.run(t), { tile: 48, overlap: 0 });
      const blended = diff(tiled, whole);
      const seams = diff(grid, whole);
      console.log(
        `${family} x${scale} on 96x80: feathered tiles vs whole: max ${blended.max.toFixed(3)}, mean ${blended.mean.toFixed(4)} grey levels; ` +
          `plain grid vs whole: max ${seams.max.toFixed(1)}, mean ${seams.mean.toFixed(3)}`,
      );
      expect(tiled.width).toBe(96 * scale);
      expect(tiled.height).toBe(80 * scale);
      expect(blended.max).toBeLessThan(0.5);
      expect(blended.mean).toBeLessThan(0.02);
      expect(seams.max).toBeGreaterThan(10);
    }, 120_000);
  }
});
