/**
 * Ops that move values without changing them: reshapes, transposes, concatenation,
 * splitting, slicing and zero padding. Their gradients move the values back.
 */
import { int, ints, nodeError, str } from '../attrs.js';
import { normAxis, sliceBounds } from '../shapes.js';
import { base, constInts, grad0, input, onlyGradInto, output, shapeOf, type BackwardRule, type RuleContext } from './types.js';

const INT_MAX = 2 ** 53 - 1;

/** Reshape, Flatten, Squeeze, Unsqueeze: reshape the gradient back to the input's run-time shape. */
export const reshape: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const x = input(ctx, 0);
  return [ctx.b.op('Reshape', [grad0(ctx), ctx.b.shapeOf(x)], {}, base(ctx, 'dx'))];
};

export const transpose: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const rank = shapeOf(ctx, input(ctx, 0)).length;
  const perm = ints(ctx.node, 'perm', Array.from({ length: rank }, (_, i) => rank - 1 - i));
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [ctx.b.op('Transpose', [grad0(ctx)], { perm: inverse }, base(ctx, 'dx'))];
};

/** True when the size of `axis` cannot change with the image size (fixed image, or the channel axis of a feature map). */
function staticAxis(ctx: RuleContext, tensor: string, axis: number): boolean {
  return ctx.staticImage || (axis === 1 && shapeOf(ctx, tensor).length >= 3);
}

export const concat: BackwardRule = (ctx) => {
  const { b, node } = ctx;
  const inputs = node.input ?? [];
  const rank = shapeOf(ctx, inputs[0]!).length;
  const axis = normAxis(int(node, 'axis', 0), rank);
  const g = grad0(ctx);
  const sizes = inputs.every((t) => staticAxis(ctx, t, axis))
    ? b.ints(inputs.map((t) => shapeOf(ctx, t)[axis]!))
    : b.op('Concat', inputs.map((t) => b.dims(t, axis, axis + 1)), { axis: 0 }, base(ctx, 'sizes'));
  const parts = b.emit('Split', [g, sizes], { axis }, { outputs: inputs.length, base: base(ctx, 'part') });
  return ctx.needGrad.map((need, i) => (need ? parts[i]! : null));
};

/** Split: concatenate the output gradients, zeros for outputs no gradient reaches. */
export const split: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const { b, node } = ctx;
  const x = input(ctx, 0);
  const axis = normAxis(int(node, 'axis', 0), shapeOf(ctx, x).length);
  const parts = (node.output ?? []).map((o, i) => ctx.gradOut[i] ?? b.op('ConstantOfShape', [b.shapeOf(o)], {}, base(ctx, `zeros${i}`)));
  return [parts.length === 1 ? parts[0]! : b.op('Concat', parts, { axis }, base(ctx, 'dx'))];
};

/** Slice (step 1): zero-pad the gradient back to the input's extent. */
export const slice: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const { b, node } = ctx;
  const x = input(ctx, 0);
  const y = output(ctx);
  const rank = shapeOf(ctx, x).length;
  const starts = constInts(ctx, 1);
  const ends = constInts(ctx, 2);
  const axes = node.input?.[3] ? constInts(ctx, 3).map((a) => normAxis(a, rank)) : starts.map((_, i) => i);
  const steps = node.input?.[4] ? constInts(ctx, 4) : starts.map(() => 1);
  if (steps.some((s) => s !== 1)) throw nodeError(node, 'only step 1 is supported');
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  let dynamic = false;
  axes.forEach((a, i) => {
    if (staticAxis(ctx, x, a)) {
      const dim = shapeOf(ctx, x)[a]!;
      const [s, e] = sliceBounds(starts[i]!, ends[i]!, 1, dim);
      begin[a] = s;
      end[a] = Math.max(0, dim - Math.max(e, s));
    } else {
      if (starts[i]! < 0) throw nodeError(node, `a negative start on axis ${a} at a dynamic image size is not supported`);
      begin[a] = starts[i]!;
      dynamic = true;
    }
  });
  let pads: string;
  if (!dynamic) pads = b.ints([...begin, ...end]);
  else {
    // End padding = what is left after the slice: dims(x) - dims(y) - begin.
    const endPads = b.op('Sub', [b.op('Sub', [b.shapeOf(x), b.shapeOf(y)]), b.ints(begin)], {}, base(ctx, 'end_pads'));
    pads = b.op('Concat', [b.ints(begin), endPads], { axis: 0 }, base(ctx, 'pads'));
  }
  return [b.op('Pad', [grad0(ctx), pads], {}, base(ctx, 'dx'))];
};

/** Constant Pad: slice the padding off the gradient (and zero-pad where the forward cropped). */
export const pad: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const { b, node } = ctx;
  const mode = str(node, 'mode', 'constant');
  if (mode !== 'constant') throw nodeError(node, `mode '${mode}' is not supported (only 'constant')`);
  const pads = node.input?.[1] ? constInts(ctx, 1) : ints(node, 'pads', []);
  const rank = pads.length / 2;
  let g = grad0(ctx);
  if (pads.some((p) => p < 0)) g = b.op('Pad', [g, b.ints(pads.map((p) => Math.max(0, -p)))], {}, base(ctx, 'uncrop'));
  const axes = [...Array(rank).keys()].filter((a) => pads[a]! > 0 || pads[a + rank]! > 0);
  if (axes.length === 0) return [g];
  const starts = axes.map((a) => Math.max(0, pads[a]!));
  const ends = axes.map((a) => (pads[a + rank]! > 0 ? -pads[a + rank]! : INT_MAX));
  return [b.op('Slice', [g, b.ints(starts), b.ints(ends), b.ints(axes)], {}, base(ctx, 'dx'))];
};
