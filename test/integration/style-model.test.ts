/**
 * The committed style generator, the installation's default (models/default-face, `portraits export
 * --checkpoint models/checkpoints/style-face.pt --out models/default-face --face face-sr`) and its critic trunk: they open as the server opens them
 * (their style inputs checked), reproduce torch's outputs for all four inputs, truncate and mix,
 * and list files that match their sizes and hashes under the 20 MB limit.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatorFeeds } from '../../common/generator-inputs.js';
import { seedToLatent } from '../../common/latent.js';
import { ManifestSchema, type Manifest } from '../../common/manifest.js';
import { generatorIo, generatorSpec } from '../../server/models/registry.js';
import { floatTensor } from '../../server/onnx/runtime.js';
import { ModelSession } from '../../server/onnx/session.js';
import { listDreamLayers } from '../../onnx-compilers/dream-graph/index.js';
import { readModel } from '../../onnx-compilers/proto.js';
import { expectMatchesReference, testPattern, type ReferenceSummary } from '../support/model-reference.js';
import { gradCheck } from '../support/onnx-nets.js';

const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));
const DIR = join(MODELS, 'default-face');
const MAX_BYTES = 20 * 1024 * 1024;
const present = existsSync(join(DIR, 'manifest.json'));
if (!present) {
  const why = 'models/default-face is not exported (portraits export --checkpoint models/checkpoints/style-face.pt --out models/default-face --face face-sr)';
  if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
  console.warn(`skipped: ${why}`);
}

const read = (dir: string): Manifest => ManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));

describe.skipIf(!present)('the committed style generator', () => {
  let manifest: Manifest;
  let session: ModelSession;
  beforeAll(async () => {
    manifest = read(DIR);
    const { file, spec } = generatorSpec(manifest);
    session = await ModelSession.open(join(DIR, file), 'cpu', generatorIo(spec));
  });
  afterAll(() => session?.release());

  it('describes a W space whose layer groups follow the resolutions, and an unfinished run', () => {
    const style = manifest.generator!.style!;
    expect(style.layers).toBe(style.layerResolutions!.length);
    const at = (i: number) => style.layerResolutions![i]!;
    expect(at(style.groups.coarse.last)).toBeLessThanOrEqual(8);
    expect(at(style.groups.middle.first)).toBe(16);
    expect(at(style.groups.fine.first)).toBeGreaterThanOrEqual(64);
    expect(manifest.related).toEqual({ critic: 'default-face-critic', face: 'face-sr' });
    expect(manifest.licence.commercialUse).toBe(false);
    expect(manifest.training).toMatchObject({ architecture: 'style', complete: false });
    for (const f of manifest.files ?? []) {
      const bytes = readFileSync(join(DIR, f.path));
      expect(bytes.length, f.path).toBeLessThan(MAX_BYTES);
      expect(bytes.length, f.path).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex'), f.path).toBe(f.sha256);
    }
  });

  it('reproduces torch for every input (no mixing, middle and fine mixing, three truncations)', async () => {
    const ref = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8')) as Record<string, number[][]> & { image: ReferenceSummary };
    const n = ref.z!.length;
    const feeds = Object.fromEntries(['z', 'psi', 'z_mix', 'mix_from'].map((name) => [name, floatTensor(Float32Array.from(ref[name]!.flat()), [n, ref[name]![0]!.length])]));
    const out = (await session.run(feeds)).image!;
    expectMatchesReference(out.data as Float32Array, out.dims, ref.image, 'style generator');
  });

  it('truncates toward one average face and mixes in the other face\'s styles', async () => {
    const g = manifest.generator!;
    const paint = async (seed: number, face: { truncation: number; mix: 'off' | 'coarse' | 'middle' | 'fine'; mixSeed: number }) => {
      const feeds = generatorFeeds(g, seedToLatent(seed, g.latentSize), 1, face);
      const out = await session.run(Object.fromEntries(feeds.map((f) => [f.name, floatTensor(f.data, f.dims)])));
      return out.image!.data as Float32Array;
    };
    const diff = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
    const off = { truncation: 0.7, mix: 'off' as const, mixSeed: 2 };
    expect(diff(await paint(1, { ...off, truncation: 0 }), await paint(5, { ...off, truncation: 0 }))).toBeLessThan(1e-5);
    expect(diff(await paint(1, off), await paint(5, off))).toBeGreaterThan(0.05);
    const plain = await paint(1, off);
    for (const mix of ['coarse', 'middle', 'fine'] as const) expect(diff(plain, await paint(1, { ...off, mix })), mix).toBeGreaterThan(0.005);
  });

  it('has a critic trunk whose dream layers reproduce torch', async () => {
    const dir = join(MODELS, 'default-face-critic');
    const critic = read(dir);
    const dream = critic.dream!;
    expect(dream.layers.map((l) => l.name)).toEqual(['edges', 'textures', 'parts', 'features', 'faces']);
    const s = await ModelSession.open(join(dir, dream.file), 'cpu', { inputs: [{ name: dream.input }], outputs: dream.layers.map((l) => ({ name: l.tensor })) });
    try {
      const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { input: { shape: number[] }; outputs: Record<string, ReferenceSummary> };
      const [n, , size] = ref.input.shape as [number, number, number, number];
      const out = await s.run({ [dream.input]: floatTensor(testPattern(n, size), ref.input.shape) });
      for (const [name, summary] of Object.entries(ref.outputs)) expectMatchesReference(out[name]!.data as Float32Array, out[name]!.dims, summary, name);
    } finally {
      await s.release();
    }
  });

  it('has dream layers the dream-graph compiler takes, with correct gradients', async () => {
    const dir = join(MODELS, 'default-face-critic');
    const dream = read(dir).dream!;
    const model = await readModel(join(dir, dream.file));
    const supported = new Set(listDreamLayers(model).filter((l) => l.supported).map((l) => l.tensor));
    for (const layer of dream.layers) {
      expect(supported.has(layer.tensor), layer.tensor).toBe(true);
      const r = await gradCheck(model, { kind: 'layer', tensor: layer.tensor }, [1, 3, 32, 32], { freeze: true });
      expect(r.gradError, layer.tensor).toBeLessThan(1e-3);
    }
  }, 120_000);
});
