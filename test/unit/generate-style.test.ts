/**
 * The generate stage feeds the frame's `face` settings (common/state.ts) to the generator:
 * to a generator with a W space as its psi, z_mix and mix_from inputs (a tiny graph that
 * really truncates and mixes, test/support/tiny-style-generator.ts), to one without as the
 * z-space truncation, with the mix settings ignored.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossover, generatorFeeds, mixProblem, type FaceSettings } from '../../common/generator-inputs.js';
import { seedToLatent } from '../../common/latent.js';
import { DEFAULT_STATE } from '../../common/state.js';
import { generatorIo, generatorSpec, readManifest } from '../../server/models/registry.js';
import { floatTensor } from '../../server/onnx/runtime.js';
import { ModelSession } from '../../server/onnx/session.js';
import { GenerateStage, type GeneratorSpec } from '../../server/stages/generate.js';
import { fixedSnapshot, newJob } from '../../server/stages/stage.js';
import { tinyModelsDir } from '../support/tiny-generator.js';
import { STYLE_LAYERS, TINY_STYLE, tinyStyleModelsDir } from '../support/tiny-style-generator.js';

interface Opened {
  stage: GenerateStage;
  spec: GeneratorSpec;
  session: ModelSession;
}

async function open(modelsDir: string, id: string): Promise<Opened> {
  const { file, spec } = generatorSpec(await readManifest(join(modelsDir, id)));
  const session = await ModelSession.open(join(modelsDir, id, file), 'cpu', generatorIo(spec));
  return { stage: new GenerateStage(session, spec), spec, session };
}

const face = (p: Partial<FaceSettings>): FaceSettings => ({ ...DEFAULT_STATE.face, ...p });

/** The picture the stage paints for `seed` under these portrait settings, in [0, 1]. */
async function paint(o: Opened, seed: number, p: Partial<FaceSettings>): Promise<Float32Array> {
  const job = { ...newJob(0, fixedSnapshot({ mode: 'seed', seed, face: face(p) })), latent: seedToLatent(seed, o.spec.latentSize) };
  await o.stage.run(job);
  return job.image!.data;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('a generator with a W space', () => {
  let style: Opened;
  beforeAll(async () => {
    style = await open(await tinyStyleModelsDir(), 'style-face');
  });
  afterAll(() => style?.stage.dispose());

  it('opens with its style inputs checked against the manifest', () => {
    expect(style.spec.style?.layers).toBe(STYLE_LAYERS);
  });

  it('truncation from the snapshot changes the picture, and 0 paints every seed as the one average face', async () => {
    const full = await paint(style, 1, { truncation: 1 });
    const half = await paint(style, 1, { truncation: 0.5 });
    expect(maxDiff(full, half)).toBeGreaterThan(0.02);
    expect(maxDiff(full, await paint(style, 2, { truncation: 1 })), 'different seeds, different faces').toBeGreaterThan(0.02);
    expect(maxDiff(await paint(style, 1, { truncation: 0 }), await paint(style, 2, { truncation: 0 }))).toBeLessThan(1e-6);
  });

  it('mixing from the snapshot borrows styles from the mix seed\'s face', async () => {
    const [a, b, c] = [11, 12, 13];
    const off = await paint(style, a, { mix: 'off', mixSeed: b });
    const fine = await paint(style, a, { mix: 'fine', mixSeed: b });
    const middle = await paint(style, a, { mix: 'middle', mixSeed: b });
    expect(maxDiff(off, fine)).toBeGreaterThan(0.01);
    expect(maxDiff(fine, middle), 'middle takes more layers than fine').toBeGreaterThan(0.01);
    expect(maxDiff(fine, await paint(style, a, { mix: 'fine', mixSeed: c })), 'the mix seed matters').toBeGreaterThan(0.01);
    // Mixing a face with itself changes nothing; coarse from B onto A is B's coarse layers and A's rest, which is middle from A onto B.
    expect(maxDiff(off, await paint(style, a, { mix: 'coarse', mixSeed: a }))).toBeLessThan(1e-6);
    expect(maxDiff(await paint(style, a, { mix: 'coarse', mixSeed: b }), await paint(style, b, { mix: 'middle', mixSeed: a }))).toBeLessThan(1e-6);
    // With mixing on, truncation still acts on both faces.
    expect(maxDiff(fine, await paint(style, a, { mix: 'fine', mixSeed: b, truncation: 0.3 }))).toBeGreaterThan(0.01);
  });

  it('is fed exactly what the manifest asks for: crossover at the group starts, no crossover when off', () => {
    expect(crossover(TINY_STYLE, 'off')).toEqual({ from: STYLE_LAYERS, mixFirst: false });
    expect(crossover(TINY_STYLE, 'coarse')).toEqual({ from: 1, mixFirst: true });
    expect(crossover(TINY_STYLE, 'middle')).toEqual({ from: 1, mixFirst: false });
    expect(crossover(TINY_STYLE, 'fine')).toEqual({ from: 3, mixFirst: false });
    const z = new Float32Array(2 * 8).fill(0.5);
    const feeds = generatorFeeds({ input: 'z', latentSize: 8, style: TINY_STYLE }, z, 2, face({ truncation: 0.4, mix: 'fine', mixSeed: 9 }));
    expect(feeds.map((f) => [f.name, f.dims])).toEqual([['z', [2, 8]], ['psi', [2, 1]], ['z_mix', [2, 8]], ['mix_from', [2, 1]]]);
    expect(Array.from(feeds[1]!.data)).toEqual([Math.fround(0.4), Math.fround(0.4)]);
    expect(Array.from(feeds[2]!.data.subarray(8))).toEqual(Array.from(seedToLatent(9, 8)));
    expect(Array.from(feeds[3]!.data)).toEqual([3, 3]);
  });
});

describe('a generator without a W space', () => {
  let plain: Opened;
  beforeAll(async () => {
    plain = await open(await tinyModelsDir(), 'default-face');
  });
  afterAll(() => plain?.stage.dispose());

  async function direct(z: Float32Array): Promise<Float32Array> {
    const out = (await plain.session.run({ latent: floatTensor(z, [1, z.length]) })).image!.data as Float32Array;
    return out.map((v) => Math.min(1, Math.max(0, (v + 1) / 2)));
  }

  it('gets the latent alone, as before, at truncation 1, whatever the mix settings say', async () => {
    const z = seedToLatent(5, plain.spec.latentSize);
    expect(maxDiff(await paint(plain, 5, { truncation: 1, mix: 'off' }), await direct(z))).toBeLessThan(1e-6);
    expect(maxDiff(await paint(plain, 5, { truncation: 1, mix: 'fine', mixSeed: 9 }), await direct(z))).toBeLessThan(1e-6);
  });

  it('gets the z-space truncation: the latent scaled toward 0', async () => {
    const z = seedToLatent(5, plain.spec.latentSize);
    const picture = await paint(plain, 5, { truncation: 0.5 });
    expect(maxDiff(picture, await direct(z.map((v) => v * 0.5)))).toBeLessThan(1e-6);
    expect(maxDiff(picture, await direct(z))).toBeGreaterThan(0.01);
  });

  it('cannot be opened as a style generator: the missing inputs are named', async () => {
    const dir = await tinyModelsDir();
    const { file, spec } = generatorSpec(await readManifest(join(dir, 'default-face')));
    await expect(ModelSession.open(join(dir, 'default-face', file), 'cpu', generatorIo({ ...spec, style: { ...TINY_STYLE } }))).rejects.toThrow(/input 'psi' is missing/);
  });

  it('refuses style mixing with a reason, and allows it with a W space', () => {
    expect(mixProblem(face({ mix: 'off' }), { id: 'default-face' })).toBeNull();
    expect(mixProblem(face({ mix: 'middle' }), { id: 'default-face' })).toMatch(/face\.mix: style mixing needs a generator with a W space.*'default-face'/);
    expect(mixProblem(face({ mix: 'middle' }), { id: 'style-face', style: TINY_STYLE })).toBeNull();
  });
});
