/**
 * Conv: the input gradient is a ConvTranspose of the output gradient with the same
 * weights, strides, dilations and groups (for stride 1, an equivalent and faster Conv
 * with the flipped kernel). A strided conv maps several input sizes to
 * one output size, so the transposed conv alone cannot know the input's size: when the
 * image size is dynamic we pad its output (pads/output_padding) so it is never short,
 * and Slice it to the input's run-time shape; with a fixed image size the exact
 * output_padding is computed statically and no Slice is needed.
 */
import { DataType, tensorDims, tensorFloats } from '../../proto.js';
import { int, ints, nodeError, str } from '../attrs.js';
import { base, grad0, input, onlyGradInto, output, shapeOf, type BackwardRule, type RuleContext } from './types.js';

export interface WindowAttrs {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Explicit pads [begins..., ends...], or an auto_pad mode. */
  pads: number[] | 'SAME_UPPER' | 'SAME_LOWER';
  group: number;
}

/** Reads kernel/strides/dilations/pads of a Conv or pool node (auto_pad VALID becomes zero pads). */
export function windowAttrs(ctx: RuleContext, kernel: number[]): WindowAttrs {
  const n = ctx.node;
  const r = kernel.length;
  const autoPad = str(n, 'auto_pad', 'NOTSET');
  const strides = ints(n, 'strides', kernel.map(() => 1));
  const dilations = ints(n, 'dilations', kernel.map(() => 1));
  let pads: WindowAttrs['pads'];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') pads = autoPad;
  else if (autoPad === 'VALID') pads = new Array(2 * r).fill(0);
  else if (autoPad === 'NOTSET') pads = ints(n, 'pads', new Array(2 * r).fill(0));
  else throw nodeError(n, `unknown auto_pad '${autoPad}'`);
  return { kernel, strides, dilations, pads, group: int(n, 'group', 1) };
}

export const conv: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const w = input(ctx, 1);
  const kernel = ints(ctx.node, 'kernel_shape', shapeOf(ctx, w).slice(2));
  return [convInputGrad(ctx, grad0(ctx), w, input(ctx, 0), output(ctx), windowAttrs(ctx, kernel))];
};

/**
 * d/dx of y = conv(x, w): ConvTranspose(g, w) with the result shaped exactly like x.
 * `y` is the forward output (its run-time size is needed for SAME padding).
 */
