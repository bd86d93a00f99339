/**
 * The dream-graph compiler on Darknet tiny (third-party, in ../shared; converted into a
 * temp folder by the project's TF.js converter, never committed): every max-pool output,
 * the deepest activations and a class logit, checked with the net's activation pattern
 * frozen at the base point (see freezeActivations), which makes central differences exact.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDarknet } from '../../cli/commands/models.js';
import { listDreamLayers, type Objective } from '../../onnx-compilers/dream-graph/index.js';
import { readModel, type ModelProto } from '../../onnx-compilers/proto.js';
import { gradCheck } from '../support/onnx-nets.js';
import { sharedPath } from '../support/shared.js';

const source = sharedPath('models/darknet-tiny');
const measured: string[] = [];
let dir = '';
let darknet: ModelProto;

beforeAll(async () => {
  if (!source) return;
  dir = await mkdtemp(join(tmpdir(), 'dream-graph-darknet-'));
  await installDarknet(source, dir);
  darknet = await readModel(join(dir, 'darknet-tiny', 'model.onnx'));
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  if (measured.length) console.log(`dream-graph on Darknet tiny (max relative error, frozen pattern):\n${measured.join('\n')}`);
});

describe.skipIf(!source)('Darknet tiny', () => {
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
      const name = objective.kind === 'class' ? `class ${objective.index}` : `${objective.tensor}${objective.channel !== undefined ? `[${objective.channel}]` : ''}`;
      measured.push(`${name.padEnd(24)} [1x3x64x64]  objective ${r.objectiveError.toExponential(1)}  grad ${r.gradError.toExponential(1)}`);
      expect(r.objectiveError, name).toBeLessThan(1e-4);
      expect(r.gradError, `${name}: ${JSON.stringify(r.directions)}`).toBeLessThan(1e-3);
    }
  }, 300_000);
});
