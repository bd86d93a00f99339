/**
 * Dreams on the real Darknet tiny ImageNet classifier (third-party: converted from
 * ../shared into a temp folder, never committed): its gradient graph matches finite
 * differences, and dreaming from noise toward a class makes the classifier see it.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { installDarknet } from '../../cli/commands/models.js';
import { dreamImage, noiseImage } from '../../server/dream/engine.js';
import { ImageOps } from '../../server/dream/image-ops.js';
import { DreamNet } from '../../server/dream/net.js';
import { createSession, floatTensor } from '../../server/onnx/runtime.js';
import { decodeModel } from '../../onnx-compilers/proto.js';
import { gradCheck } from '../support/onnx-nets.js';
import { sharedPath } from '../support/shared.js';

const source = sharedPath('models/darknet-tiny');
let dir = '';

beforeAll(async () => {
  if (!source) return;
  const modelsDir = await mkdtemp(join(tmpdir(), 'darknet-'));
  await installDarknet(source, modelsDir);
  dir = join(modelsDir, 'darknet-tiny');
});

describe.skipIf(!source)('Darknet tiny dreams', () => {
  it('names layers for visitors and keeps every converted one', async () => {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    const names = manifest.dream.layers.map((l: { name: string }) => l.name);
    expect(names.slice(0, 4)).toEqual(['strokes', 'patterns', 'eyes', 'creatures']);
    expect(manifest.dream.logits).toBe('logits');
  });

  it.each([
    ['a low layer', { kind: 'layer' as const, tensor: 'leaky_re_lu_2' }],
  ])('the compiled gradient matches central finite differences on %s', async (_name, objective) => {
    const model = decodeModel(await readFile(join(dir, 'model.onnx')));
    const check = await gradCheck(model, objective, [1, 3, 32, 32], { seed: 3 });
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
    const noise = noiseImage(160, 160, 7);
    const dreamed = await dreamImage(net, ops, noise, { octaves: 3, octaveScale: 1.4, iterations: 8, step: 2, jitter: 16, seed: 7 });
    const classify = await createSession(file, 'cpu');
    const top1 = async (img: Float32Array) => {
      const out = await classify.run({ image: floatTensor(img, [1, 3, 160, 160]) });
      const logits = out.logits!.data as Float32Array;
      return logits.indexOf(Math.max(...logits));
    };
    expect(await top1(noise.data)).not.toBe(index);
    expect(await top1(dreamed.data)).toBe(index);
    await Promise.allSettled([net.dispose(), ops.dispose(), classify.release()]);
  });
});
