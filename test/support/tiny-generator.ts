/**
 * A models folder holding a tiny random-weight face generator (latent 8 -> 16x16 RGB:
 * MatMul, Tanh, Reshape), built with the project's ONNX doorway, for tests that need
 * a real server without the trained model: the registry, session checks and frame
 * path run exactly as with the real one.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gaussian } from '../../common/random.js';
import { floatTensor, int64Tensor, model, node, valueInfo, writeModel } from '../../onnx-compilers/proto.js';

const LATENT = 8;
const SIZE = 16;

/** Writes `<dir>/<id>/{manifest.json,generator.onnx}` and returns the models dir. */
export async function tinyModelsDir(id = 'default-face', dir?: string): Promise<string> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), 'portraits-models-')));
  const folder = join(root, id);
  await mkdir(folder, { recursive: true });
  const pixels = 3 * SIZE * SIZE;
  const weights = gaussian(7, LATENT * pixels).map((v) => v * 0.5);
  await writeModel(
    join(folder, 'generator.onnx'),
    model({
      name: 'tiny-generator',
      input: [valueInfo('latent', ['N', LATENT])],
      output: [valueInfo('image', ['N', 3, SIZE, SIZE])],
      initializer: [floatTensor('w', [LATENT, pixels], weights), int64Tensor('shape', [4], [-1, 3, SIZE, SIZE])],
      node: [node('MatMul', ['latent', 'w'], ['flat']), node('Tanh', ['flat'], ['squashed']), node('Reshape', ['squashed', 'shape'], ['image'])],
    }),
  );
  const manifest = {
    id,
    kind: 'generator',
    generator: { file: 'generator.onnx', input: 'latent', output: 'image', latentSize: LATENT, distribution: 'normal', resolution: SIZE, range: [-1, 1], layout: 'NCHW' },
    licence: { model: 'test fixture, random weights' },
  };
  await writeFile(join(folder, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return root;
}
