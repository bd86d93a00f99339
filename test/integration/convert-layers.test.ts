/**
 * Every layer type in the converter's table, checked against tfjs: small models built
 * and saved with tfjs (random weights, random batch-norm statistics), converted, and run
 * in both runtimes on odd and even input sizes (TF's 'same' padding differs by parity).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertTfjsModel } from '../../onnx-compilers/tfjs/convert.js';
import { LAYERS } from '../../onnx-compilers/tfjs/layers/index.js';
import type { ConvertedManifest } from '../../onnx-compilers/tfjs/manifest.js';
import { maxAbsDiff, runOnnx, runTfjs, type Batch } from './convert-support.js';

// UpscalerJS' custom layers, as its ESRGAN model definitions register them with tfjs.
class MultiplyBeta extends tf.layers.Layer {
  static readonly className = 'MultiplyBeta';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, 0.2);
  }
}
class PixelShuffle2x extends tf.layers.Layer {
  static readonly className = 'PixelShuffle2x';
  override computeOutputShape(s: tf.Shape): tf.Shape {
    return [s[0]!, s[1] == null ? null : s[1] * 2, s[2] == null ? null : s[2] * 2, s[3]! / 4];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.depthToSpace((Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D, 2, 'NHWC');
  }
}
tf.serialization.registerClass(MultiplyBeta);
tf.serialization.registerClass(PixelShuffle2x);

const L = tf.layers;
type Sym = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Sym | Sym[]) => layer.apply(x) as Sym;
const ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh', 'softplus', 'softsign', 'swish', 'softmax'] as const;

/** A fully convolutional model touching every image layer type, plus a vector head. */
function everyLayerModel(): tf.LayersModel {
  const input = tf.input({ shape: [null, null, 3], name: 'photo' });
  const padded = apply(L.zeroPadding2d({ padding: [[1, 2], [0, 1]], name: 'pad' }), input);
  const c1 = apply(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'c1' }), padded);
  const b1 = apply(L.batchNormalization({ name: 'b1' }), c1); // folded into c1
  const l1 = apply(L.leakyReLU({ alpha: 0.1, name: 'l1' }), b1);
  const dw = apply(L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu6', name: 'dw' }), l1);
  const b2 = apply(L.batchNormalization({ name: 'b2' }), dw); // not foldable: dw has an activation
  const dil = apply(L.conv2d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'elu', name: 'dil' }), b2);
  const acts = ACTIVATIONS.map((a) => apply(L.activation({ activation: a, name: `act_${a}` }), dil));
  const mix = apply(L.conv2d({ filters: 8, kernelSize: 1, name: 'mix' }), apply(L.concatenate({ name: 'acts' }), acts));
  const ap = apply(L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'ap' }), dil);
  const merged = apply(L.concatenate({ axis: -1, name: 'merged' }), [
    apply(L.add({ name: 'sum' }), [mix, ap, dil]),
    apply(L.multiply({ name: 'prod' }), [mix, ap]),
    apply(L.average({ name: 'avg' }), [mix, ap]),
    apply(L.maximum({ name: 'max' }), [mix, ap]),
    apply(L.minimum({ name: 'min' }), [mix, ap]),
  ]);
  let x = apply(L.reLU({ maxValue: 3, name: 'relu_max' }), merged);
  x = apply(L.elu({ name: 'elu' }), x);
  x = apply(L.softmax({ axis: -1, name: 'softmax' }), x);
  x = apply(L.dropout({ rate: 0.5, name: 'drop' }), x);
  x = apply(L.gaussianNoise({ stddev: 1, name: 'noise' }), x);
  x = apply(L.gaussianDropout({ rate: 0.3, name: 'gdrop' }), x);
  x = apply(L.rescaling({ scale: 2, offset: -0.5, name: 'rescale' }), x);
  x = apply(L.conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: 'valid', name: 'valid_s2' }), x);
  x = apply(new MultiplyBeta({ name: 'beta' }), x);
  x = apply(new PixelShuffle2x({ name: 'shuffle' }), x);
  const image = apply(L.upSampling2d({ size: [2, 3], name: 'up' }), x);

  const mp = apply(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'mp' }), dil);
  const apv = apply(L.averagePooling2d({ poolSize: 2, padding: 'valid', name: 'apv' }), dil);
  const pooled = apply(L.concatenate({ name: 'pooled' }), [
    apply(L.globalAveragePooling2d({ name: 'gap' }), mp),
    apply(L.globalMaxPooling2d({ name: 'gmp' }), apv),
  ]);
  const head = apply(L.dense({ units: 5, activation: 'tanh', name: 'head' }), pooled);
  return tf.model({ inputs: input, outputs: [image, head], name: 'every_layer' });
}

