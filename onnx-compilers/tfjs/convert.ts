/**
 * TF.js layers model -> ONNX model folder: reads model.json and its shards, translates
 * the Keras graph (NHWC) into ONNX (NCHW), runs the result once in onnxruntime, and
 * writes model.onnx, manifest.json and the source's LICENSE (and labels.txt).
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ManifestSchema } from '../../common/manifest.js';
import { describeError } from '../../common/state.js';
import { DataType, encodeModel, model as onnxModel, valueInfo, type TensorProto } from '../proto.js';
import { checkWithOnnxRuntime } from './check-onnx.js';
import { ConvertError } from './errors.js';
import type { TensorInfo } from './graph.js';
import type { KerasLayer } from './keras-model.js';
import { BATCH, dimsOf, type ConvertedManifest, type DreamLayer, type ModelFile, type ModelKind, type TensorSpec } from './manifest.js';
import { provenance } from './provenance.js';
import { readTfjsModel } from './read-tfjs.js';
import { INPUT_NAME, translate, type Translation } from './translate.js';

export const OPSET = 13;
export const MODEL_FILE = 'model.onnx';

export interface ConvertProgress {
  step: 'read weights' | 'convert layers' | 'check with onnxruntime' | 'write files';
  done: number;
  total: number;
}

export interface ConvertOptions {
  /** Model id for the manifest; default: the output folder's name. */
  id?: string;
  /** Overrides the kind read off the output (vector: classifier, larger image: upscaler). */
  kind?: ModelKind;
  /** Range of input pixel values, e.g. [0, 1]; needed unless the source package is a known one. */
  inputRange?: [number, number];
  /** Classifiers: also output `probabilities` (softmax over `logits`). */
  softmax?: boolean;
  /** Where the model came from (default: npm package@version + path, else the model.json path). */
  source?: string;
  /** The model's licence (default: its package's licence field, or the LICENSE beside it). */
  licence?: string;
  onProgress?: (p: ConvertProgress) => void;
}

