/**
 * The dream-graph compiler on Darknet tiny (the shipped dream network, models/darknet-tiny,
 * converted from ../shared by `portraits models fetch`): every max-pool output,
 * the deepest activations and a class logit, checked with the net's activation pattern
 * frozen at the base point (see freezeActivations), which makes central differences exact.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDreamLayers, type SingleObjective as Objective } from '../../onnx-compilers/dream-graph/index.js';
import { readModel, type ModelProto } from '../../onnx-compilers/proto.js';
import { gradCheck } from '../support/onnx-nets.js';

const measured: string[] = [];
let darknet: ModelProto;

beforeAll(async () => {
  darknet = await readModel(fileURLToPath(new URL('../../models/darknet-tiny/model.onnx', import.meta.url)));
}, 120_000);

afterAll(async () => {
  if (measured.length) console.log(`dream-graph on Darknet tiny (max relative error, frozen pattern):\n${measured.join('\n')}`);
});

describe('Darknet tiny', () => {
  it('every layer is differentiable and listed with channels and stride', () => {
    const layers = listDreamLayers(darknet);
    expect(layers.length).toBeGreaterThan(20);
    expect(layers.every((l) => l.supported)).toBe(true);
    expect(layers.filter((l) => l.op === 'MaxPool').map((l) => l.stride)).toEqual([2, 4, 8, 16]);
  });

  it('gradients of pooled, deep and class objectives match central differences', async () => {
    const layers = listDreamLayers(darknet);
    const leaky = layers.filter((l) => l.op === 'LeakyRelu');
    const objectives: Objective[] = [
      ...layers.filter((l) => l.op === 'MaxPool').map((l) => ({ kind: 'layer' as const, tensor: l.tensor })),
      ...leaky.slice(-2).map((l) => ({ kind: 'layer' as const, tensor: l.tensor })),
      { kind: 'layer', tensor: leaky.at(-3)!.tensor, channel: 7 },
      { kind: 'class', tensor: 'logits', index: 107 },
    ];
    for (const objective of objectives) {
      const r = await gradCheck(darknet, objective, [1, 3, 64, 64], { freeze: true });
      const name = objective.kind === 'class' ? `class ${objective.index}` : `${objective.tensor}${objective.kind === 'layer' && objective.channel !== undefined ? `[${objective.channel}]` : ''}`;
      measured.push(`${name.padEnd(24)} [1x3x64x64]  objective ${r.objectiveError.toExponential(1)}  grad ${r.gradError.toExponential(1)}`);
      expect(r.objectiveError, name).toBeLessThan(1e-4);
      expect(r.gradError, `${name}: ${JSON.stringify(r.directions)}`).toBeLessThan(1e-3);
    }
  }, 300_000);
});