/** A fixed-size Sequential classifier: conv (with bias) + folded BN, odd-size pooling, Flatten, Dense softmax. */
function flattenClassifier(): tf.LayersModel {
  const m = tf.sequential({ name: 'flat_classifier' });
  m.add(L.conv2d({ inputShape: [9, 11, 3], filters: 4, kernelSize: 3, padding: 'same', biasInitializer: 'randomNormal', name: 'conv' }));
  m.add(L.batchNormalization({ name: 'bn' }));
  m.add(L.activation({ activation: 'relu', name: 'relu' }));
  m.add(L.maxPooling2d({ poolSize: 2, padding: 'same', name: 'pool' }));
  m.add(L.flatten({ name: 'flat' }));
  m.add(L.dense({ units: 5, activation: 'softmax', name: 'dense' }));
  return m;
}

/** Batch-norm statistics far from the identity, so folding them wrongly shows. */
function randomizeBatchNorms(m: tf.LayersModel): void {
  for (const layer of m.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const c = layer.getWeights()[0]!.shape[0]!;
    layer.setWeights([tf.randomUniform([c], 0.5, 1.5), tf.randomUniform([c], -0.3, 0.3), tf.randomUniform([c], -0.2, 0.2), tf.randomUniform([c], 0.3, 2)]);
  }
}

/** Saves like tfjs' converter does, but with the weights cut into two groups and three shards. */
async function saveTfjs(m: tf.LayersModel, dir: string): Promise<string> {
  let topology: object | null = null;
  let specs: tf.io.WeightsManifestEntry[] = [];
  let data = new Uint8Array();
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      topology = a.modelTopology as object;
      specs = a.weightSpecs ?? [];
      const parts = Array.isArray(a.weightData) ? a.weightData : [a.weightData!];
      data = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
      let o = 0;
      for (const p of parts) data.set(new Uint8Array(p), (o += p.byteLength) - p.byteLength);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const half = Math.ceil(specs.length / 2);
  const bytesOf = (s: tf.io.WeightsManifestEntry[]) => s.reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  const g1 = data.subarray(0, bytesOf(specs.slice(0, half)));
  const g2 = data.subarray(g1.length);
  const cut = Math.floor(g1.length / 3);
  await writeFile(join(dir, 'g1-shard1of2.bin'), g1.subarray(0, cut));
  await writeFile(join(dir, 'g1-shard2of2.bin'), g1.subarray(cut));
  await writeFile(join(dir, 'g2-shard1of1.bin'), g2);
  const manifest = [
    { paths: ['g1-shard1of2.bin', 'g1-shard2of2.bin'], weights: specs.slice(0, half) },
    { paths: ['g2-shard1of1.bin'], weights: specs.slice(half) },
  ];
  const path = join(dir, 'model.json');
  await writeFile(path, JSON.stringify({ format: 'layers-model', modelTopology: topology, weightsManifest: manifest }));
  return path;
}