export function convInputGrad(ctx: RuleContext, g: string, w: string, x: string, y: string, a: WindowAttrs): string {
  const { b } = ctx;
  const r = a.kernel.length;
  const keff = a.kernel.map((k, i) => (k - 1) * a.dilations[i]! + 1);
  const common = { strides: a.strides, dilations: a.dilations, group: a.group };
  const spatialAxes = a.kernel.map((_, i) => i + 2);
  let pads = a.pads;

  if (typeof pads === 'string' && a.strides.every((s) => s === 1)) {
    const upper = pads === 'SAME_UPPER';
    const begins = keff.map((k) => (upper ? Math.floor((k - 1) / 2) : Math.ceil((k - 1) / 2)));
    pads = [...begins, ...keff.map((k, i) => k - 1 - begins[i]!)];
  }
  if (typeof pads === 'string' && ctx.staticImage) pads = samePads(ctx, x, y, keff, a.strides, pads);

  if (typeof pads === 'string') {
    // SAME padding with stride > 1 at a dynamic size: the begin pad depends on the input's parity.
    const full = b.op('ConvTranspose', [g, w], { ...common, output_padding: a.strides.map((s) => s - 1) }, base(ctx, 'convT'));
    const xs = b.dims(x, 2);
    const ys = b.dims(y, 2);
    const span = b.op('Add', [b.op('Mul', [b.op('Sub', [ys, b.ints(a.strides.map(() => 1))]), b.ints(a.strides)]), b.ints(keff)]);
    const total = b.op('Max', [b.op('Sub', [span, xs]), b.ints(a.strides.map(() => 0))]);
    const half = pads === 'SAME_UPPER' ? total : b.op('Add', [total, b.ints(a.strides.map(() => 1))]);
    const begin = b.op('Div', [half, b.ints(a.strides.map(() => 2))]);
    return b.op('Slice', [full, begin, b.op('Add', [begin, xs]), b.ints(spatialAxes)], {}, base(ctx, 'crop'));
  }

  const begins = pads.slice(0, r);
  const ends = pads.slice(r);
  const flipped = a.strides.every((s) => s === 1) && pads.every((p, i) => p <= keff[i % r]! - 1) ? flippedKernel(ctx, w, a.group) : null;
  if (flipped) {
    // Stride 1: a plain Conv with the flipped kernel. onnxruntime's Conv has an optimised
    // (NCHWc) path that ConvTranspose lacks; it runs 2-3x faster here.
    const fullPads = [...begins, ...ends].map((p, i) => keff[i % r]! - 1 - p);
    return b.op('Conv', [g, flipped], { dilations: a.dilations, group: a.group, pads: fullPads }, base(ctx, 'conv'));
  }
  if (ctx.staticImage) {
    // Exact: the uncovered remainder of the padded input becomes output_padding or less end padding.
    const xs = shapeOf(ctx, x).slice(2);
    const ys = shapeOf(ctx, y).slice(2);
    const rem = xs.map((v, i) => v + begins[i]! + ends[i]! - (a.strides[i]! * (ys[i]! - 1) + keff[i]!));
    const endPads = ends.map((e, i) => Math.max(0, e - rem[i]!));
    const outPad = ends.map((e, i) => Math.max(0, rem[i]! - e));
    return b.op('ConvTranspose', [g, w], { ...common, pads: [...begins, ...endPads], ...nonZero('output_padding', outPad) }, base(ctx, 'convT'));
  }
  // Dynamic: make the output s-1-rem too long at most (never short), then crop to x.
  const endPads = ends.map((e, i) => Math.max(0, e - (a.strides[i]! - 1)));
  const outPad = ends.map((e, i) => Math.max(0, a.strides[i]! - 1 - e));
  const t = b.op('ConvTranspose', [g, w], { ...common, pads: [...begins, ...endPads], ...nonZero('output_padding', outPad) }, base(ctx, 'convT'));
  if (a.strides.every((s) => s === 1)) return t;
  return b.op('Slice', [t, b.ints(spatialAxes.map(() => 0)), b.dims(x, 2), b.ints(spatialAxes)], {}, base(ctx, 'crop'));
}

/**
 * The kernel of the input gradient of a stride-1 conv as a Conv: spatially flipped, with
 * input and output channels swapped within each group. Null when w is not a constant.
 */
function flippedKernel(ctx: RuleContext, w: string, group: number): string | null {
  const t = ctx.consts.get(w) ?? ctx.b.initializer(w);
  if (!t || t.dataType !== DataType.FLOAT) return null;
  const [m, cg, ...k] = tensorDims(t) as [number, number, ...number[]];
  const data = tensorFloats(t);
  const area = k.reduce((p, v) => p * v, 1);
  const mg = m / group;
  const out = new Float32Array(data.length);
  for (let gi = 0; gi < group; gi++) {
    for (let mi = 0; mi < mg; mi++) {
      for (let ci = 0; ci < cg; ci++) {
        const from = ((gi * mg + mi) * cg + ci) * area;
        const to = ((gi * cg + ci) * mg + mi) * area;
        // Reversing the flattened window reverses every spatial axis at once.
        for (let j = 0; j < area; j++) out[to + j] = data[from + area - 1 - j]!;
      }
    }
  }
  return ctx.b.floatConst(`${w}/flipped`, [cg * group, mg, ...k], out);
}

function samePads(ctx: RuleContext, x: string, y: string, keff: number[], strides: number[], mode: string): number[] {
  const xs = shapeOf(ctx, x).slice(2);
  const ys = shapeOf(ctx, y).slice(2);
  const total = xs.map((v, i) => Math.max(0, (ys[i]! - 1) * strides[i]! + keff[i]! - v));
  const begins = total.map((t) => (mode === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
  return [...begins, ...total.map((t, i) => t - begins[i]!)];
}

function nonZero(name: string, values: number[]): Record<string, number[]> {
  return values.some((v) => v !== 0) ? { [name]: values } : {};
}
