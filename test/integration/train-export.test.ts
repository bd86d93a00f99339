/**
 * Model tooling end to end through the real CLI: train 2 steps on 16 synthetic images,
 * export, load the ONNX files in onnxruntime as the server opens them (server/onnx) and
 * compare with torch's reference outputs, evaluate; refusals of bad data sets; and the committed
 * default model. Python with torch is needed for the first part: without it the tests
 * skip with a reason, except under CI=true where that is a failure.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPython, pythonPath } from '../../cli/python.js';
import { seedToLatent } from '../../common/latent.js';
import { ManifestSchema, type Manifest } from '../../common/manifest.js';
import { createSession, floatTensor } from '../../server/onnx/runtime.js';
import { ImageOps } from '../../server/dream/image-ops.js';
import { fixedSnapshot, newJob } from '../../server/stages/stage.js';
import { expectMatchesReference, resolveDim, testPattern, type ReferenceSummary } from '../support/model-reference.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin', 'portraits.js');
const MAX_BYTES = 20 * 1024 * 1024;

function portraits(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function readManifest(dir: string): Manifest {
  return ManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
}

/** Makes images.npy ([n, size, size, 3] uint8) of smooth synthetic blobs, with numpy. */
function makeDataset(dir: string, n: number, size = 32): void {
  const code = `
import numpy as np, os
rng = np.random.default_rng(1)
y, x = np.mgrid[0:${size}, 0:${size}] / ${size}
imgs = np.zeros((${n}, ${size}, ${size}, 3), np.uint8)
for i in range(${n}):
    cx, cy, r = rng.uniform(0.3, 0.7, 3)
    blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (0.1 * r))
    imgs[i] = (np.stack([blob, blob * rng.uniform(), 1 - blob], -1) * 255).astype(np.uint8)
os.makedirs(${JSON.stringify(dir)}, exist_ok=True)
np.save(os.path.join(${JSON.stringify(dir)}, 'images.npy'), imgs)`;
  const r = spawnSync(pythonPath(), ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`could not make the test data set: ${r.stderr}`);
}

/** Runs every ONNX model of a folder pair and checks shapes, range and torch agreement. */
async function checkGenerator(dir: string): Promise<Manifest> {
  const m = readManifest(dir);
  const g = m.generator!;
  expect(m.kind).toBe('generator');
  for (const f of m.files ?? []) {
    const bytes = readFileSync(join(dir, f.path));
    expect(bytes.length, `${f.path} size`).toBeLessThan(MAX_BYTES);
    expect(bytes.length).toBe(f.bytes);
    if (f.sha256) expect(createHash('sha256').update(bytes).digest('hex'), `${f.path} sha256`).toBe(f.sha256);
  }
  const session = await createSession(join(dir, g.file), 'cpu');
  try {
    expect(session.inputNames).toEqual([g.input]);
    expect(session.outputNames).toEqual([g.output]);
    for (const n of [1, 4]) {
      const z = new Float32Array(n * g.latentSize);
      for (let i = 0; i < n; i++) z.set(seedToLatent(i, g.latentSize), i * g.latentSize);
      const out = (await session.run({ [g.input]: floatTensor(z, [n, g.latentSize]) }))[g.output]!;
      expect(out.dims).toEqual([n, 3, g.resolution, g.resolution]);
      const data = out.data as Float32Array;
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of data) {
        expect(Number.isFinite(v)).toBe(true);
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo).toBeGreaterThanOrEqual(g.range[0]);
      expect(hi).toBeLessThanOrEqual(g.range[1]);
      expect(hi - lo, 'a generator that paints one flat colour is broken').toBeGreaterThan(0.01);
    }
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { z: number[][]; image: ReferenceSummary };
    const z = Float32Array.from(ref.z.flat());
    const out = (await session.run({ [g.input]: floatTensor(z, [ref.z.length, g.latentSize]) }))[g.output]!;
    expectMatchesReference(out.data as Float32Array, out.dims, ref.image, 'generator');
  } finally {
    await session.release();
  }
  return m;
}

async function checkCritic(dir: string, resolution: number): Promise<Manifest> {
  const m = readManifest(dir);
  expect(m.kind).toBe('critic');
  const dream = m.dream!;
  for (const f of m.files ?? []) expect(statSync(join(dir, f.path)).size).toBeLessThan(MAX_BYTES);
  const session = await createSession(join(dir, dream.file), 'cpu');
  try {
    expect(session.outputNames).toEqual(m.outputs!.map((o) => o.name));
    expect(dream.layers.map((l) => l.tensor).sort()).toEqual([...session.outputNames].sort());
    // Any batch and any size divisible by the total downsampling: the dream passes run at display sizes.
    const step = resolution / 4 >= 16 ? 16 : resolution / 4;
    for (const [N, H, W] of [[1, resolution, resolution], [2, resolution * 2, resolution + step * 2]] as const) {
      const out = await session.run({ [dream.input]: floatTensor(new Float32Array(N * 3 * H * W).fill(0.25), [N, 3, H, W]) });
      for (const spec of m.outputs!) expect(out[spec.name]!.dims, spec.name).toEqual(spec.dims.map((d) => resolveDim(d, { N, H, W })));
    }
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { input: { shape: number[] }; outputs: Record<string, ReferenceSummary> };
    const [n, , size] = ref.input.shape as [number, number, number, number];
    const out = await session.run({ [dream.input]: floatTensor(testPattern(n, size), ref.input.shape) });
    for (const [name, summary] of Object.entries(ref.outputs)) expectMatchesReference(out[name]!.data as Float32Array, out[name]!.dims, summary, name);
  } finally {
    await session.release();
  }
  return m;
}