/** Deterministic pixels in [0, 1]. */
function pixels(h: number, w: number, seed: number): Batch {
  const nhwc = new Float32Array(h * w * 3);
  let s = seed;
  for (let i = 0; i < nhwc.length; i++) nhwc[i] = (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return { nhwc, n: 1, h, w, c: 3 };
}

/** A manifest dim formula ("ceil((H+3)/2)") evaluated for a concrete size. */
function evalDim(d: number | string, h: number, w: number): number {
  if (typeof d === 'number') return d;
  const expr = d.replace(/\bH\b/g, String(h)).replace(/\bW\b/g, String(w));
  if (!/^[\d+\-*/() ceilfloor]+$/.test(expr)) throw new Error(`unexpected dim formula ${d}`);
  return new Function('ceil', 'floor', `return ${expr}`)(Math.ceil, Math.floor) as number;
}

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'portraits-convert-layers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('converter layer table vs tfjs', () => {
  it('converts every supported layer type with tfjs-equal outputs, on odd and even sizes', async () => {
    const m = everyLayerModel();
    randomizeBatchNorms(m);
    const modelJson = await saveTfjs(m, dir);
    const out = join(dir, 'every');
    const manifest: ConvertedManifest = await convertTfjsModel(modelJson, out, { inputRange: [0, 1], kind: 'embedder', licence: 'test model' });

    // The model really exercises the whole table (bar Flatten/Dense-softmax, in the next test).
    const used = new Set(m.layers.map((l) => l.getClassName()));
    const untested = Object.keys(LAYERS).filter((t) => !used.has(t) && t !== 'Flatten');
    expect(untested).toEqual([]);
    expect(manifest.conversion.foldedBatchNorms).toBe(1);
    expect(manifest.conversion.warnings).toEqual([]);
    expect(manifest.imageSize.dynamic).toBe(true);
    expect(manifest.outputs.map((o) => o.name)).toEqual(['up', 'head']);

    for (const [h, w] of [[17, 23], [16, 16], [21, 14]] as const) {
      const b = pixels(h, w, h * 100 + w);
      const ref = m.predict(tf.tensor4d(b.nhwc, [1, h, w, 3])) as tf.Tensor[];
      const onnx = await runOnnx(join(out, 'model.onnx'), b);
      for (const [i, o] of manifest.outputs.entries()) {
        const r = ref[i]!.rank === 4 ? tf.transpose(ref[i]!, [0, 3, 1, 2]) : ref[i]!;
        const got = onnx[o.name]!;
        expect(got.dims, `${o.name} at ${h}x${w}`).toEqual(r.shape);
        expect(o.dims.slice(1).map((d) => evalDim(d, h, w)), `manifest shape of ${o.name}`).toEqual(r.shape.slice(1));
        expect(maxAbsDiff(got.data, r.dataSync() as Float32Array), `${o.name} at ${h}x${w}`).toBeLessThanOrEqual(1e-4);
      }
    }
  }, 60_000);

  it('converts a fixed-size Sequential classifier with Flatten and a softmax Dense head', async () => {
    const m = flattenClassifier();
    randomizeBatchNorms(m);
    const sub = join(dir, 'flat-src');
    await mkdir(sub);
    const modelJson = await saveTfjs(m, sub);
    const out = join(dir, 'flat');
    const manifest = await convertTfjsModel(modelJson, out, { inputRange: [0, 1], licence: 'test model' });
    expect(manifest.kind).toBe('classifier');
    expect(manifest.imageSize.dynamic).toBe(false);
    expect(manifest.inputs[0]!.dims).toEqual(['N', 3, 9, 11]);
    expect(manifest.outputs.map((o) => [o.name, o.dims])).toEqual([['probabilities', ['N', 5]]]);
    expect(manifest.conversion.foldedBatchNorms).toBe(1);
    const b: Batch = { ...pixels(9, 11, 7), n: 1 };
    const two: Batch = { nhwc: new Float32Array([...b.nhwc, ...pixels(9, 11, 8).nhwc]), n: 2, h: 9, w: 11, c: 3 };
    const ref = await runTfjs(m, two);
    const got = (await runOnnx(join(out, 'model.onnx'), two)).probabilities!;
    expect(got.dims).toEqual([2, 5]);
    expect(maxAbsDiff(got.data, ref.data)).toBeLessThanOrEqual(1e-6);
  }, 30_000);
});
