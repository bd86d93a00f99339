/** Softmax / LogSoftmax over one axis (opset 13 semantics), for objectives after a softmax. */
import { int } from '../attrs.js';
import { base, grad0, onlyGradInto, output, type BackwardRule } from './types.js';

export const softmax: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const { b } = ctx;
  const y = output(ctx);
  const g = grad0(ctx);
  const axis = b.ints([int(ctx.node, 'axis', -1)]);
  const dot = b.op('ReduceSum', [b.op('Mul', [g, y]), axis], { keepdims: 1 }, base(ctx, 'dot'));
  return [b.op('Mul', [y, b.op('Sub', [g, dot])], {}, base(ctx, 'dx'))];
};

export const logSoftmax: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const { b } = ctx;
  const g = grad0(ctx);
  const axis = b.ints([int(ctx.node, 'axis', -1)]);
  const total = b.op('ReduceSum', [g, axis], { keepdims: 1 }, base(ctx, 'total'));
  return [b.op('Sub', [g, b.op('Mul', [b.op('Exp', [output(ctx)]), total])], {}, base(ctx, 'dx'))];
};
