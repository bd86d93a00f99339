/**
 * The style generator's tools end to end through the real CLI, on synthetic data: train 2
 * steps (models/tools/train_style.py), export (generator with truncation and mixing inputs,
 * critic), and find the tablet's semantic directions on it (models/tools/directions.py reads
 * the compact checkpoint the manifest names and works in the W space); and rehearse the GPU
 * training run (models/tools/device/) on the CPU. The synthetic photos' "age" is how bright
 * their blob is, so even an untrained critic's features can predict it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPython, pythonPath } from '../../cli/python.js';
import { ManifestSchema } from '../../common/manifest.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin', 'portraits.js');

function portraits(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** 600 photos at 64 px with an age label each (index.json), as `portraits dataset` writes them. */
function makeDataset(dir: string): void {
  const code = `
import json, os, numpy as np
rng = np.random.default_rng(2)
n, s = 600, 64
y, x = np.mgrid[0:s, 0:s] / s
imgs = np.zeros((n, s, s, 3), np.uint8)
index = []
for i in range(n):
    age = int(rng.integers(1, 90))
    cx, cy = rng.uniform(0.35, 0.65, 2)
    blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 0.05) * (0.2 + 0.8 * age / 90)
    imgs[i] = (np.stack([blob, blob * 0.8, 0.3 * (1 - blob)], -1) * 255).astype(np.uint8)
    index.append({"file": f"{age}_0_0_{i}.jpg", "age": age, "gender": 0, "race": 0})
os.makedirs(${JSON.stringify(dir)}, exist_ok=True)
np.save(os.path.join(${JSON.stringify(dir)}, "images.npy"), imgs)
json.dump(index, open(os.path.join(${JSON.stringify(dir)}, "index.json"), "w"))`;
  const r = spawnSync(pythonPath(), ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`could not make the test data set: ${r.stderr}`);
}

const pythonProblem = checkPython(['torch', 'numpy', 'cv2', 'onnx']);
if (pythonProblem) {
  if (process.env.CI === 'true') throw new Error(`CI=true but the model tools cannot run: ${pythonProblem}`);
  console.warn(`skipped the style tools tests: ${pythonProblem}`);
}

describe.skipIf(pythonProblem !== null)('style generator: train -> export -> directions (synthetic data)', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'portraits-style-tools-'));
    makeDataset(join(tmp, 'data'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('trains, exports and finds named directions in the W space from the compact checkpoint', () => {
    const checkpoint = join(tmp, 'ck', 'style-test.pt');
    const train = portraits('train', '--arch', 'style', '--data', join(tmp, 'data'), '--out', join(tmp, 'run'), '--checkpoint', checkpoint, '--max-steps', '2', '--batch', '4', '--threads', '1', '--holdout', '50');
    expect(train.code, train.err).toBe(0);
    const out = join(tmp, 'models', 'style-test');
    const exported = portraits('export', '--checkpoint', checkpoint, '--out', out, '--data-name', 'synthetic blobs', '--data-terms', 'made by this test; no restrictions');
    expect(exported.code, exported.err).toBe(0);
    const directions = portraits('directions', '--model', out, '--data', join(tmp, 'data'), '--samples', '300', '--candidates', '6', '--components', '3', '--probe', '16', '--photos', '500', '--faces', '200');
    expect(directions.code, directions.err).toBe(0);
    expect(directions.err).toMatch(/style-test\.pt reproduces .*reference\.json/);
    const manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    const found = manifest.directions ?? {};
    expect(Object.keys(found)).toContain('age');
    for (const [name, d] of Object.entries(found)) {
      expect(d.vector, name).toHaveLength(manifest.generator!.latentSize);
      expect(d.vector.every(Number.isFinite), name).toBe(true);
    }
    const info = (manifest.metrics as Record<string, { ganspace?: { layer?: string }; checkpoint?: string }>).directions!;
    expect(info.ganspace?.layer).toMatch(/W space/);
    expect(info.checkpoint).toMatch(/style-test\.pt$/);
  }, 600_000);

  it('rehearses the GPU run on the CPU: pack, resume without the optimiser moments, return in parts, restore', () => {
    const checkpoint = join(tmp, 'ck', 'style-test.pt');
    const packed = join(tmp, 'device');
    const py = (...args: string[]) => spawnSync(pythonPath(), [join(ROOT, 'models/tools/device_data.py'), ...args], { cwd: ROOT, encoding: 'utf8' });
    let r = py('pack', '--data', join(tmp, 'data'), '--out', join(packed, 'utk64.npz'));
    expect(r.status, r.stderr).toBe(0);
    r = py('checkpoint', '--checkpoint', checkpoint, '--out', join(packed, 'style-face.pt'));
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).images).toBe(8); // 2 steps of 4
    const out = join(tmp, 'returned');
    mkdirSync(out, { recursive: true });
    const env = { ...process.env, DEVICE: 'cpu', MAX_STEPS: '1', BATCH: '4', MINUTES: '5', OUT: out, PACKED: packed, PYTHON: pythonPath() };
    const run = spawnSync('bash', [join(ROOT, 'models/tools/device/train-style-gpu.sh')], { cwd: ROOT, encoding: 'utf8', env });
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/resumed at step 2, 8 images,.*Adam moments for 0 G and 0 D/s);
    const back = readdirSync(out).sort();
    expect(back).toEqual(expect.arrayContaining(['style-face.pt', 'style-face.train.pt.part-aa']));
    for (const f of back) expect(statSync(join(out, f)).size, f).toBeLessThanOrEqual(16 * 1024 * 1024);
    const restored = join(tmp, 'restored');
    const restore = spawnSync('bash', [join(ROOT, 'models/tools/device/restore.sh'), out], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CHECKPOINTS: restored } });
    expect(restore.status, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/returned checkpoint: 12 images/);
    expect(readdirSync(restored).sort()).toEqual(['style-face.pt', 'style-face.train.pt']);
  }, 600_000);
});
