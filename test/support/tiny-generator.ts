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
  const pixels = 3 * SIZE * SIZE;
  const weights = gaussian(7, LATENT * pixels).map((v) => v * 0.5);
  return writeGeneratorFolder(
    root,
    id,
    SIZE,
    {
      name: 'tiny-generator',
      initializer: [floatTensor('w', [LATENT, pixels], weights), int64Tensor('shape', [4], [-1, 3, SIZE, SIZE])],
      node: [node('MatMul', ['latent', 'w'], ['flat']), node('Tanh', ['flat'], ['squashed']), node('Reshape', ['squashed', 'shape'], ['image'])],
    },
    'test fixture, random weights',
  );
}

/**
 * Writes `<root>/<id>/{generator.onnx,manifest.json}`: a generator graph latent [N, 8] ->
 * image [N, 3, size, size] in [-1, 1], and the manifest the registry reads. Returns `root`.
 */
async function writeGeneratorFolder(root: string, id: string, size: number, graph: Parameters<typeof model>[0], licence: string): Promise<string> {
  const folder = join(root, id);
  await mkdir(folder, { recursive: true });
  await writeModel(join(folder, 'generator.onnx'), model({ ...graph, input: [valueInfo('latent', ['N', LATENT])], output: [valueInfo('image', ['N', 3, size, size])] }));
  const manifest = {
    id,
    kind: 'generator',
    generator: { file: 'generator.onnx', input: 'latent', output: 'image', latentSize: LATENT, distribution: 'normal', resolution: size, range: [-1, 1], layout: 'NCHW' },
    licence: { model: licence },
  };
  await writeFile(join(folder, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return root;
}

/**
 * A models folder whose generator always draws the same sharp picture at `size` px:
 * discs and thin diagonal bars in two colours with one-pixel antialiased edges, like the
 * eyelids and hair strands a display must keep crisp. The latent is multiplied by zero,
 * so every frame is identical (tests of how a picture is drawn, not what it shows).
 */
export async function patternModelsDir(size = 256, id = 'default-face'): Promise<string> {
  const plane = size * size;
  const picture = new Float32Array(3 * plane);
  const dark = [-0.7, -0.6, -0.5];
  const light = [0.8, 0.6, 0.4];
  const discs = [
    [0.3, 0.35, 0.12],
    [0.7, 0.35, 0.12],
    [0.5, 0.72, 0.18],
  ];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = (x + 0.5) / size;
      const v = (y + 0.5) / size;
      // coverage in [0, 1] with a one-pixel ramp at each edge
      let cover = 0;
      for (const [cx, cy, r] of discs) cover = Math.max(cover, Math.min(1, Math.max(0, (r! - Math.hypot(u - cx!, v - cy!)) * size + 0.5)));
      const bar = Math.abs(((u + v) * 12) % 2 - 1) < 0.15 && v > 0.9 ? 1 : 0;
      cover = Math.max(cover, bar);
      for (let c = 0; c < 3; c++) picture[c * plane + y * size + x] = dark[c]! + (light[c]! - dark[c]!) * cover;
    }
  }
  return writeGeneratorFolder(
    await mkdtemp(join(tmpdir(), 'portraits-pattern-')),
    id,
    size,
    {
      name: 'pattern-generator',
      initializer: [floatTensor('zero', [LATENT, 1], new Float32Array(LATENT)), floatTensor('picture', [1, 3 * plane], picture), int64Tensor('shape', [4], [-1, 3, size, size])],
      node: [node('MatMul', ['latent', 'zero'], ['nothing']), node('Add', ['nothing', 'picture'], ['flat']), node('Reshape', ['flat', 'shape'], ['image'])],
    },
    'test fixture, a fixed drawing',
  );
}
