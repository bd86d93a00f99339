/**
 * Nearest-neighbour Resize by integer factors (PyTorch's F.interpolate(scale_factor=k)):
 * every input pixel is copied into a k x k block, so its gradient is the block's sum,
 * an AveragePool with a k x k window times k*k.
 */
import { nodeError, str } from '../attrs.js';
import { base, grad0, input, onlyGradInto, output, shapeOf, type BackwardRule } from './types.js';

/** Coordinate modes under which an integer-factor nearest resize copies input i to outputs [k*i, k*i+k). */
const BLOCK_COPY: Record<string, readonly string[]> = {
  asymmetric: ['floor'],
  half_pixel: ['round_prefer_floor', 'round_prefer_ceil'],
  pytorch_half_pixel: ['round_prefer_floor', 'round_prefer_ceil'],
};

export const resize: BackwardRule = (ctx) => {
  onlyGradInto(ctx, [0]);
  const { node, b } = ctx;
  const mode = str(node, 'mode', 'nearest');
  if (mode !== 'nearest') throw nodeError(node, `mode '${mode}' is not supported (only 'nearest')`);
  const coord = str(node, 'coordinate_transformation_mode', 'half_pixel');
  const nearest = str(node, 'nearest_mode', 'round_prefer_floor');
  if (!BLOCK_COPY[coord]?.includes(nearest)) {
    throw nodeError(node, `coordinate_transformation_mode '${coord}' with nearest_mode '${nearest}' is not supported`);
  }
  const inDims = shapeOf(ctx, input(ctx, 0));
  const outDims = shapeOf(ctx, output(ctx));
  const factors = outDims.map((o, i) => o / inDims[i]!);
  if (factors[0] !== 1 || factors[1] !== 1 || factors.some((f) => !Number.isInteger(f) || f < 1)) {
    throw nodeError(node, `only integer upscaling of spatial axes is supported (factors ${factors.join(', ')})`);
  }
  const spatial = factors.slice(2);
  if (spatial.every((f) => f === 1)) return [grad0(ctx)];
  const block = spatial.reduce((p, f) => p * f, 1);
  const mean = b.op('AveragePool', [grad0(ctx)], { kernel_shape: spatial, strides: spatial }, base(ctx, 'block_mean'));
  return [b.op('Mul', [mean, b.scalar(block)], {}, base(ctx, 'dx'))];
};
