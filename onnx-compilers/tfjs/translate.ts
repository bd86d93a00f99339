/**
 * The Keras layer graph translated into an ONNX graph: input `image` (NCHW), each layer
 * through the layer table in topological order, batch norms folded, outputs given
 * public names (logits, probabilities, upscaled).
 */
import { ConvertError } from './errors.js';
import { planBatchNormFolds } from './fold-batchnorm.js';
import { GraphBuilder, inputDim, type TensorInfo } from './graph.js';
import type { KerasLayer, KerasModel } from './keras-model.js';
import type { LayerContext } from './layers/context.js';
import { layerConverter } from './layers/index.js';
import { inferKind, type ModelKind } from './manifest.js';
import type { WeightStore } from './read-tfjs.js';

export const INPUT_NAME = 'image';

/** Layer types whose output is a nonlinearity: the tensors a dream objective can target. */
const ACTIVATION_LAYERS = new Set(['LeakyReLU', 'ReLU', 'ELU', 'Activation', 'Softmax']);
/** Layers whose weights depend on the input's height and width. */
const FIXED_SIZE_LAYERS = new Set(['Flatten']);

export interface Translation {
  graph: GraphBuilder;
  input: TensorInfo;
  outputs: TensorInfo[];
  kind: ModelKind;
  /** Nonlinear layer outputs, in order, with the Keras layer that made each. */
  activations: { layer: KerasLayer; tensor: TensorInfo }[];
  /** Every tensor (for strides). */
  tensors: TensorInfo[];
  dynamicSize: boolean;
  nativeSize: [number, number] | null;
  /** A size at which to evaluate strides and scales: the native one, else 64. */
  probe: number;
  foldedBatchNorms: number;
}

export function translate(km: KerasModel, weights: WeightStore, opts: { kind?: ModelKind; softmax?: boolean }, onLayer: (done: number, total: number) => void): Translation {
  const [, nativeH, nativeW, channels] = km.inputShape;
  if (typeof channels !== 'number') throw new ConvertError(`input '${km.inputLayer}' has no fixed channel count`);
  const dynamicSize = !km.layers.some((l) => FIXED_SIZE_LAYERS.has(l.className));
  if (!dynamicSize && (nativeH == null || nativeW == null)) throw new ConvertError('the model flattens images but declares no input size');
  const input: TensorInfo = {
    name: INPUT_NAME,
    rank: 4,
    channels,
    h: inputDim('H', dynamicSize ? null : nativeH!),
    w: inputDim('W', dynamicSize ? null : nativeW!),
  };

  const graph = new GraphBuilder();
  graph.fresh(INPUT_NAME);
  const folds = planBatchNormFolds(km);
  const folded = new Set(folds.values());
  const byName = new Map(km.layers.map((l) => [l.name, l]));
  const ctx: LayerContext = {
    graph,
    weights,
    foldedBatchNorm: (conv) => (folds.has(conv) ? byName.get(folds.get(conv)!) : undefined),
    isFolded: (bn) => folded.has(bn),
  };
  const tensors = new Map<string, TensorInfo>();
  const activations: Translation['activations'] = [];
  km.layers.forEach((layer, i) => {
    if (layer.name === km.inputLayer) tensors.set(layer.name, input);
    else {
      const tensor = layerConverter(layer)(layer, layer.inputs.map((n) => tensors.get(n)!), ctx);
      tensors.set(layer.name, tensor);
      if (isNonlinear(layer) && tensor.name === layer.name) activations.push({ layer, tensor });
    }
    onLayer(i + 1, km.layers.length);
  });

  const probe = nativeH ?? 64;
  const last = km.outputLayers.map((n) => tensors.get(n)!);
  const kind = opts.kind ?? inferKind(input, last[0]!, probe);
  if (!kind) throw new ConvertError('cannot tell what kind of model this is from its output; pass --kind');
  const outputs = nameOutputs(graph, last, kind, km.outputLayers);
  if (opts.softmax) {
    if (kind !== 'classifier' || outputs.length !== 1 || outputs[0]!.rank !== 2) throw new ConvertError('--softmax applies to classifiers with one vector output');
    if (outputs[0]!.name !== 'probabilities') outputs.push({ ...outputs[0]!, name: graph.op('Softmax', [outputs[0]!.name], 'probabilities', { axis: -1 }) });
  }
  // A nonlinearity that became an output keeps only its output name.
  const renamed = new Set(last.map((t) => t.name));
  return {
    graph,
    input,
    outputs,
    kind,
    activations: activations.filter((a) => !renamed.has(a.tensor.name)),
    tensors: [...tensors.values()],
    dynamicSize,
    nativeSize: nativeH != null && nativeW != null ? [nativeH, nativeW] : null,
    probe,
    foldedBatchNorms: folds.size,
  };
}

function isNonlinear(layer: KerasLayer): boolean {
  if (!ACTIVATION_LAYERS.has(layer.className) && layer.config.activation === undefined) return false;
  return (layer.config.activation ?? 'nonlinear') !== 'linear';
}

/** Public output names: logits / probabilities / upscaled for one output, layer names for several. */
function nameOutputs(graph: GraphBuilder, outs: TensorInfo[], kind: ModelKind, layerNames: string[]): TensorInfo[] {
  const current = new Map<string, string>(); // tensor name at translation -> its name now
  return outs.map((t, i) => {
    const wanted = outs.length > 1 ? layerNames[i]! : publicName(graph, t, kind);
    if (t.name === INPUT_NAME) throw new ConvertError('the model output is its input unchanged');
    const now = current.get(t.name);
    // Two outputs of one tensor: the second is a copy.
    if (now !== undefined) return { ...t, name: graph.op('Identity', [now], graph.fresh(wanted)) };
    if (wanted !== t.name) graph.rename(t.name, wanted);
    current.set(t.name, wanted);
    return { ...t, name: wanted };
  });
}

function publicName(graph: GraphBuilder, t: TensorInfo, kind: ModelKind): string {
  if (kind === 'classifier') return graph.producer(t.name)?.opType === 'Softmax' ? 'probabilities' : 'logits';
  if (kind === 'upscaler') return 'upscaled';
  return 'output';
}
