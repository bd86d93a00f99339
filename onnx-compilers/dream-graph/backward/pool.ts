/**
 * Pooling. AveragePool spreads each output gradient evenly over its window (a depthwise
 * ConvTranspose with a constant kernel). MaxPool routes it to the window's maximum:
 * with disjoint windows through MaxUnpool and the forward's argmax indices; with
 * overlapping windows (e.g. Darknet's 2x2 stride-1 pool) by comparing every window
 * element to the max (ties share the gradient) and scattering back with ConvTranspose.
 */
import { int, ints, nodeError } from '../attrs.js';
import { convInputGrad, windowAttrs, type WindowAttrs } from './conv.js';
import { base, grad0, input, onlyGradInto, output, shapeOf, type BackwardRule, type RuleContext } from './types.js';

export const averagePool: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const { b, node } = ctx;
  if (int(node, 'ceil_mode', 0) === 1) throw nodeError(node, 'ceil_mode=1 is not supported for AveragePool (its last window has a size-dependent divisor)');
  const x = input(ctx, 0);
  const kernel = ints(node, 'kernel_shape', []);
  const a = windowAttrs(ctx, kernel);
  const channels = shapeOf(ctx, x)[1]!;
  const size = kernel.reduce((p, k) => p * k, 1);
  let g = grad0(ctx);
  const padded = typeof a.pads === 'string' || a.pads.some((p) => p > 0);
  let weight: string;
  if (padded && int(node, 'count_include_pad', 0) === 0) {
    // Border windows average fewer elements: divide by the per-window count, then spread with ones.
    const ones = b.op('ConstantOfShape', [b.op('Concat', [b.ints([1, 1]), b.dims(x, 2)], { axis: 0 })], { value: onesTensor() }, base(ctx, 'ones'));
    const fraction = b.emit('AveragePool', [ones], poolAttrs(node, { count_include_pad: 1 }), { base: base(ctx, 'fraction') })[0]!;
    g = b.op('Div', [g, b.op('Mul', [fraction, b.scalar(size)])], {}, base(ctx, 'scaled'));
    weight = b.floatConst(base(ctx, 'ones_kernel'), [channels, 1, ...kernel], new Float32Array(channels * size).fill(1));
  } else {
    weight = b.floatConst(base(ctx, 'mean_kernel'), [channels, 1, ...kernel], new Float32Array(channels * size).fill(1 / size));
  }
  return [convInputGrad(ctx, g, weight, x, output(ctx), { ...a, group: channels })];
};

export const globalAveragePool: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const { b } = ctx;
  const x = input(ctx, 0);
  const g = b.op('Div', [grad0(ctx), b.count(x, 2)], {}, base(ctx, 'mean'));
  return [b.op('Expand', [g, b.shapeOf(x)], {}, base(ctx, 'spread'))];
};

export const globalMaxPool: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const { b } = ctx;
  const x = input(ctx, 0);
  const isMax = b.op('Equal', [x, output(ctx)], {}, base(ctx, 'is_max'));
  return [b.op('Where', [isMax, grad0(ctx), b.scalar(0)], {}, base(ctx, 'route'))];
};

export const maxPool: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const { node } = ctx;
  if (int(node, 'storage_order', 0) !== 0) throw nodeError(node, 'storage_order=1 is not supported');
  const kernel = ints(node, 'kernel_shape', []);
  const a = windowAttrs(ctx, kernel);
  const disjoint = kernel.every((k, i) => (k - 1) * a.dilations[i]! + 1 <= a.strides[i]!);
  return [disjoint ? unpoolGrad(ctx, kernel, a) : equalityGrad(ctx, kernel, a)];
};

