/**
 * One small tile through the original TF.js model (tfjs, pure-JS CPU backend) and through
 * its ONNX conversion (onnxruntime): the first-start proof that the cached upscaler paints
 * what its authors' model paints. tfjs is a development dependency; where it is not
 * installed (an `npm install --omit=dev` kiosk) the check says so and the converter's
 * own tests (test/integration/convert-esrgan.test.ts) are the evidence.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { splitmix32 } from '../../common/random.js';
import { floatTensor } from '../onnx/runtime.js';
import { ModelSession } from '../onnx/session.js';

/** Odd, unequal sides catch a height/width mix-up; small enough to take well under a second in tfjs. */
export const CHECK_SIZE: readonly [number, number] = [17, 13];

/**
 * In pixel units of [0, 255]: onnxruntime sums convolutions in float32, tfjs' CPU backend
 * in float64, which differ by ~3e-4 near 255 (the converter's tests' bound, 1e-5 of the range).
 */
export const TFJS_TOLERANCE = 255 * 1e-5;

export type TfjsCheck = { maxAbsDiff: number; size: [number, number]; ms: number } | { skipped: string };

interface TfjsModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
}

export async function compareWithTfjs(modelJsonPath: string, onnxFile: string, [h, w]: readonly [number, number] = CHECK_SIZE): Promise<TfjsCheck> {
  let tf: typeof import('@tensorflow/tfjs');
  try {
    tf = await import('@tensorflow/tfjs');
  } catch (err) {
    return { skipped: `@tensorflow/tfjs is not installed (${(err as Error).message.split('\n')[0]})` };
  }
  const started = performance.now();
  // Production mode: no "install tfjs-node" banner in the server's log (the check needs no speed).
  tf.enableProdMode();
  await tf.setBackend('cpu');

  // Deterministic noise in [0, 255]: every weight and every border case takes part.
  const random = splitmix32(0x75c41e);
  const nhwc = new Float32Array(h * w * 3);
  for (let i = 0; i < nhwc.length; i++) nhwc[i] = Math.round(random() * 255);

  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as TfjsModelJson;
  const specs = json.weightsManifest.flatMap((g) => g.weights) as Parameters<typeof tf.io.fromMemory>[1];
  const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(join(dirname(modelJsonPath), p))));
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
  let reference: Float32Array;
  let dims: number[];
  try {
    const x = tf.tensor4d(nhwc, [1, h, w, 3]);
    const y = model.predict(x) as import('@tensorflow/tfjs').Tensor;
    const nchw = tf.transpose(y, [0, 3, 1, 2]);
    reference = (await nchw.data()) as Float32Array;
    dims = nchw.shape;
    tf.dispose([x, y, nchw]);
  } finally {
    model.dispose();
  }

  const planar = new Float32Array(nhwc.length);
  for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) planar[c * h * w + i] = nhwc[i * 3 + c]!;
  const session = await ModelSession.open(onnxFile, 'cpu', { inputs: [{ name: 'image' }], outputs: [{ name: 'upscaled' }] });
  let got: Float32Array;
  let gotDims: readonly number[];
  try {
    const out = (await session.run({ image: floatTensor(planar, [1, 3, h, w]) })).upscaled!;
    got = out.data as Float32Array;
    gotDims = out.dims;
  } finally {
    await session.release();
  }
  if (gotDims.join() !== dims.join()) {
    return { maxAbsDiff: Number.POSITIVE_INFINITY, size: [h, w], ms: Math.round(performance.now() - started) };
  }
  let max = 0;
  for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i]! - reference[i]!));
  return { maxAbsDiff: max, size: [h, w], ms: Math.round(performance.now() - started) };
}
