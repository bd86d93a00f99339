/**
 * Image features for the Fréchet distance (models/tools/judge.py): pooled activations of an
 * independent pretrained network, the Darknet tiny ImageNet classifier (MIT; converted to
 * models/darknet-tiny by `portraits models fetch darknet-tiny`), run with onnxruntime
 * through server/onnx.
 *
 * The feature graph is the classifier's own graph with two changes, built in memory:
 *  - in front: the network's input transform. Pixels come in as [N, H, W, 3] RGB values
 *    0-255 (any H, W); they are scaled to [0, 1], made NCHW and resized to 224x224 (the
 *    size the classifier was trained at) by bilinear interpolation with half-pixel
 *    centres (ONNX Resize 'linear': 128 -> 224 enlarges, 256 -> 224 shrinks by 0.875,
 *    where plain bilinear barely aliases). `--input 0` feeds the images at their own size
 *    instead (the graph takes any multiple of 16).
 *  - at the end: the last 3x3 conv block before the classifier head, leaky_re_lu_14
 *    (512 channels at 1/16 of the input, 14x14 at 224), averaged over space: a
 *    512-value vector per image. The layers after it (a 1x1 conv to 128, then the
 *    1000-class 1x1 conv) are cut off; what it computes is pruned to what that needs.
 *
 *   --images FILE --size S --out FILE [--model DIR] [--layer leaky_re_lu_14] [--input 224] [--label L]
 *     FILE: raw [N, S, S, 3] uint8 (raw-images.ts). Writes [N, D] float32 little-endian to
 *     --out and prints {"n", "dims", "layer", "input", "seconds"} as JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prune } from '../../onnx-compilers/dream-graph/graph.js';
import { decodeModel, encodeModel, floatTensor as constTensor, int64Tensor, node, valueInfo, type ModelProto } from '../../onnx-compilers/proto.js';
import { createSession, floatTensor, type Session } from '../../server/onnx/runtime.js';
import { parseArgs, readRawImages } from './raw-images.js';

export const FEATURE_LAYER = 'leaky_re_lu_14';
export const NETWORK_INPUT = 224;
export const DEFAULT_MODEL_DIR = 'models/darknet-tiny';

const PIXELS = 'pixels';
const FEATURES = 'features';

export interface FeatureOptions {
  /** The activation to pool (a node output of the source graph). */
  layer?: string;
  /** Side the images are resized to before the network; 0 feeds them at their own size. */
  input?: number;
}

/**
 * The source classifier (input 'image' [N, 3, H, W] in [0, 1]) as a feature model:
 * input 'pixels' [N, H, W, 3] float 0-255, output 'features' [N, C].
 */
export function buildFeatureModel(source: ModelProto, opts: FeatureOptions = {}): Uint8Array {
  const layer = opts.layer ?? FEATURE_LAYER;
  const input = opts.input ?? NETWORK_INPUT;
  const g = source.graph;
  if (!g) throw new Error('the source model has no graph');
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const imageName = (g.input ?? []).find((i) => !inits.has(i.name))?.name;
  if (!imageName) throw new Error('the source model has no image input');
  const nodes = g.node ?? [];
  if (!nodes.some((n) => (n.output ?? []).includes(layer))) {
    throw new Error(`the source model has no tensor '${layer}'`);
  }
  const kept = prune(nodes, [layer]);
  const used = new Set(kept.flatMap((n) => n.input ?? []));

  const front = [
    node('Transpose', [PIXELS], ['pixels_nchw'], { perm: [0, 3, 1, 2] }),
    node('Mul', ['pixels_nchw', 'features_by255'], [input ? 'pixels_unit' : imageName]),
  ];
  const consts = [constTensor('features_by255', [], [1 / 255])];
  if (input) {
    front.push(
      node('Shape', ['pixels_nchw'], ['pixels_shape']),
      node('Slice', ['pixels_shape', 'features_zero', 'features_two'], ['pixels_nc']),
      node('Concat', ['pixels_nc', 'features_hw'], ['features_sizes'], { axis: 0 }),
      node('Resize', ['pixels_unit', '', '', 'features_sizes'], [imageName], {
        mode: 'linear',
        coordinate_transformation_mode: 'half_pixel',
      }),
    );
    consts.push(
      int64Tensor('features_zero', [1], [0]),
      int64Tensor('features_two', [1], [2]),
      int64Tensor('features_hw', [2], [input, input]),
    );
  }
  const back = [
    node('GlobalAveragePool', [layer], ['features_pooled']),
    node('Flatten', ['features_pooled'], [FEATURES], { axis: 1 }),
  ];
  const graph = {
    name: `${g.name ?? 'model'}-features`,
    node: [...front, ...kept, ...back],
    initializer: [...(g.initializer ?? []).filter((t) => used.has(t.name ?? '')), ...consts],
    input: [valueInfo(PIXELS, ['N', 'H', 'W', 3])],
    output: [valueInfo(FEATURES, ['N', 'C'])],
  };
  return encodeModel({ ...source, graph });
}

export async function openFeatureSession(modelDir: string, opts: FeatureOptions = {}, threads = 2): Promise<Session> {
  const file = join(modelDir, 'model.onnx');
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new Error(`${file} not found: run \`npx portraits models fetch darknet-tiny --from ../shared/models/darknet-tiny\``);
  }
  return createSession(buildFeatureModel(decodeModel(bytes), opts), 'cpu', { threads });
}

/** Features of [N, H, W, 3] uint8 images in batches; returns [N, C] float32 (row-major) and C. */
export async function extractFeatures(
  session: Session,
  data: Uint8Array,
  n: number,
  height: number,
  width: number,
  label = '',
  batch = 32,
): Promise<{ features: Float32Array; dims: number }> {
  const per = height * width * 3;
  let out: Float32Array | null = null;
  let dims = 0;
  let last = Date.now();
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    const pixels = Float32Array.from(data.subarray(start * per, (start + count) * per));
    const result = (await session.run({ [PIXELS]: floatTensor(pixels, [count, height, width, 3]) }))[FEATURES]!;
    if (!out) {
      dims = Number(result.dims[1]);
      out = new Float32Array(n * dims);
    }
    out.set(result.data as Float32Array, start * dims);
    if (label && Date.now() - last > 10_000) {
      last = Date.now();
      process.stderr.write(`${label}: ${start + count}/${n}\n`);
    }
  }
  return { features: out ?? new Float32Array(0), dims };
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['images', 'size', 'out']);
  const size = Number(args.size);
  const opts: FeatureOptions = { layer: args.layer ?? FEATURE_LAYER, input: Number(args.input ?? NETWORK_INPUT) };
  const images = readRawImages(args.images!, size, size);
  const t0 = Date.now();
  const session = await openFeatureSession(args.model ?? DEFAULT_MODEL_DIR, opts, Number(args.threads ?? 2));
  const { features, dims } = await extractFeatures(session, images.data, images.n, size, size, args.label ?? 'features');
  await session.release();
  writeFileSync(args.out!, new Uint8Array(features.buffer, features.byteOffset, features.byteLength));
  process.stdout.write(
    JSON.stringify({ n: images.n, dims, layer: opts.layer, input: opts.input, seconds: (Date.now() - t0) / 1000 }) + '\n',
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`features: ${err.message}\n`);
    process.exitCode = 1;
  });
}
