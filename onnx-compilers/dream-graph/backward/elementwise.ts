/**
 * Broadcasting arithmetic. Gradients flow to every input that depends on the image;
 * where the forward broadcast an input, its gradient is summed back to its shape.
 */
import { nodeError } from '../attrs.js';
import { base, grad0, input, output, unbroadcast, type BackwardRule } from './types.js';

export const add: BackwardRule = (ctx) =>
  ctx.needGrad.map((need, i) => (need ? unbroadcast(ctx, grad0(ctx), input(ctx, i)) : null));

export const sub: BackwardRule = (ctx) => {
  const g = grad0(ctx);
  return [
    ctx.needGrad[0] ? unbroadcast(ctx, g, input(ctx, 0)) : null,
    ctx.needGrad[1] ? unbroadcast(ctx, ctx.b.op('Neg', [g], {}, base(ctx, 'neg')), input(ctx, 1)) : null,
  ];
};

export const mul: BackwardRule = (ctx) => {
  const g = grad0(ctx);
  return [0, 1].map((i) => {
    if (!ctx.needGrad[i]) return null;
    const other = input(ctx, 1 - i);
    return unbroadcast(ctx, ctx.b.op('Mul', [g, other], {}, base(ctx, `d${i}`)), input(ctx, i));
  });
};

export const div: BackwardRule = (ctx) => {
  const { b } = ctx;
  const g = grad0(ctx);
  const [a, d] = [input(ctx, 0), input(ctx, 1)];
  return [
    ctx.needGrad[0] ? unbroadcast(ctx, b.op('Div', [g, d], {}, base(ctx, 'd0')), a) : null,
    // d(a/d)/dd = -(a/d)/d = -y/d
    ctx.needGrad[1] ? unbroadcast(ctx, b.op('Neg', [b.op('Div', [b.op('Mul', [g, output(ctx)]), d])], {}, base(ctx, 'd1')), d) : null,
  ];
};

/** Max / Min of two tensors: the gradient goes to the winner (the first input on ties). */
function extremum(compare: 'GreaterOrEqual' | 'LessOrEqual'): BackwardRule {
  return (ctx) => {
    if ((ctx.node.input ?? []).length !== 2) throw nodeError(ctx.node, 'only two inputs are supported');
    const { b } = ctx;
    const g = grad0(ctx);
    const first = b.op(compare, [input(ctx, 0), input(ctx, 1)], {}, base(ctx, 'first_wins'));
    return [
      ctx.needGrad[0] ? unbroadcast(ctx, b.op('Where', [first, g, b.scalar(0)], {}, base(ctx, 'd0')), input(ctx, 0)) : null,
      ctx.needGrad[1] ? unbroadcast(ctx, b.op('Where', [first, b.scalar(0), g], {}, base(ctx, 'd1')), input(ctx, 1)) : null,
    ];
  };
}

export const max = extremum('GreaterOrEqual');
export const min = extremum('LessOrEqual');
