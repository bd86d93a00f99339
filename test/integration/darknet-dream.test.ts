/**
 * Dreams on the shipped Darknet tiny ImageNet classifier (models/darknet-tiny, MIT, the
 * default dream network): its styles and layer names, its gradient graph against finite
 * differences, and dreaming from noise toward a class making the classifier see it. None
 * of this needs ../shared; the last test checks, where ../shared is present, that the
 * committed ONNX and manifest are exactly what `portraits models fetch darknet-tiny` makes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { installDarknet } from '../../cli/commands/models.js';
import { ManifestSchema } from '../../common/manifest.js';
import { dreamImage, noiseImage, DEFAULT_DREAM } from '../../server/dream/engine.js';
import { ImageOps } from '../../server/dream/image-ops.js';
import { DreamNet } from '../../server/dream/net.js';
import { createSession, floatTensor } from '../../server/onnx/runtime.js';
import { decodeModel } from '../../onnx-compilers/proto.js';
import { gradCheck } from '../support/onnx-nets.js';
import { sharedPath } from '../support/shared.js';

const dir = fileURLToPath(new URL('../../models/darknet-tiny/', import.meta.url));

describe('Darknet tiny dreams (the shipped model)', () => {
  it('ships with its licence, labels and a manifest that names every layer and six visitor styles', async () => {
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
    expect(manifest.licence.model).toMatch(/^MIT License/);
    expect(await readFile(join(dir, 'LICENSE'), 'utf8')).toMatch(/MIT License/);
    expect((await readFile(join(dir, 'labels.txt'), 'utf8')).trim().split('\n')).toHaveLength(1000);
    const dream = manifest.dream!;
    expect(dream.styles!.map((s) => s.name)).toEqual(['creatures', 'eyes', 'feathers', 'dogs', 'patterns', 'strokes']);
    expect(dream.layers).toHaveLength(16);
    // Friendly names for every layer, none a developer label, none shadowed by a style.
    for (const l of dream.layers) expect(l.name).toMatch(/^[a-z]+$/);
    expect(dream.layers.map((l) => l.name)).not.toContain('level-7');
    expect(new Set([...dream.layers.map((l) => l.name), ...dream.styles!.map((s) => s.name)]).size).toBe(16 + 6);
    expect(dream.logits).toBe('logits');
  });

  it('the compiled gradient matches central finite differences on a low layer', async () => {
    const model = decodeModel(await readFile(join(dir, 'model.onnx')));
    const check = await gradCheck(model, { kind: 'layer', tensor: 'leaky_re_lu_2' }, [1, 3, 32, 32], { seed: 3 });
    expect(check.gradError).toBeLessThanOrEqual(1e-3);
    expect(check.objectiveError).toBeLessThanOrEqual(1e-4);
  });

  it('dreaming from noise toward "jellyfish" makes the classifier see a jellyfish', async () => {
    const labels = (await readFile(join(dir, 'labels.txt'), 'utf8')).split('\n');
    const index = labels.indexOf('jellyfish');
    expect(index).toBeGreaterThan(0);
    const file = join(dir, 'model.onnx');
    const net = await DreamNet.open({ file, input: 'image', range: [0, 1], objective: { kind: 'class', tensor: 'logits', index } }, 'cpu');
    const ops = await ImageOps.create();
    const classify = await createSession(file, 'cpu');
    try {
      const noise = noiseImage(160, 160, 7);
      const dreamed = await dreamImage(net, ops, noise, { ...DEFAULT_DREAM, octaves: 3, iterations: 8, step: 2, jitter: 16, seed: 7, keepColours: false, pyramid: 1 });
      const top1 = async (img: Float32Array) => {
        const out = await classify.run({ image: floatTensor(img, [1, 3, 160, 160]) });
        const logits = out.logits!.data as Float32Array;
        return logits.indexOf(Math.max(...logits));
      };
      expect(await top1(noise.data)).not.toBe(index);
      expect(await top1(dreamed.data)).toBe(index);
    } finally {
      await Promise.allSettled([net.dispose(), ops.dispose(), classify.release()]);
    }
  });
});

const source = sharedPath('models/darknet-tiny');

describe.skipIf(!source)('the shipped Darknet tiny is what `models fetch` makes', () => {
  it('converting ../shared gives the committed ONNX, labels and dream section', async () => {
    const modelsDir = await mkdtemp(join(tmpdir(), 'darknet-'));
    try {
      const fresh = await installDarknet(source, modelsDir);
      const committed = ManifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
      const bytes = (name: string, d: string) => readFile(join(d, name));
      expect(Buffer.compare(await bytes('model.onnx', join(modelsDir, 'darknet-tiny')), await bytes('model.onnx', dir))).toBe(0);
      expect(Buffer.compare(await bytes('labels.txt', join(modelsDir, 'darknet-tiny')), await bytes('labels.txt', dir))).toBe(0);
      expect(fresh.dream).toEqual(committed.dream);
    } finally {
      await rm(modelsDir, { recursive: true, force: true });
    }
  }, 120_000);
});