/** Disjoint windows: each input element is the argmax of at most one window. */
function unpoolGrad(ctx: RuleContext, kernel: number[], a: WindowAttrs): string {
  const { b, node } = ctx;
  const outputs = node.output ?? [];
  // The forward MaxPool (our own copy of the node) also reports its argmax indices.
  let indices = outputs[1];
  if (!indices) {
    indices = b.fresh(`${outputs[0]}/argmax`);
    node.output = [outputs[0]!, indices];
  }
  // The indices address x's own layout, so output_shape must be x's shape. onnxruntime
  // refuses one smaller than (out-1)*s + k - pads, which ceil_mode or SAME padding can
  // exceed; pads only enter that check, so pass the largest it accepts (k-1 per side).
  const pads = [...kernel, ...kernel].map((k) => k - 1);
  const x = input(ctx, 0);
  return b.op('MaxUnpool', [grad0(ctx), indices, b.shapeOf(x)], { kernel_shape: kernel, strides: a.strides, pads }, base(ctx, 'unpool'));
}

/**
 * Overlapping windows: a one-hot depthwise Conv lays out every window element as its own
 * channel (C*K channels), Equal against the pooled max masks the gradient, and the
 * transposed one-hot Conv sums it back onto the input positions.
 */
function equalityGrad(ctx: RuleContext, kernel: number[], a: WindowAttrs): string {
  const { b, node } = ctx;
  const x = input(ctx, 0);
  const y = output(ctx);
  const channels = shapeOf(ctx, x)[1]!;
  const size = kernel.reduce((p, k) => p * k, 1);
  const oneHot = new Float32Array(channels * size * size);
  for (let c = 0; c < channels; c++) for (let j = 0; j < size; j++) oneHot[(c * size + j) * size + j] = 1;
  const weight = b.floatConst(base(ctx, 'one_hot'), [channels * size, 1, ...kernel], oneHot);
  const ceil = int(node, 'ceil_mode', 0) === 1;
  if (ceil && typeof a.pads === 'string') throw nodeError(node, 'ceil_mode=1 with auto_pad is not supported');
  const r = kernel.length;
  // ceil_mode adds a partial last window: pad the end so Conv produces it, then crop to y.
  const pads: Record<string, string | number[]> = typeof a.pads === 'string' ? { auto_pad: a.pads } : { pads: ceil ? a.pads.map((p, i) => (i < r ? p : p + a.strides[i - r]! - 1)) : a.pads };
  let windows = b.op('Conv', [x, weight], { strides: a.strides, dilations: a.dilations, group: channels, ...pads }, base(ctx, 'windows'));
  const spatial = kernel.map((_, i) => i + 2);
  if (ceil) windows = b.op('Slice', [windows, b.ints(spatial.map(() => 0)), b.dims(y, 2), b.ints(spatial)], {}, base(ctx, 'windows_crop'));
  const grouped = b.ints([0, channels, size, -1]);
  const perWindow = b.ints([0, channels, 1, -1]);
  const isMax = b.op('Equal', [b.op('Reshape', [windows, grouped]), b.op('Reshape', [y, perWindow])], {}, base(ctx, 'is_max'));
  const routed = b.op('Where', [isMax, b.op('Reshape', [grad0(ctx), perWindow]), b.scalar(0)], {}, base(ctx, 'route'));
  const g = b.op('Reshape', [routed, b.shapeOf(windows)], {}, base(ctx, 'routed'));
  // The ceil window's extra end padding is cropped by convInputGrad along with the rest.
  const attrs: WindowAttrs = { ...a, group: channels, pads: typeof a.pads === 'string' ? a.pads : (pads['pads'] as number[]) };
  return convInputGrad(ctx, g, weight, x, y, attrs);
}

function poolAttrs(node: RuleContext['node'], override: Record<string, number>): Record<string, number | number[] | string> {
  const out: Record<string, number | number[] | string> = {};
  for (const a of node.attribute ?? []) {
    if (a.name === 'count_include_pad') continue;
    if (a.ints && a.ints.length > 0) out[a.name!] = a.ints.map(Number);
    else if (a.s && a.s.length > 0) out[a.name!] = new TextDecoder().decode(a.s);
    else out[a.name!] = Number(a.i ?? 0);
  }
  return { ...out, ...override };
}

function onesTensor() {
  return { dims: [1], dataType: 1, floatData: [1] };
}
