/**
 * The quality judge (models/tools/judge.py with models/eval/features.ts and eyes.ts):
 *  - the Fréchet distance's self-check against closed forms (needs numpy in Debian's python3),
 *  - Darknet tiny features on real-sized images (needs ../shared/models/darknet-tiny, converted
 *    into a temp folder here),
 *  - `portraits evaluate` end to end with the judge on a tiny generator and synthetic photos.
 * Each part skips with a reason where its prerequisite is missing, and fails under CI=true.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDarknet } from '../../cli/commands/models.js';
import { TOOLS_DIR, checkPython, pythonPath } from '../../cli/python.js';
import { extractFeatures, openFeatureSession } from '../../models/eval/features.js';
import type { Session } from '../../server/onnx/runtime.js';
import { sharedPath } from '../support/shared.js';
import { tinyModelsDir } from '../support/tiny-generator.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin', 'portraits.js');

function reasonToSkip(problem: string | null, what: string): string | null {
  if (!problem) return null;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${what} cannot run: ${problem}`);
  console.warn(`skipped ${what}: ${problem}`);
  return problem;
}

const python = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(pythonPath(), args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PYTHONPATH: TOOLS_DIR, PYTHONWARNINGS: 'ignore', ...env } });

const numpyMissing = reasonToSkip(checkPython(['numpy']), 'the Fréchet distance self-check');

describe.skipIf(numpyMissing !== null)('Fréchet distance (numpy)', () => {
  it('is ~0 for a set with itself and matches the closed forms', () => {
    const r = python([join(TOOLS_DIR, 'judge.py'), '--self-check']);
    expect(r.status, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(c.same).toBeLessThan(1e-8);
    expect(c.shifted).toBeCloseTo(c.shiftClosedForm, 6);
    expect(c.diagonal).toBeCloseTo(c.diagonalClosedForm, 6);
    expect(c.general).toBeCloseTo(c.generalByEigvals, 4);
    expect(Math.abs(c.sampled - c.diagonalClosedForm) / c.diagonalClosedForm).toBeLessThan(0.02);
  });
});

const darknetSource = sharedPath('models/darknet-tiny');
let tmp = '';
let darknetDir = '';

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'portraits-judge-'));
  if (!darknetSource) return;
  await installDarknet(darknetSource, join(tmp, 'models'));
  darknetDir = join(tmp, 'models', 'darknet-tiny');
}, 120_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** n images [n, size, size, 3]: a smooth skin-toned disc with two dark spots, or (noise) random bytes. */
function images(n: number, size: number, noise = false): Uint8Array {
  const out = new Uint8Array(n * size * size * 3);
  let s = 9;
  for (let i = 0; i < n; i++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const o = ((i * size + y) * size + x) * 3;
        if (noise) {
          for (let c = 0; c < 3; c++) out[o + c] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
          continue;
        }
        const r = Math.hypot(x / size - 0.5, y / size - 0.5);
        const eye = Math.min(Math.hypot(x / size - 0.38, y / size - 0.42), Math.hypot(x / size - 0.62, y / size - 0.42));
        const v = eye < 0.04 ? [40, 30, 25] : r < 0.35 ? [205, 160, 130 + i] : [60, 70, 90];
        out.set(v, o);
      }
  return out;
}

describe.skipIf(!darknetSource)('Darknet tiny features (models/eval/features.ts)', () => {
  let session: Session;
  beforeAll(async () => {
    session = await openFeatureSession(darknetDir, {}, 1);
  }, 120_000);
  afterAll(async () => {
    await session?.release();
  });

  it('gives 512 finite values per image at 128 and 256 px, and tells a face from noise', async () => {
    const at: Record<number, Float32Array> = {};
    for (const size of [128, 256]) {
      const { features, dims } = await extractFeatures(session, images(2, size), 2, size, size);
      expect(dims).toBe(512);
      expect(features.length).toBe(1024);
      expect(features.every(Number.isFinite)).toBe(true);
      at[size] = features;
    }
    // The same picture at 128 and 256 px reaches the network as the same 224 px image, nearly.
    const diff = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0) / a.length);
    const noise = (await extractFeatures(session, images(2, 128, true), 2, 128, 128)).features;
    expect(diff(at[128]!, at[256]!)).toBeLessThan(diff(at[128]!, noise) / 4);
  });

  it('runs as a script: raw images in, [N, 512] float32 out, a JSON line on stdout', () => {
    writeFileSync(join(tmp, 'faces.u8'), images(3, 128));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'models', 'eval', 'features.ts'), '--images', join(tmp, 'faces.u8'), '--size', '128', '--out', join(tmp, 'faces.f32'), '--model', darknetDir, '--threads', '1'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ n: 3, dims: 512, layer: 'leaky_re_lu_14', input: 224 });
    expect(readFileSync(join(tmp, 'faces.f32')).length).toBe(3 * 512 * 4);
  });

  it('says how to get the model when it is missing', () => {
    writeFileSync(join(tmp, 'one.u8'), images(1, 32));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'models', 'eval', 'features.ts'), '--images', join(tmp, 'one.u8'), '--size', '32', '--out', join(tmp, 'one.f32'), '--model', join(tmp, 'nowhere')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/portraits models fetch darknet-tiny/);
  });
});

