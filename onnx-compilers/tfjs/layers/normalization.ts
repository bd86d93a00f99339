/** BatchNormalization: folded into the conv before it where possible, else an ONNX BatchNormalization. */
import type { LayerContext, LayerConverter } from './context.js';
import { LayerConfig, one } from './context.js';
import type { KerasLayer } from '../keras-model.js';

/** A BN layer's inference-time map y = x * scale + shift per channel, in float64. */
export function batchNormAffine(layer: KerasLayer, channels: number, ctx: LayerContext): { scale: Float64Array; shift: Float64Array } {
  const p = readBatchNorm(layer, channels, ctx);
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = p.gamma[c]! / Math.sqrt(p.variance[c]! + p.epsilon);
    shift[c] = p.beta[c]! - p.mean[c]! * scale[c]!;
  }
  return { scale, shift };
}

function readBatchNorm(layer: KerasLayer, channels: number, ctx: LayerContext) {
  const c = new LayerConfig(layer);
  const axis = c.raw('axis') ?? -1;
  const ax = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  if (ax !== -1 && ax !== 3) throw c.unsupported(`normalising over axis ${JSON.stringify(axis)} is not supported (channel axis only)`);
  const shape = [channels];
  const w = (param: string, fill: number) =>
    c.bool(param === 'gamma' ? 'scale' : 'center', true) ? ctx.weights.get(layer.name, param, shape).data : new Float32Array(channels).fill(fill);
  return {
    gamma: w('gamma', 1),
    beta: w('beta', 0),
    mean: ctx.weights.get(layer.name, 'moving_mean', shape).data,
    variance: ctx.weights.get(layer.name, 'moving_variance', shape).data,
    epsilon: c.num('epsilon', 1e-3),
  };
}

export const BatchNormalization: LayerConverter = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  // The conv before it already wrote its output under this layer's name.
  if (ctx.isFolded(layer.name)) return x;
  const p = readBatchNorm(layer, x.channels, ctx);
  const g = ctx.graph;
  const C = [x.channels];
  g.op(
    'BatchNormalization',
    [x.name, g.floats(`${layer.name}/gamma`, C, p.gamma), g.floats(`${layer.name}/beta`, C, p.beta), g.floats(`${layer.name}/moving_mean`, C, p.mean), g.floats(`${layer.name}/moving_variance`, C, p.variance)],
    layer.name,
    { epsilon: p.epsilon },
    ['epsilon'],
  );
  return { ...x, name: layer.name };
};
