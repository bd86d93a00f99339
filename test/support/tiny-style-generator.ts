/**
 * A models folder holding a tiny random-weight generator with a W space, shaped like the
 * exported style generator (models/tools/export_style.py) so truncation and style mixing
 * really act: z [N, 8] and z_mix [N, 8] -> w = tanh(z M) (6 values), truncated toward a
 * fixed w_avg by psi [N, 1]; LAYERS per-layer w's, where layer i takes z_mix's w when
 * i >= mix_from (a ramp of one layer below it, as in the real graph); the layers' w's
 * together paint a 8x8 RGB picture (MatMul, Tanh). Same ONNX doorway as tiny-generator.ts.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gaussian } from '../../common/random.js';
import { floatTensor, int64Tensor, model, node, valueInfo, writeModel } from '../../onnx-compilers/proto.js';

export const STYLE_LATENT = 8;
const W = 6;
export const STYLE_LAYERS = 4;
const SIZE = 8;

/** The manifest's style section: layer 0 coarse, 1-2 middle, 3 fine. */
export const TINY_STYLE = {
  psi: 'psi',
  mixInput: 'z_mix',
  mixFrom: 'mix_from',
  wSize: W,
  layers: STYLE_LAYERS,
  layerResolutions: [4, 16, 32, 64],
  groups: { coarse: { first: 0, last: 0 }, middle: { first: 1, last: 2 }, fine: { first: 3, last: 3 } },
};

/** Writes `<dir>/<id>/{manifest.json,generator.onnx}` and returns the models dir. */
export async function tinyStyleModelsDir(id = 'style-face', dir?: string): Promise<string> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), 'portraits-style-models-')));
  const folder = join(root, id);
  await mkdir(folder, { recursive: true });
  const pixels = 3 * SIZE * SIZE;
  const mapping = gaussian(21, STYLE_LATENT * W).map((v) => v * 0.6);
  const paint = gaussian(22, STYLE_LAYERS * W * pixels).map((v) => v * 0.5);
  const avg = Float32Array.from({ length: W }, (_, i) => 0.3 * Math.sin(i + 1));
  const mapped = (z: string, out: string) => [
    node('MatMul', [z, 'mapping'], [`${out}_raw`]),
    node('Tanh', [`${out}_raw`], [`${out}_w`]),
    node('Sub', [`${out}_w`, 'w_avg'], [`${out}_off`]),
    node('Mul', [`${out}_off`, 'psi'], [`${out}_scaled`]),
    node('Add', [`${out}_scaled`, 'w_avg'], [out]),
  ];
  await writeModel(
    join(folder, 'generator.onnx'),
    model({
      name: 'tiny-style-generator',
      input: [valueInfo('z', ['N', STYLE_LATENT]), valueInfo('psi', ['N', 1]), valueInfo('z_mix', ['N', STYLE_LATENT]), valueInfo('mix_from', ['N', 1])],
      output: [valueInfo('image', ['N', 3, SIZE, SIZE])],
      initializer: [
        floatTensor('mapping', [STYLE_LATENT, W], mapping),
        floatTensor('w_avg', [1, W], avg),
        floatTensor('index_plus_one', [1, STYLE_LAYERS], Array.from({ length: STYLE_LAYERS }, (_, i) => i + 1)),
        floatTensor('zero', [1], [0]),
        floatTensor('one', [1], [1]),
        floatTensor('paint', [STYLE_LAYERS * W, pixels], paint),
        int64Tensor('w_shape', [3], [-1, 1, W]),
        int64Tensor('t_shape', [3], [-1, STYLE_LAYERS, 1]),
        int64Tensor('flat_shape', [2], [-1, STYLE_LAYERS * W]),
        int64Tensor('image_shape', [4], [-1, 3, SIZE, SIZE]),
      ],
      node: [
        ...mapped('z', 'w1'),
        ...mapped('z_mix', 'w2'),
        // t_i = clamp(i + 1 - mix_from, 0, 1): 0 below the crossover, 1 from it on.
        node('Sub', ['index_plus_one', 'mix_from'], ['t_raw']),
        node('Max', ['t_raw', 'zero'], ['t_low']),
        node('Min', ['t_low', 'one'], ['t']),
        node('Reshape', ['t', 't_shape'], ['t3']),
        node('Sub', ['w2', 'w1'], ['w_diff']),
        node('Reshape', ['w_diff', 'w_shape'], ['w_diff3']),
        node('Reshape', ['w1', 'w_shape'], ['w13']),
        node('Mul', ['t3', 'w_diff3'], ['w_step']),
        node('Add', ['w13', 'w_step'], ['ws']),
        node('Reshape', ['ws', 'flat_shape'], ['ws_flat']),
        node('MatMul', ['ws_flat', 'paint'], ['flat']),
        node('Tanh', ['flat'], ['squashed']),
        node('Reshape', ['squashed', 'image_shape'], ['image']),
      ],
    }),
  );
  const manifest = {
    id,
    kind: 'generator',
    generator: { file: 'generator.onnx', input: 'z', output: 'image', latentSize: STYLE_LATENT, distribution: 'normal', resolution: SIZE, range: [-1, 1], layout: 'NCHW', style: TINY_STYLE },
    licence: { model: 'test fixture, random weights' },
  };
  await writeFile(join(folder, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return root;
}
