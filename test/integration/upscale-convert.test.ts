/**
 * The upscaler cache: the ESRGAN package's TF.js model is converted once, checked against
 * tfjs on a small tile, kept under the package's version, reused, and converted again when
 * the version changes or the cached file is damaged. Runs in a private cache folder.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureConverted, locatePackage } from '../../server/upscale/converted.js';
import { TFJS_TOLERANCE } from '../../server/upscale/tfjs-check.js';

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'portraits-upscale-cache-'));
});
afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

describe('converted upscaler cache', () => {
  it('converts on first use with progress, checks against tfjs, and caches by package version', async () => {
    const steps = new Set<string>();
    const u = await ensureConverted('esrgan-slim', 2, { cacheDir, onProgress: (p) => steps.add(p.step) });
    expect(u.fresh).toBe(true);
    expect([...steps]).toEqual(['read weights', 'convert layers', 'check with onnxruntime', 'write files']);
    const pkg = await locatePackage('esrgan-slim');
    expect(u.key).toMatchObject({ package: '@upscalerjs/esrgan-slim', version: pkg.version, scale: 2 });
    expect(u.manifest.kind).toBe('upscaler');
    expect(u.manifest.scale).toBe(2);
    expect(u.manifest.source.from).toContain(`@upscalerjs/esrgan-slim@${pkg.version}`);
    if (!('maxAbsDiff' in u.check)) throw new Error(`the tfjs check was skipped: ${u.check.skipped}`);
    console.log(`esrgan-slim x2 vs tfjs on a ${u.check.size.join('x')} tile: max abs diff ${u.check.maxAbsDiff.toExponential(2)} (of 255)`);
    expect(u.check.maxAbsDiff).toBeLessThanOrEqual(TFJS_TOLERANCE);
    expect((await readdir(u.dir)).sort()).toEqual(['LICENSE', 'cache.json', 'manifest.json', 'model.onnx']);
    expect((await readdir(cacheDir)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);

    const again = await ensureConverted('esrgan-slim', 2, { cacheDir, onProgress: () => steps.add('again') });
    expect(again.fresh).toBe(false);
    expect(steps.has('again')).toBe(false);
    expect(again.check).toEqual(u.check);
  }, 120_000);

  it('converts again for another package version or a damaged model file', async () => {
    const dir = join(cacheDir, 'esrgan-slim-x2');
    const stampPath = join(dir, 'cache.json');
    const stamp = JSON.parse(await readFile(stampPath, 'utf8')) as { key: { version: string } };
    stamp.key.version = '0.0.1';
    await writeFile(stampPath, JSON.stringify(stamp));
    expect((await ensureConverted('esrgan-slim', 2, { cacheDir })).fresh).toBe(true);
    expect((await ensureConverted('esrgan-slim', 2, { cacheDir })).fresh).toBe(false);

    const model = join(dir, 'model.onnx');
    const bytes = await readFile(model);
    await writeFile(model, bytes.subarray(0, bytes.length >> 1));
    const repaired = await ensureConverted('esrgan-slim', 2, { cacheDir });
    expect(repaired.fresh).toBe(true);
    expect((await readFile(model)).length).toBe(bytes.length);
  }, 120_000);

  it('survives two conversions at once, as a server and a CLI starting together would (each converts privately; one folder results)', async () => {
    const [a, b] = await Promise.all([ensureConverted('esrgan-slim', 4, { cacheDir }), ensureConverted('esrgan-slim', 4, { cacheDir })]);
    expect(a.dir).toBe(b.dir);
    expect(a.manifest.files.find((f) => f.path === 'model.onnx')?.sha256).toBe(b.manifest.files.find((f) => f.path === 'model.onnx')?.sha256);
    expect((await ensureConverted('esrgan-slim', 4, { cacheDir })).fresh).toBe(false);
    expect((await readdir(cacheDir)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  }, 180_000);
});
