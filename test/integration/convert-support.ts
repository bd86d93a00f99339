/**
 * Test support for the TF.js -> ONNX converter: runs the original model in @tensorflow/tfjs
 * (pure-JS CPU backend) and the converted one in onnxruntime (server/onnx) on the same pixels.
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createSession, floatTensor } from '../../server/onnx/runtime.js';

let backendReady: Promise<boolean> | null = null;

/** Loads a layers model from disk without tfjs-node (which needs a native download). */
export async function loadTfjs(modelJsonPath: string): Promise<tf.LayersModel> {
  backendReady ??= tf.setBackend('cpu');
  await backendReady;
  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  const specs: tf.io.WeightsManifestEntry[] = [];
  const shards: Buffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) shards.push(await readFile(join(dirname(modelJsonPath), p)));
  }
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
}

export interface Batch {
  /** NHWC pixels, as tfjs wants them. */
  nhwc: Float32Array;
  n: number;
  h: number;
  w: number;
  c: number;
}

/** Photos resized (cover) to w x h, RGB, scaled from [0, 255] to `range`. */
export async function photoBatch(paths: readonly string[], h: number, w: number, range: [number, number]): Promise<Batch> {
  const nhwc = new Float32Array(paths.length * h * w * 3);
  for (const [i, p] of paths.entries()) {
    const raw = await sharp(p).removeAlpha().resize(w, h, { fit: 'cover' }).raw().toBuffer();
    for (let k = 0; k < raw.length; k++) nhwc[i * h * w * 3 + k] = range[0] + (raw[k]! / 255) * (range[1] - range[0]);
  }
  return { nhwc, n: paths.length, h, w, c: 3 };
}

export function toNchw(b: Batch): Float32Array {
  const out = new Float32Array(b.nhwc.length);
  for (let n = 0; n < b.n; n++)
    for (let y = 0; y < b.h; y++)
      for (let x = 0; x < b.w; x++)
        for (let c = 0; c < b.c; c++) out[((n * b.c + c) * b.h + y) * b.w + x] = b.nhwc[((n * b.h + y) * b.w + x) * b.c + c]!;
  return out;
}

/** A tfjs output in NCHW order (rank 4) or as is (rank 2), with its NCHW dims. */
export async function runTfjs(model: tf.LayersModel, b: Batch): Promise<{ data: Float32Array; dims: number[] }> {
  const x = tf.tensor4d(b.nhwc, [b.n, b.h, b.w, b.c]);
  const y = model.predict(x) as tf.Tensor;
  const out = y.rank === 4 ? tf.transpose(y, [0, 3, 1, 2]) : y;
  const data = (await out.data()) as Float32Array;
  const dims = out.shape;
  tf.dispose([x, y, out]);
  return { data, dims };
}

export async function runOnnx(modelPath: string, b: Batch, outputs?: string[]): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const session = await createSession(modelPath, 'cpu');
  try {
    const feeds = { image: floatTensor(toNchw(b), [b.n, b.c, b.h, b.w]) };
    const result = outputs ? await session.run(feeds, outputs) : await session.run(feeds);
    return Object.fromEntries(Object.entries(result).map(([k, t]) => [k, { data: t.data as Float32Array, dims: [...t.dims] }]));
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Indices of the k largest values of row `row` of an [n, classes] array. */
export function topK(data: Float32Array, classes: number, row: number, k: number): number[] {
  const slice = Array.from(data.subarray(row * classes, (row + 1) * classes));
  return slice.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k).map(([, i]) => i);
}
