/**
 * Dream names on the shipped Darknet tiny (server/dream/styles.ts): curated styles, every
 * layer by friendly or tensor name, LAYER:N channels, errors that list what is valid; and
 * the dream-graph compiler's `mix` objective (a curated style's blend) against the
 * weighted sum of its terms compiled one by one.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { gaussian } from '../../common/random.js';
import { ManifestSchema } from '../../common/manifest.js';
import { DreamNet } from '../../server/dream/net.js';
import { DreamCatalogue } from '../../server/dream/styles.js';
import { DreamLibrary } from '../../server/dream/library.js';
import { DEFAULT_DREAM_MODEL, dreamModelId } from '../../server/models/registry.js';

const modelsDir = fileURLToPath(new URL('../../models/', import.meta.url));
const dir = `${modelsDir}darknet-tiny`;
const manifest = ManifestSchema.parse(JSON.parse(await readFile(`${dir}/manifest.json`, 'utf8')));
const catalogue = new DreamCatalogue('darknet-tiny', dir, manifest);
const nets: DreamNet[] = [];

afterAll(async () => {
  await Promise.allSettled(nets.map((n) => n.dispose()));
});

describe('dream names', () => {
  it('Darknet tiny is the default dream network when it is installed', () => {
    expect(dreamModelId(modelsDir, '', { related: { critic: 'default-face-critic' } } as never)).toBe(DEFAULT_DREAM_MODEL);
    expect(dreamModelId(modelsDir, 'default-face-critic')).toBe('default-face-critic');
    expect(dreamModelId('/nonexistent', '', { related: { critic: 'c' } } as never)).toBe('c');
  });

  it('offers six curated styles to visitors, the first the default, with their tuning', () => {
    expect(catalogue.styles.map((s) => s.name)).toEqual(['creatures', 'eyes', 'feathers', 'dogs', 'patterns', 'strokes']);
    expect(catalogue.resolve('').name).toBe('creatures');
    const eyes = catalogue.resolve('Eyes');
    expect(eyes).toMatchObject({ kind: 'style', tuning: { octaves: 4, iterations: 5, step: 1, liveStep: 0.7 } });
    expect(eyes.spec.objective).toEqual({ kind: 'mix', terms: [{ tensor: 'leaky_re_lu_8' }, { tensor: 'leaky_re_lu_9', weight: 0.08 }] });
    expect(catalogue.resolve('feathers').spec.objective).toEqual({ kind: 'layer', tensor: 'leaky_re_lu_10', channel: 66 });
    for (const s of catalogue.styles) expect(s.description, s.name).toBeTruthy();
  });

  it('names every layer by friendly or tensor name, and channels as LAYER:N', () => {
    expect(catalogue.resolve('whorls')).toMatchObject({ name: 'whorls', kind: 'layer', spec: { objective: { kind: 'layer', tensor: 'leaky_re_lu_9' } } });
    expect(catalogue.resolve('leaky_re_lu_9').name).toBe('whorls');
    expect(catalogue.resolve('pets:33')).toMatchObject({ name: 'pets:33', kind: 'channel', spec: { objective: { kind: 'layer', tensor: 'leaky_re_lu_12', channel: 33 } } });
    expect(catalogue.resolve('classes:107').spec.objective).toEqual({ kind: 'layer', tensor: 'logits', channel: 107 });
  });

  it('errors list the valid names', () => {
    expect(() => catalogue.resolve('level-7')).toThrow(/unknown dream style 'level-7'; styles: creatures, eyes, feathers, dogs, patterns, strokes; layers: grid, hatching, .*spiders, classes; or LAYER:N/);
    expect(() => catalogue.resolve('whorls:32')).toThrow(/whorls has channels 0-31/);
    expect(() => catalogue.resolve('whorls:x')).toThrow(/channels 0-31/);
    expect(() => catalogue.resolve('nope:3')).toThrow(/unknown dream layer 'nope'; styles: creatures/);
    const library = new DreamLibrary(catalogue, 'cpu');
    expect(library.problem('eyes')).toBeNull();
    expect(library.problem('spiders:5')).toBeNull();
    expect(library.problem('Level-1')).toMatch(/^unknown dream style 'Level-1'; styles: creatures/);
    expect(new DreamLibrary(null, 'cpu').problem('')).toMatch(/no dream network/);
  });
});

describe('a mix objective (one graph for a style\'s blend)', () => {
  it('its gradient is the weighted sum of its terms\' gradients, compiled one by one', async () => {
    const open = async (objective: Parameters<typeof DreamNet.open>[0]['objective']) => {
      const net = await DreamNet.open({ file: `${dir}/model.onnx`, input: 'image', range: [0, 1], objective }, 'cpu');
      nets.push(net);
      return net;
    };
    const size = 48;
    const img = { width: size, height: size, data: gaussian(5, 3 * size * size).map((v) => 0.5 + 0.2 * v) };
    const terms = [{ tensor: 'leaky_re_lu_8' }, { tensor: 'leaky_re_lu_9', weight: 0.08 }, { tensor: 'leaky_re_lu_12', channel: 33, weight: 2.5 }];
    const mix = await (await open({ kind: 'mix', terms })).gradient(img);
    const parts = await Promise.all(terms.map(async (t) => (await open({ kind: 'layer', tensor: t.tensor, ...(t.channel !== undefined ? { channel: t.channel } : {}) })).gradient(img)));
    const weights = terms.map((t) => t.weight ?? 1);
    const objective = parts.reduce((s, p, k) => s + weights[k]! * p.objective, 0);
    expect(mix.objective).toBeCloseTo(objective, 4);
    let err = 0;
    let norm = 0;
    for (let i = 0; i < mix.grad.length; i++) {
      const want = parts.reduce((s, p, k) => s + weights[k]! * p.grad[i]!, 0);
      err += (mix.grad[i]! - want) ** 2;
      norm += want ** 2;
    }
    expect(Math.sqrt(err / norm)).toBeLessThan(1e-5);
  });

  it('every curated style compiles and gives a finite, non-zero gradient', async () => {
    const img = { width: 32, height: 32, data: gaussian(6, 3 * 32 * 32).map((v) => 0.5 + 0.2 * v) };
    for (const style of catalogue.styles) {
      const net = await DreamNet.open(style.spec, 'cpu');
      nets.push(net);
      const { grad } = await net.gradient(img);
      expect(grad.every(Number.isFinite), style.name).toBe(true);
      expect(grad.some((v) => v !== 0), style.name).toBe(true);
    }
  });
});