const pythonProblem = checkPython(['torch', 'numpy', 'cv2', 'onnx']);
if (pythonProblem) {
  if (process.env.CI === 'true') throw new Error(`CI=true but the model tools cannot run: ${pythonProblem}`);
  console.warn(`skipped train/export tests: ${pythonProblem}`);
}

// Generous time limits: each CLI call starts Python and imports torch, slow on a busy 2-core machine.
describe.skipIf(pythonProblem !== null)('train -> export -> onnxruntime -> evaluate (tiny, synthetic data)', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'portraits-train-export-'));
    makeDataset(join(tmp, 'data'), 16);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('trains 2 steps at 16 px through the CLI and leaves a checkpoint and settings', () => {
    const r = portraits('train', '--data', join(tmp, 'data'), '--out', join(tmp, 'run'), '--resolution', '16', '--max-steps', '2', '--batch', '4', '--threads', '1');
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(tmp, 'run', 'checkpoint.pt'))).toBe(true);
    expect(JSON.parse(readFileSync(join(tmp, 'run', 'settings.json'), 'utf8')).resolution).toBe(16);
  }, 300_000);

  it('refuses to export data of unknown terms, naming the flags that fix it', () => {
    const r = portraits('export', '--run', join(tmp, 'run'), '--out', join(tmp, 'models', 'nameless'));
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--data-terms/);
    expect(existsSync(join(tmp, 'models', 'nameless', 'manifest.json'))).toBe(false);
  }, 300_000);

  it('exports a generator and a critic that load and match torch in the server\'s onnxruntime', async () => {
    const out = join(tmp, 'models', 'tiny-face');
    const r = portraits('export', '--run', join(tmp, 'run'), '--out', out, '--data-name', 'synthetic blobs', '--data-terms', 'made by this test; no restrictions');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/valid manifest \(generator 'tiny-face'\)/);
    const g = await checkGenerator(out);
    expect(g.generator).toMatchObject({ input: 'z', output: 'image', latentSize: 128, resolution: 16, range: [-1, 1] });
    expect(g.related).toEqual({ critic: 'tiny-face-critic' });
    expect(g.licence.datasets?.[0]?.terms).toBe('made by this test; no restrictions');
    expect(g.training).toMatchObject({ steps: 2, complete: true });
    const c = await checkCritic(join(tmp, 'models', 'tiny-face-critic'), 16);
    expect(c.outputs!.map((o) => o.name)).toEqual(['feat16', 'feat8', 'feat4']);
    expect(existsSync(join(out, 'README.md'))).toBe(true);
  }, 300_000);

  it('evaluates the exported model into its manifest and card', () => {
    const out = join(tmp, 'models', 'tiny-face');
    const r = portraits('evaluate', '--model', out, '--data', join(tmp, 'data'), '--n', '6', '--novelty', '12', '--detectors', 'tiny', '--no-judge');
    expect(r.code, r.err).toBe(0);
    const m = readManifest(out);
    const metrics = m.metrics as { faceRate: { detectors: { tiny: { n: number; generated: number; real: number } } }; novelty: { generated: { min: number } }; diversity: { metrics: Record<string, unknown> } };
    expect(metrics.faceRate.detectors.tiny.n).toBe(6);
    expect(metrics.faceRate.detectors.tiny.real).toBeGreaterThanOrEqual(0);
    expect(metrics.novelty.generated.min).toBeGreaterThan(0);
    expect(Object.keys(metrics.diversity.metrics)).toEqual(['gray32', 'rgb32']);
    for (const png of ['samples.png', 'interpolation.png', 'nearest.png']) expect(m.files!.map((f) => f.path)).toContain(png);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(/### Face rate[\s\S]*### Novelty[\s\S]*### Diversity/);
  }, 300_000);

  it('refuses an empty data set and a too-small one with a clear message', () => {
    makeDataset(join(tmp, 'empty'), 0);
    makeDataset(join(tmp, 'small'), 5);
    for (const [name, count] of [['empty', 0], ['small', 5]] as const) {
      const r = portraits('train', '--data', join(tmp, name), '--out', join(tmp, `run-${name}`), '--resolution', '16', '--max-steps', '1');
      expect(r.code).not.toBe(0);
      expect(r.err).toContain(`the data set has ${count} images; at least 16 are needed`);
      expect(existsSync(join(tmp, `run-${name}`, 'checkpoint.pt'))).toBe(false);
    }
  }, 300_000);
});

