/** Inference-mode BatchNormalization is a per-channel affine map: scale by gamma / sqrt(var + eps). */
import { float, int, nodeError } from '../attrs.js';
import { base, constFloats, grad0, input, onlyGradInto, shapeOf, type BackwardRule } from './types.js';

export const batchNormalization: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const { node, b } = ctx;
  if (int(node, 'training_mode', 0) !== 0 || (node.output ?? []).filter(Boolean).length > 1) {
    throw nodeError(node, 'training-mode BatchNormalization is not supported (export the model in eval mode)');
  }
  const eps = float(node, 'epsilon', 1e-5);
  const gamma = constFloats(ctx, 1);
  const variance = constFloats(ctx, 4);
  const factor = gamma.map((g, c) => g / Math.sqrt(variance[c]! + eps));
  const rank = shapeOf(ctx, input(ctx, 0)).length;
  const dims = [gamma.length, ...new Array(Math.max(0, rank - 2)).fill(1)];
  const scale = b.floatConst(base(ctx, 'scale'), dims, factor);
  return [b.op('Mul', [grad0(ctx), scale], {}, base(ctx, 'dx'))];
};
