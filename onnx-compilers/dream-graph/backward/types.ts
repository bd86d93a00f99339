/**
 * What a backward rule sees: the forward node, the gradients of its outputs, which
 * inputs need a gradient, and the helpers to emit nodes and read constants/shapes.
 * A rule returns one gradient tensor name (or null) per forward input.
 */
import { tensorFloats, tensorInts, type NodeProto, type TensorProto } from '../../proto.js';
import { nodeError } from '../attrs.js';
import type { GraphBuilder } from '../builder.js';
import type { Probe } from '../shapes.js';

export interface RuleContext {
  readonly b: GraphBuilder;
  readonly node: NodeProto;
  /** d objective / d output[i], or null where no gradient flows back through that output. */
  readonly gradOut: readonly (string | null)[];
  /** Whether input[i] depends on the image (and so needs a gradient). */
  readonly needGrad: readonly boolean[];
  readonly probe: Probe;
  readonly consts: ReadonlyMap<string, TensorProto>;
  /** True when the image's H and W are fixed in the model (static sizes are then safe). */
  readonly staticImage: boolean;
}

export type BackwardRule = (ctx: RuleContext) => (string | null)[];

export function input(ctx: RuleContext, i: number): string {
  const t = ctx.node.input?.[i];
  if (!t) throw nodeError(ctx.node, `input ${i} is missing`);
  return t;
}

export function output(ctx: RuleContext, i = 0): string {
  const t = ctx.node.output?.[i];
  if (!t) throw nodeError(ctx.node, `output ${i} is missing`);
  return t;
}

/** The gradient of output 0 (rules for single-output ops). */
export function grad0(ctx: RuleContext): string {
  const g = ctx.gradOut[0];
  if (!g) throw nodeError(ctx.node, 'no gradient reaches output 0');
  return g;
}

export function shapeOf(ctx: RuleContext, tensor: string): number[] {
  const s = ctx.probe.shape(tensor);
  if (!s) throw nodeError(ctx.node, `cannot infer the shape of '${tensor}'`);
  return s;
}

export function constFloats(ctx: RuleContext, i: number): Float32Array {
  const t = ctx.consts.get(input(ctx, i));
  if (!t) throw nodeError(ctx.node, `input ${i} ('${input(ctx, i)}') must be a constant`);
  return tensorFloats(t);
}

/** Integer values of input i: a constant, or a small tensor the probe could fold. */
export function constInts(ctx: RuleContext, i: number): number[] {
  const name = input(ctx, i);
  const t = ctx.consts.get(name);
  if (t) return tensorInts(t);
  const v = ctx.probe.value(name);
  if (!v) throw nodeError(ctx.node, `input ${i} ('${name}') must be a constant`);
  return v;
}

/** Refuses gradients into inputs the rule cannot handle (e.g. a weight computed from the image). */
export function onlyGradInto(ctx: RuleContext, allowed: readonly number[]): void {
  ctx.needGrad.forEach((need, i) => {
    if (need && !allowed.includes(i)) throw nodeError(ctx.node, `input ${i} ('${ctx.node.input?.[i]}') depends on the image; only input ${allowed.join('/')} may`);
  });
}

/** Name base for a rule's intermediate tensors. */
export function base(ctx: RuleContext, what: string): string {
  return `grad/${ctx.node.name || ctx.node.output?.[0]}/${what}`;
}

/** Sums `g` (shaped like the op's output) down to `target`'s shape where the forward broadcast. */
export function unbroadcast(ctx: RuleContext, g: string, target: string): string {
  const out = shapeOf(ctx, output(ctx));
  const tin = shapeOf(ctx, target);
  if (out.length === tin.length && out.every((v, i) => v === tin[i])) return g;
  const lead = out.length - tin.length;
  const axes: number[] = [];
  for (let i = 0; i < out.length; i++) if (i < lead || (tin[i - lead] === 1 && out[i] !== 1)) axes.push(i);
  if (axes.length === 0) return g;
  const summed = ctx.b.op('ReduceSum', [g, ctx.b.ints(axes)], { keepdims: 1 }, base(ctx, 'unbroadcast'));
  return lead > 0 ? ctx.b.op('Reshape', [summed, ctx.b.shapeOf(target)], {}, base(ctx, 'unbroadcast')) : summed;
}