describe.skipIf(pythonProblem !== null)('a face stage checkpoint -> export -> the live face stage', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'portraits-face-export-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('exports one folder whose model the server runs x2 and matches torch', async () => {
    // A face stage checkpoint as train_face_sr.py writes it, with small random weights (training needs the 200 px photos).
    const make = `
import torch
from face_sr import FaceSR
from train_face_sr import pack
torch.manual_seed(3)
net = FaceSR(8, 1, 2)
for p in net.parameters(): torch.nn.init.normal_(p, 0, 0.05)
torch.save({"format": "portraits-face-sr-checkpoint/1", "net": pack(net), "ema": pack(net), "critic": {},
            "state": {"step": 3, "images": 30, "seconds": 1.0}, "settings": {"channels": 8, "blocks": 1, "fold": 2, "base": 16, "data": ""}},
           ${JSON.stringify(join(tmp, 'face-sr.pt'))})`;
    const made = spawnSync(pythonPath(), ['-c', make], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(ROOT, 'models', 'tools') } });
    expect(made.status, made.stderr).toBe(0);
    const out = join(tmp, 'models', 'face-test');
    const r = portraits('export', '--checkpoint', join(tmp, 'face-sr.pt'), '--out', out, '--data-name', 'test', '--data-terms', 'test fixture terms', '--max-input', '96');
    expect(r.code, r.err).toBe(0);
    expect(existsSync(`${out}-critic`)).toBe(false);
    const m = readManifest(out);
    // trained on a 16 px base enlarged to 32: the manifest says so
    expect(m).toMatchObject({ kind: 'upscaler', face: { file: 'face.onnx', input: 'image', output: 'face', scale: 2, range: [-1, 1], maxInput: 96, inputSize: 32 } });

    // The server's face stage on the export's test pattern reproduces torch's output.
    const { openFaceModel } = await import('../../server/models/registry.js');
    const { FaceStage } = await import('../../server/stages/face.js');
    const face = (await openFaceModel({ modelsDir: join(tmp, 'models'), faceModel: 'face-test', provider: 'cpu' }, m))!;
    try {
      const ref = JSON.parse(readFileSync(join(out, 'reference.json'), 'utf8')) as { face: ReferenceSummary };
      const pattern = testPattern(1, 32).map((v) => (v + 1) / 2);
      const ops = await ImageOps.create();
      const stage = new FaceStage(face.session, face.spec, face.id, ops);
      const lifted = await stage.lift({ data: pattern, width: 32, height: 32 });
      expectMatchesReference(lifted.data.map((v) => v * 2 - 1), [1, 3, lifted.height, lifted.width], ref.face, 'face stage');

      // A 16 px picture (the base with the dream pass off) is enlarged to the trained 32 first: 64 px out, as lift(enlarged).
      const small = await ops.resize({ data: pattern, width: 32, height: 32 }, 16, 16);
      const job = newJob(0, fixedSnapshot());
      job.image = small;
      await stage.run(job);
      expect([job.image.width, job.image.height, job.meta.width, job.meta.face]).toEqual([64, 64, 64, 'face-test']);
      const expected = await stage.lift(await ops.resize(small, 32, 32));
      expect(Math.max(...expected.data.map((v, i) => Math.abs(v - job.image!.data[i]!)))).toBeLessThan(1e-6);
      expect(FaceStage.outputSide(face.spec, 16)).toBe(64);
      expect(FaceStage.outputSide(face.spec, 64)).toBe(128);
      expect(FaceStage.outputSide(face.spec, 128)).toBeNull();
      await ops.dispose();
    } finally {
      await face.session.release();
    }
  }, 120_000);
});

// The progressive trainer's committed model (the default before issue 16; the default itself, a style
// generator with more inputs, is checked by style-model.test.ts).
describe('the committed progressive model', () => {
  const dir = join(ROOT, 'models', 'progressive-face');
  const present = existsSync(join(dir, 'manifest.json'));
  if (!present) {
    const why = 'models/progressive-face is not exported (make it with `portraits export --run runs/default-face --out models/progressive-face`)';
    if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
    console.warn(`skipped: ${why}`);
  }

  it.skipIf(!present)('loads in the server\'s onnxruntime, yields finite images in its declared range, matches torch', async () => {
    const m = await checkGenerator(dir);
    expect(m.licence.commercialUse).toBe(false);
    const criticId = m.related?.critic;
    expect(criticId).toBeTruthy();
    await checkCritic(join(ROOT, 'models', criticId!), m.generator!.resolution);
  }, 120_000);
});
