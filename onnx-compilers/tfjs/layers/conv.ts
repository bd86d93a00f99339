/** Conv2D and DepthwiseConv2D as ONNX Conv, with a following BatchNormalization folded in. */
import { foldAffine } from '../fold-batchnorm.js';
import { mapDim, type Dim, type TensorInfo } from '../graph.js';
import type { KerasLayer } from '../keras-model.js';
import { depthwiseToOihw, hwioToOihw, paddingAttrs, samePadding, type Padding } from '../layout.js';
import { activationOf, emitActivation } from './activation.js';
import { image, LayerConfig, one, type LayerContext, type LayerConverter } from './context.js';
import { batchNormAffine } from './normalization.js';

/** Output size of a window op along one axis, TF's rule for 'same' and 'valid'. */
export function windowDim(d: Dim, padding: 'same' | 'valid', k: number, s: number, dil = 1): Dim {
  const span = (k - 1) * dil + 1;
  if (padding === 'same' || (span === 1 && s === 1)) return s === 1 ? d : mapDim(d, (t) => `ceil(${t}/${s})`, (n) => Math.ceil(n / s));
  return mapDim(d, (t) => (s === 1 ? `${t}-${span - 1}` : `floor((${t}-${span})/${s})+1`), (n) => Math.floor((n - span) / s) + 1);
}

interface ConvSpec {
  weight: Float32Array; // [out, in/group, kh, kw]
  bias: Float32Array | null;
  outChannels: number;
  inPerGroup: number;
  group: number;
}

function emitConv(layer: KerasLayer, x: Required<TensorInfo>, ctx: LayerContext, spec: ConvSpec): TensorInfo {
  const c = new LayerConfig(layer);
  const [kh, kw] = c.pair('kernel_size');
  const strides = c.pair('strides', [1, 1]);
  const dilations = c.pair('dilation_rate', [1, 1]);
  if (dilations.some((d) => d !== 1) && strides.some((s) => s !== 1)) throw c.unsupported('dilation together with stride is not supported');
  const padding = c.padding();
  const pad: Padding = padding === 'same' ? samePadding([kh, kw], strides, dilations) : { kind: 'explicit', pads: [0, 0, 0, 0] };

  let bias = spec.bias;
  const g = ctx.graph;
  let outName = layer.name;
  const folded = ctx.foldedBatchNorm(layer.name);
  if (folded) {
    const { scale, shift } = batchNormAffine(folded, spec.outChannels, ctx);
    bias ??= new Float32Array(spec.outChannels);
    foldAffine(spec.weight, bias, scale, shift);
    outName = folded.name;
  }
  const activation = activationOf(layer);
  const convOut = activation === 'linear' ? outName : g.fresh(`${layer.name}/preact`);
  const inputs = [x.name, g.floats(`${layer.name}/kernel`, [spec.outChannels, spec.inPerGroup, kh, kw], spec.weight)];
  if (bias) inputs.push(g.floats(`${layer.name}/bias`, [spec.outChannels], bias));
  g.op('Conv', inputs, convOut, { kernel_shape: [kh, kw], strides, dilations, group: spec.group, ...paddingAttrs(pad) });
  const out: TensorInfo = {
    name: convOut,
    rank: 4,
    channels: spec.outChannels,
    h: windowDim(x.h, padding, kh, strides[0], dilations[0]),
    w: windowDim(x.w, padding, kw, strides[1], dilations[1]),
  };
  return activation === 'linear' ? out : emitActivation(g, layer, activation, out, outName);
}

export const Conv2D: LayerConverter = (layer, inputs, ctx) => {
  const c = new LayerConfig(layer);
  c.channelsLast();
  const x = image(layer, one(layer, inputs));
  const [kh, kw] = c.pair('kernel_size');
  const filters = c.num('filters');
  const groups = c.num('groups', 1);
  if (x.channels % groups !== 0) throw c.unsupported(`${x.channels} input channels do not split into ${groups} groups`);
  const cin = x.channels / groups;
  const kernel = ctx.weights.get(layer.name, 'kernel', [kh, kw, cin, filters]).data;
  const bias = c.bool('use_bias', true) ? Float32Array.from(ctx.weights.get(layer.name, 'bias', [filters]).data) : null;
  return emitConv(layer, x, ctx, { weight: hwioToOihw(kernel, kh, kw, cin, filters), bias, outChannels: filters, inPerGroup: cin, group: groups });
};

export const DepthwiseConv2D: LayerConverter = (layer, inputs, ctx) => {
  const c = new LayerConfig(layer);
  c.channelsLast();
  const x = image(layer, one(layer, inputs));
  const [kh, kw] = c.pair('kernel_size');
  const mult = c.num('depth_multiplier', 1);
  const out = x.channels * mult;
  const kernel = ctx.weights.get(layer.name, 'depthwise_kernel', [kh, kw, x.channels, mult]).data;
  const bias = c.bool('use_bias', true) ? Float32Array.from(ctx.weights.get(layer.name, 'bias', [out]).data) : null;
  return emitConv(layer, x, ctx, { weight: depthwiseToOihw(kernel, kh, kw, x.channels, mult), bias, outChannels: out, inPerGroup: 1, group: x.channels });
};
