/**
 * A stand-in face generator of a chosen cost, for benches that need the frame path to be
 * as heavy as the models being trained (issue 16's 128 px generator and face stage) before
 * those exist: latent -> 8x8 features -> nearest upsample to the output size -> a stack of
 * 3x3 convolutions -> RGB in [-1, 1]. Random weights, so the picture is textured noise; only
 * its cost, shapes and range match a real generator. Built through the project's ONNX helpers
 * and loaded by the server exactly like a trained model (a model folder with a manifest).
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gaussian } from '../../common/random.js';
import { floatTensor, int64Tensor, model, node, valueInfo, writeModel } from '../../onnx-compilers/proto.js';

export const STAND_IN_ID = 'stand-in-heavy';
const LATENT = 512;
const CHANNELS = 32;
const BASE = 8;

export interface StandIn {
  modelsDir: string;
  /** Multiply-adds x 2 per image, in GFLOP, as built (the layer count is rounded). */
  gflop: number;
  layers: number;
}

/** FLOP of one 3x3 convolution `cin` -> `cout` over a `size` x `size` picture. */
function convFlop(cin: number, cout: number, size: number): number {
  return 2 * 9 * cin * cout * size * size;
}

/** Writes `<dir>/stand-in-heavy/{generator.onnx,manifest.json}` costing about `gflop` per image at `resolution`. */
export async function writeStandInGenerator(gflop: number, resolution = 128, dir?: string): Promise<StandIn> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), 'portraits-stand-in-')));
  const folder = join(root, STAND_IN_ID);
  await mkdir(folder, { recursive: true });
  const layers = Math.max(1, Math.round((gflop * 1e9 - convFlop(CHANNELS, 3, resolution)) / convFlop(CHANNELS, CHANNELS, resolution)));
  const weights = (seed: number, n: number, fanIn: number) => gaussian(seed, n).map((v) => v * Math.sqrt(1 / fanIn));
  const init = [
    floatTensor('w_in', [LATENT, CHANNELS * BASE * BASE], weights(1, LATENT * CHANNELS * BASE * BASE, LATENT)),
    int64Tensor('base_shape', [4], [-1, CHANNELS, BASE, BASE]),
    floatTensor('scales', [4], [1, 1, resolution / BASE, resolution / BASE]),
    floatTensor('w_rgb', [3, CHANNELS, 3, 3], weights(2, 3 * CHANNELS * 9, CHANNELS * 9)),
  ];
  const nodes = [node('MatMul', ['latent', 'w_in'], ['flat']), node('Reshape', ['flat', 'base_shape'], ['base']), node('Resize', ['base', '', 'scales'], ['x0'], { mode: 'nearest' })];
  for (let i = 0; i < layers; i++) {
    init.push(floatTensor(`w${i}`, [CHANNELS, CHANNELS, 3, 3], weights(10 + i, CHANNELS * CHANNELS * 9, CHANNELS * 9)));
    nodes.push(node('Conv', [`x${i}`, `w${i}`], [`c${i}`], { pads: [1, 1, 1, 1] }), node('LeakyRelu', [`c${i}`], [`x${i + 1}`], { alpha: 0.2 }, { floats: ['alpha'] }));
  }
  nodes.push(node('Conv', [`x${layers}`, 'w_rgb'], ['rgb'], { pads: [1, 1, 1, 1] }), node('Tanh', ['rgb'], ['image']));
  await writeModel(
    join(folder, 'generator.onnx'),
    model({ name: STAND_IN_ID, input: [valueInfo('latent', ['N', LATENT])], output: [valueInfo('image', ['N', 3, resolution, resolution])], initializer: init, node: nodes }),
  );
  const manifest = {
    id: STAND_IN_ID,
    kind: 'generator',
    generator: { file: 'generator.onnx', input: 'latent', output: 'image', latentSize: LATENT, distribution: 'normal', resolution, range: [-1, 1], layout: 'NCHW' },
    licence: { model: 'bench fixture, random weights' },
  };
  await writeFile(join(folder, 'manifest.json'), JSON.stringify(manifest, null, 2));
  const built = (layers * convFlop(CHANNELS, CHANNELS, resolution) + convFlop(CHANNELS, 3, resolution) + 2 * LATENT * CHANNELS * BASE * BASE) / 1e9;
  return { modelsDir: root, gflop: Math.round(built * 100) / 100, layers };
}
