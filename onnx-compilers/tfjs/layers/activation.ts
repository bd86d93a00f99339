/** Keras activations (named, or as their own layers) as ONNX element-wise ops. */
import { UnsupportedLayerError } from '../errors.js';
import type { GraphBuilder, TensorInfo } from '../graph.js';
import type { KerasLayer } from '../keras-model.js';
import { LayerConfig, one, type LayerConverter } from './context.js';

const SIMPLE: Record<string, string> = {
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  elu: 'Elu',
  selu: 'Selu', // ONNX's default alpha/gamma are Keras' constants
  softplus: 'Softplus',
  softsign: 'Softsign',
};

export const ACTIVATION_NAMES = ['linear', ...Object.keys(SIMPLE), 'relu6', 'hard_sigmoid', 'swish', 'softmax'] as const;

/** Emits Keras activation `name` on `x` as tensor `out`; 'linear' must be handled by the caller. */
export function emitActivation(g: GraphBuilder, layer: KerasLayer, name: string, x: TensorInfo, out: string): TensorInfo {
  const simple = SIMPLE[name];
  if (simple) g.op(simple, [x.name], out);
  else if (name === 'relu6') clip(g, x.name, out, 0, 6);
  else if (name === 'hard_sigmoid') g.op('HardSigmoid', [x.name], out, { alpha: 0.2, beta: 0.5 }, ['alpha', 'beta']);
  else if (name === 'swish') g.op('Mul', [x.name, g.op('Sigmoid', [x.name], g.fresh(`${out}/sigmoid`))], out);
  else if (name === 'softmax') g.op('Softmax', [x.name], out, { axis: x.rank === 4 ? 1 : -1 });
  else throw new UnsupportedLayerError(layer.className, layer.name, `activation '${name}' is not supported (supported: ${ACTIVATION_NAMES.join(', ')})`);
  return { ...x, name: out };
}

/** A layer's `activation` setting in Keras' snake_case (tfjs-written files may say hardSigmoid). */
export function activationOf(layer: KerasLayer): string {
  const a = layer.config.activation ?? 'linear';
  if (typeof a !== 'string') throw new UnsupportedLayerError(layer.className, layer.name, `activation ${JSON.stringify(a)} is not a built-in name`);
  return a.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}

function clip(g: GraphBuilder, x: string, out: string, lo: number, hi: number): void {
  g.op('Clip', [x, g.floats(`${out}/min`, [], [lo]), g.floats(`${out}/max`, [], [hi])], out);
}

export const Activation: LayerConverter = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const name = activationOf(layer);
  return name === 'linear' ? x : emitActivation(ctx.graph, layer, name, x, layer.name);
};

export const LeakyReLU: LayerConverter = (layer, inputs, ctx) => {
  const c = new LayerConfig(layer);
  const x = one(layer, inputs);
  // Keras 2 calls the slope alpha (default 0.3); Keras 3 calls it negative_slope.
  const alpha = c.num(layer.config.negative_slope !== undefined ? 'negative_slope' : 'alpha', 0.3);
  return { ...x, name: ctx.graph.op('LeakyRelu', [x.name], layer.name, { alpha }, ['alpha']) };
};

export const ReLU: LayerConverter = (layer, inputs, ctx) => {
  const c = new LayerConfig(layer);
  const x = one(layer, inputs);
  const g = ctx.graph;
  const max = c.raw('max_value');
  const slope = c.num('negative_slope', 0);
  if (c.num('threshold', 0) !== 0) throw c.unsupported('a non-zero threshold is not supported');
  if (max !== null && max !== undefined && typeof max !== 'number') throw c.unsupported(`max_value ${JSON.stringify(max)} is not a number`);
  if (slope !== 0 && typeof max === 'number') throw c.unsupported('negative_slope together with max_value is not supported');
  if (slope !== 0) g.op('LeakyRelu', [x.name], layer.name, { alpha: slope }, ['alpha']);
  else if (typeof max === 'number') clip(g, x.name, layer.name, 0, max);
  else g.op('Relu', [x.name], layer.name);
  return { ...x, name: layer.name };
};

export const ELU: LayerConverter = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  ctx.graph.op('Elu', [x.name], layer.name, { alpha: new LayerConfig(layer).num('alpha', 1) }, ['alpha']);
  return { ...x, name: layer.name };
};

export const Softmax: LayerConverter = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const c = new LayerConfig(layer);
  // tfjs runs softmax over the last (channel) axis only, though its layer's default axis is 1.
  const raw = c.raw('axis') ?? -1;
  const axis = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  if (axis !== -1 && axis !== x.rank - 1) throw c.unsupported(`softmax over axis ${JSON.stringify(raw)} is not supported (last axis only, as in tfjs)`);
  return emitActivation(ctx.graph, layer, 'softmax', x, layer.name);
};