const toolsMissing = darknetSource ? reasonToSkip(checkPython(), 'portraits evaluate with the judge') : 'no Darknet tiny';

describe.skipIf(toolsMissing !== null)('portraits evaluate with the judge (tiny generator, synthetic photos)', () => {
  it('writes Fréchet distances beside real vs real, detail and both eyes into the manifest and card', async () => {
    const models = await tinyModelsDir('tiny-face', join(tmp, 'gen'));
    const model = join(models, 'tiny-face');
    // 24 synthetic "photos" at 40 px (files, as the originals are) and the curated set made from them.
    const made = python(['-c', `
import json, os, cv2, numpy as np
rng = np.random.default_rng(3)
root = ${JSON.stringify(tmp)}
os.makedirs(os.path.join(root, 'photos'), exist_ok=True); os.makedirs(os.path.join(root, 'data'), exist_ok=True)
y, x = np.mgrid[0:40, 0:40] / 40
names, small = [], []
for i in range(24):
    cx, cy, r = rng.uniform(0.35, 0.65, 3)
    blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (0.1 * r))
    img = (np.stack([blob, blob * rng.uniform(), 1 - blob], -1) * 255).astype(np.uint8)
    names.append(f'{i}_0_0_photo.jpg.chip.png')
    cv2.imwrite(os.path.join(root, 'photos', names[-1]), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    small.append(cv2.resize(img, (16, 16), interpolation=cv2.INTER_AREA))
np.save(os.path.join(root, 'data', 'images.npy'), np.stack(small))
json.dump([{'file': n} for n in names], open(os.path.join(root, 'data', 'index.json'), 'w'))
json.dump({'seed': 1, 'files': names[:8]}, open(os.path.join(root, 'holdout.json'), 'w'))
`]);
    expect(made.status, made.stderr).toBe(0);
    const cache = join(tmp, 'cache');
    const run = (...extra: string[]) =>
      spawnSync(process.execPath, [CLI, 'evaluate', '--model', model, '--data', join(tmp, 'data'), '--n', '4', '--novelty', '4', '--detectors', 'tiny',
        '--judge-n', '8', '--eyes-n', '4', '--sizes', '32,64', '--holdout', join(tmp, 'holdout.json'), '--photos', join(tmp, 'photos'), '--darknet', darknetDir, ...extra],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore', PORTRAITS_JUDGE_CACHE: cache } });
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8'));
    const j = m.metrics.judge;
    expect(Object.keys(j.frechet).sort()).toEqual(['32', '64']);
    for (const f of Object.values(j.frechet) as { generated: number; realVsReal: number }[]) {
      // Random-weight noise against smooth blobs is far further than blobs from blobs.
      expect(f.generated).toBeGreaterThan(f.realVsReal);
      expect(f.realVsReal).toBeGreaterThanOrEqual(0);
    }
    expect(j.n).toBe(8);
    expect(j.detail.ratio).toBeGreaterThan(1); // noise is all high frequency
    expect(j.bothEyes).toMatchObject({ n: 4, size: 256 });
    expect(j.heldOutSeenInTraining).toBe(true);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!).judge).toMatchObject({ fd32: j.frechet['32'].generated });
    const card = readFileSync(join(model, 'README.md'), 'utf8');
    expect(card).toMatch(/Fréchet distance, generated vs held-out[\s\S]*\| 64 px \|[\s\S]*Detail at 256 px[\s\S]*Both eyes found/);
    // The real photos' features and eye flags are cached; a judge-only rerun reuses them and keeps the rest.
    const cached = readdirSync(cache);
    expect(cached.filter((f) => f.startsWith('features-')).length).toBe(4);
    expect(cached.filter((f) => f.startsWith('eyes-')).length).toBe(1);
    const again = run('--only-judge');
    expect(again.status, again.stderr).toBe(0);
    expect(readdirSync(cache).length).toBe(cached.length);
    const m2 = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8'));
    expect(m2.metrics.judge.frechet).toEqual(j.frechet);
    expect(m2.metrics.faceRate).toEqual(m.metrics.faceRate);
    expect(existsSync(join(model, 'samples.png'))).toBe(true);
  }, 600_000);
});
