/**
 * UpscalerJS' ESRGAN models (npm @upscalerjs/esrgan-slim and -medium) converted to ONNX
 * and run on the packages' own fixture photo, against the original in tfjs.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { ManifestSchema } from '../../common/manifest.js';
import { convertTfjsModel } from '../../onnx-compilers/tfjs/convert.js';
import type { ConvertedManifest } from '../../onnx-compilers/tfjs/manifest.js';
import { loadTfjs, maxAbsDiff, photoBatch, runOnnx, runTfjs } from './convert-support.js';

const pkg = (name: string, scale: number) => join('node_modules/@upscalerjs', name, `models/x${scale}/model.json`);
const FIXTURE = 'node_modules/@upscalerjs/esrgan-slim/assets/fixture.png';

/**
 * Pixels are in [0, 255]. onnxruntime accumulates convolutions in float32 while tfjs' CPU
 * backend sums in float64, so outputs near 255 differ by float32 rounding (~3e-4 measured);
 * the bound is 1e-5 of the value range (2.6e-3), far below one grey level and far below
 * what any real mistake (padding, layout, upsampling mode) produces.
 */
const TOLERANCE = 255 * 1e-5;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portraits-convert-esrgan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ESRGAN conversion', () => {
  const cases = [
    { name: 'esrgan-slim', scale: 4, size: 64 },
    { name: 'esrgan-slim', scale: 3, size: 32 },
    { name: 'esrgan-medium', scale: 2, size: 48 },
  ];
  for (const { name, scale, size } of cases) {
    it(`${name} x${scale} matches tfjs on a ${size}x${size} photo`, async () => {
      const out = join(dir, `${name}-x${scale}`);
      const manifest = await convertTfjsModel(pkg(name, scale), out);
      expect(manifest.kind).toBe('upscaler');
      expect(manifest.scale).toBe(scale);
      expect(manifest.inputs[0]!.range).toEqual([0, 255]);
      expect(manifest.outputs.map((o) => [o.name, o.dims])).toEqual([['upscaled', ['N', 3, `H*${scale}`, `W*${scale}`]]]);
      expect(manifest.licence.model).toMatch(/^MIT/);
      expect(manifest.conversion.warnings).toEqual([]);

      const batch = await photoBatch([FIXTURE], size, size, [0, 255]);
      const ref = await runTfjs(await loadTfjs(pkg(name, scale)), batch);
      const got = (await runOnnx(join(out, 'model.onnx'), batch)).upscaled!;
      expect(got.dims).toEqual([1, 3, size * scale, size * scale]);
      expect(ref.dims).toEqual(got.dims);
      const err = maxAbsDiff(got.data, ref.data);
      console.log(`${name} x${scale} ${size}x${size}: max abs error ${err.toExponential(2)} (pixel units)`);
      expect(err).toBeLessThanOrEqual(TOLERANCE);
    }, 120_000);
  }

  it('`portraits convert` writes a model folder the registry schema accepts', async () => {
    const out = join(dir, 'cli-slim-x2');
    const code = await main(['convert', '--from', pkg('esrgan-slim', 2), '--out', out, '--id', 'esrgan-slim-x2']);
    expect(code).toBe(0);
    const raw = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as ConvertedManifest;
    expect(ManifestSchema.safeParse(raw).success).toBe(true);
    expect(raw.id).toBe('esrgan-slim-x2');
    expect(raw.kind).toBe('upscaler');
    const files = raw.files.map((f) => f.path).sort();
    expect(files).toEqual(['LICENSE', 'model.onnx']);
  }, 60_000);

  it('`portraits convert` explains a missing --from', async () => {
    expect(await main(['convert', '--out', join(dir, 'nothing')])).toBe(2);
  });
});
