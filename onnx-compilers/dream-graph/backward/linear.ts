/** Classifier heads: Gemm and MatMul with a constant (image-independent) weight. */
import { int, float, nodeError } from '../attrs.js';
import { base, grad0, input, onlyGradInto, shapeOf, type BackwardRule } from './types.js';

export const gemm: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const { node, b } = ctx;
  const alpha = float(node, 'alpha', 1);
  const transA = int(node, 'transA', 0);
  const transB = int(node, 'transB', 0);
  const w = input(ctx, 1);
  const g = grad0(ctx);
  // dA' = alpha * g * op(B)^T, transposed back when the forward transposed A.
  const dx = transA === 0
    ? b.op('Gemm', [g, w], { alpha, transB: 1 - transB }, base(ctx, 'dx'), ['alpha'])
    : b.op('Gemm', [w, g], { alpha, transA: transB, transB: 1 }, base(ctx, 'dx'), ['alpha']);
  return [dx];
};

export const matMul: BackwardRule = (ctx) => {
  const { node, b } = ctx;
  if (ctx.needGrad[0] && ctx.needGrad[1]) throw nodeError(node, 'both inputs depend on the image; only one may');
  const [a, w] = [input(ctx, 0), input(ctx, 1)];
  const g = grad0(ctx);
  const swapLast = (t: string): string => {
    const rank = shapeOf(ctx, t).length;
    if (rank < 2) throw nodeError(node, '1-D operands are not supported');
    const perm = [...Array(rank).keys()];
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
    return b.op('Transpose', [t], { perm }, base(ctx, 'transposed'));
  };
  if (ctx.needGrad[0]) {
    if (shapeOf(ctx, w).length !== 2) throw nodeError(node, 'only a 2-D constant right operand is supported');
    return [b.op('MatMul', [g, swapLast(w)], {}, base(ctx, 'dx')), null];
  }
  onlyGradInto(ctx, [1]);
  if (shapeOf(ctx, a).length !== 2) throw nodeError(node, 'only a 2-D constant left operand is supported');
  return [null, b.op('MatMul', [swapLast(a), g], {}, base(ctx, 'dx'))];
};
