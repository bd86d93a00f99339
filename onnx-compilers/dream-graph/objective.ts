/**
 * What a dream pass maximises, and its value and seed gradient in the compiled graph.
 *
 * - `layer`: the MEAN SQUARE of the tensor's activations per image, over C*H*W (or over
 *   H*W of one channel). Mean rather than sum keeps its scale independent of image
 *   size and layer width, so step sizes carry over between layers and resolutions.
 * - `class`: the logit `index` (averaged over any trailing spatial axes), e.g. a
 *   classifier's pre-softmax output.
 *
 * `objective` has shape [N] (one value per image); `grad` is d(sum of objective)/d image,
 * which is each image's own gradient since images do not interact.
 */
import { nodeError } from './attrs.js';
import type { GraphBuilder } from './builder.js';
import { selectChannel, type ChannelContext } from './channel.js';
import { IMAGE, OBJECTIVE } from './graph.js';
import type { Probe } from './shapes.js';

export type Objective =
  | { kind: 'layer'; tensor: string; channel?: number }
  | { kind: 'class'; tensor: string; index: number };

/** Adds the forward nodes that pick the objective's tensor (or its channel); returns that tensor. */
export function selectObjectiveTensor(ctx: ChannelContext, objective: Objective): string {
  const { tensor } = objective;
  if (tensor === IMAGE) throw new Error('dream-graph: the objective tensor is the image input itself');
  const shape = ctx.probe.shape(tensor);
  if (!ctx.producer.has(tensor)) throw new Error(`dream-graph: no tensor named '${tensor}' in the model`);
  const channel = objective.kind === 'class' ? objective.index : objective.channel;
  if (channel === undefined) return tensor;
  if (!shape) throw nodeError(ctx.producer.get(tensor)!, `cannot infer the shape of '${tensor}' to select channel ${channel}`);
  if (shape.length < 2 || !Number.isInteger(channel) || channel < 0 || channel >= shape[1]!) {
    throw new Error(`dream-graph: ${objective.kind === 'class' ? 'class index' : 'channel'} ${channel} is out of range for '${tensor}' of shape [${shape.join(', ')}]`);
  }
  return selectChannel(ctx, tensor, channel);
}

/**
 * Emits `objective` ([N]) computed from the selected tensor, and returns the gradient of
 * sum(objective) with respect to that tensor (the seed of the backward pass).
 */
export function emitObjective(b: GraphBuilder, probe: Probe, objective: Objective, selected: string): string {
  const rank = probe.shape(selected)?.length;
  if (rank === undefined) throw new Error(`dream-graph: cannot infer the rank of '${selected}'`);
  const axes = Array.from({ length: rank - 1 }, (_, i) => i + 1);
  const count = rank > 1 ? b.count(selected, 1) : b.scalar(1);
  if (objective.kind === 'layer') {
    // objective = sum(x^2) / M, seed = 2x / M
    const sumSq = rank > 1 ? b.op('ReduceSumSquare', [selected], { axes, keepdims: 0 }, 'objective/sum_sq') : b.op('Mul', [selected, selected]);
    b.emit('Div', [sumSq, count], {}, { outputs: [OBJECTIVE] });
    const twoOverM = b.op('Div', [b.scalar(2), count], {}, 'objective/two_over_m');
    return b.op('Mul', [selected, twoOverM], {}, 'objective/seed');
  }
  if (rank > 1) b.emit('ReduceMean', [selected], { axes, keepdims: 0 }, { outputs: [OBJECTIVE] });
  else b.emit('Identity', [selected], {}, { outputs: [OBJECTIVE] });
  const oneOverM = b.op('Reciprocal', [count], {}, 'objective/one_over_m');
  return b.op('Expand', [oneOverM, b.shapeOf(selected)], {}, 'objective/seed');
}