export async function convertTfjsModel(modelJsonPath: string, outDir: string, opts: ConvertOptions = {}): Promise<ConvertedManifest> {
  const started = performance.now();
  const progress = opts.onProgress ?? (() => {});
  const tfjs = await readTfjsModel(modelJsonPath, (done, total) => progress({ step: 'read weights', done, total }));
  const origin = await provenance(resolve(modelJsonPath));
  const inputRange = opts.inputRange ?? origin.known?.inputRange;
  if (!inputRange) {
    throw new ConvertError(`the input value range of ${modelJsonPath} is unknown (TF.js files do not record it); pass it, e.g. --input-range 0,1`);
  }
  const licence = opts.licence ?? origin.licence;
  if (!licence) throw new ConvertError(`no licence found for ${modelJsonPath} (no package licence, no LICENSE beside it); pass --licence`);

  const t = translate(tfjs.model, tfjs.weights, opts, (done, total) => progress({ step: 'convert layers', done, total }));
  const inputDims = [BATCH, t.input.channels, ...dimsOf(t.input).slice(2)];
  const bytes = encodeModel(
    onnxModel(
      {
        name: tfjs.model.name,
        node: t.graph.nodes,
        initializer: t.graph.initializers,
        input: [valueInfo(INPUT_NAME, inputDims)],
        output: t.outputs.map((o) => valueInfo(o.name, dimsOf(o))),
      },
      OPSET,
      'imaginary-portraits tfjs converter',
    ),
  );

  // Odd, unequal sizes catch a height/width mix-up and TF's parity-dependent padding.
  progress({ step: 'check with onnxruntime', done: 0, total: 1 });
  const size: [number, number] = t.dynamicSize ? [37, 29] : t.nativeSize!;
  await checkWithOnnxRuntime(bytes, INPUT_NAME, t.input.channels, size, t.outputs.map((o) => ({ name: o.name, dims: dimsAt(o, size) })));
  progress({ step: 'check with onnxruntime', done: 1, total: 1 });

  await mkdir(outDir, { recursive: true });
  const files: ModelFile[] = [];
  const addFile = async (path: string, role: string, format: string, data: Uint8Array, extra: Partial<ModelFile> = {}) => {
    await writeFile(join(outDir, path), data);
    files.push({ path, role, format, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex'), ...extra });
  };
  await addFile(MODEL_FILE, 'weights', 'onnx', bytes, { opset: OPSET });
  if (origin.licenceFile) await addFile('LICENSE', 'licence', 'text', await readFile(origin.licenceFile));
  const labels = t.kind === 'classifier' && origin.labelsFile ? await readFile(origin.labelsFile) : null;
  if (labels) await addFile('labels.txt', 'labels', 'text', labels);

  const id = opts.id ?? basename(resolve(outDir));
  const parameters = countFloats(t.graph.initializers);
  const stride = (x: TensorInfo) => (x.rank === 4 ? t.probe / x.h!.at(t.probe) : t.probe);
  const multipleOf = Math.max(1, ...t.tensors.filter((x) => x.rank === 4).map((x) => Math.round(stride(x))));
  const outputRange = origin.known?.outputRange;
  const manifest: ConvertedManifest = {
    id,
    name: `${id} (converted from TF.js)`,
    description: `${t.kind} converted from the TF.js layers model '${tfjs.model.name}' (${opts.source ?? origin.from}); ${parameters.toLocaleString('en')} parameters.`,
    kind: t.kind,
    files,
    inputs: [
      {
        name: INPUT_NAME,
        dims: inputDims,
        dtype: 'float32',
        range: inputRange,
        layout: 'NCHW RGB',
        description: t.dynamicSize
          ? `any height and width${t.nativeSize ? ` (built for ${t.nativeSize.join('x')})` : ''}${multipleOf > 1 ? `; multiples of ${multipleOf} keep every layer aligned` : ''}`
          : `exactly ${t.nativeSize!.join('x')}`,
      },
    ],
    outputs: t.outputs.map((o) => outputSpec(o, t.kind, outputRange)),
    ...(t.kind !== 'upscaler' && t.activations.length > 0 ? { dream: { file: MODEL_FILE, input: INPUT_NAME, range: inputRange, layers: dreamLayers(t, stride) } } : {}),
    licence: { model: `${licence}${origin.licenceFile ? '; full text in LICENSE' : ''}` },
    imageSize: { native: t.nativeSize, dynamic: t.dynamicSize, multipleOf },
    ...(t.kind === 'upscaler' ? { scale: t.outputs[0]!.h!.at(t.probe) / t.probe } : {}),
    ...(t.kind === 'classifier' ? { classes: t.outputs[0]!.channels } : {}),
    ...(labels ? { labels: 'labels.txt' } : {}),
    source: { from: opts.source ?? origin.from, kerasVersion: tfjs.model.kerasVersion, generatedBy: tfjs.generatedBy, convertedBy: tfjs.convertedBy },
    conversion: {
      tool: 'portraits convert',
      created: new Date().toISOString(),
      seconds: Math.round(performance.now() - started) / 1000,
      parameters,
      foldedBatchNorms: t.foldedBatchNorms,
      warnings: tfjs.weights.unused().map((w) => `weight ${w} is not used by any layer`),
    },
  };
  // The server's registry reads manifests through this schema: never write one it would refuse.
  const valid = ManifestSchema.safeParse(manifest);
  if (!valid.success) throw new ConvertError(`the manifest does not match common/manifest.ts: ${describeError(valid.error)}`);
  await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  progress({ step: 'write files', done: 1, total: 1 });
  return manifest;
}

function outputSpec(o: TensorInfo, kind: ModelKind, range: [number, number] | undefined): TensorSpec {
  const spec: TensorSpec = { name: o.name, dims: dimsOf(o), dtype: 'float32' };
  if (o.rank === 4) spec.layout = 'NCHW RGB';
  if (range && kind === 'upscaler') spec.range = range;
  const what: Record<string, string> = {
    logits: 'class scores before softmax, in labels order',
    probabilities: 'softmax of the class scores',
    upscaled: `the upscaled image${range ? ` in [${range.join(', ')}], not clamped` : ''}`,
  };
  if (what[o.name]) spec.description = what[o.name];
  return spec;
}

/** Each nonlinearity, shallow to deep, as a dream objective ("level-3"). */
function dreamLayers(t: Translation, stride: (x: TensorInfo) => number): DreamLayer[] {
  const layers = t.activations.map(({ layer, tensor }, i) => ({
    name: `level-${i + 1}`,
    tensor: tensor.name,
    channels: tensor.channels,
    description: `${what(layer)} output of Keras layer ${layer.name}: ${tensor.channels} channels at 1/${stride(tensor)} of the input size`,
  }));
  if (t.kind === 'classifier') {
    const scores = t.outputs.find((o) => o.name === 'logits');
    if (scores) layers.push({ name: 'classes', tensor: scores.name, channels: scores.channels, description: 'class scores (logits); a channel is one class' });
  }
  return layers;
}

/** "LeakyReLU", "relu" (an Activation layer), "Conv2D+relu". */
function what(layer: KerasLayer): string {
  const a = layer.config.activation;
  if (typeof a !== 'string') return layer.className;
  return layer.className === 'Activation' ? a : `${layer.className}+${a}`;
}

/** Dims of a tensor for an h x w input, batch 1 (fixed-size models ignore the size). */
function dimsAt(x: TensorInfo, [h, w]: [number, number]): number[] {
  return x.rank === 2 ? [1, x.channels] : [1, x.channels, x.h!.at(h), x.w!.at(w)];
}

function countFloats(tensors: TensorProto[]): number {
  return tensors.filter((x) => x.dataType === DataType.FLOAT).reduce((n, x) => n + (x.dims ?? []).reduce<number>((a, b) => a * Number(b), 1), 0);
}
