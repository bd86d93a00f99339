/**
 * What a dream pass maximises, and its value and seed gradient in the compiled graph.
 *
 * - `layer`: the MEAN SQUARE of the tensor's activations per image, over C*H*W (or over
 *   H*W of one channel). Mean rather than sum keeps its scale independent of image
 *   size and layer width, so step sizes carry over between layers and resolutions.
 * - `class`: the logit `index` (averaged over any trailing spatial axes), e.g. a
 *   classifier's pre-softmax output.
 * - `mix`: a weighted sum of layer objectives (layers, or single channels of them), one
 *   forward and one backward pass for all of them: the blends a curated dream style uses.
 *
 * `objective` has shape [N] (one value per image); `grad` is d(sum of objective)/d image,
 * which is each image's own gradient since images do not interact.
 */
import { nodeError } from './attrs.js';
import type { GraphBuilder } from './builder.js';
import { selectChannel, type ChannelContext } from './channel.js';
import { IMAGE, OBJECTIVE } from './graph.js';
import type { Probe } from './shapes.js';

/** One layer term of a mix: the mean square of a tensor (or one channel), times `weight` (default 1). */
export interface LayerTerm {
  tensor: string;
  channel?: number;
  weight?: number;
}

export type Objective =
  | { kind: 'layer'; tensor: string; channel?: number }
  | { kind: 'class'; tensor: string; index: number }
  | { kind: 'mix'; terms: readonly LayerTerm[] };

/** A single (non-mix) objective. */
export type SingleObjective = Exclude<Objective, { kind: 'mix' }>;

/** The single objectives an objective sums, with their weights. */
export function objectiveTerms(objective: Objective): { objective: SingleObjective; weight: number }[] {
  if (objective.kind !== 'mix') return [{ objective, weight: 1 }];
  if (objective.terms.length === 0) throw new Error('dream-graph: a mix objective needs at least one term');
  return objective.terms.map((t) => {
    if (t.weight !== undefined && !Number.isFinite(t.weight)) throw new Error(`dream-graph: the weight of '${t.tensor}' is not a finite number`);
    return { objective: t.channel === undefined ? { kind: 'layer', tensor: t.tensor } : { kind: 'layer', tensor: t.tensor, channel: t.channel }, weight: t.weight ?? 1 };
  });
}

/** A short description: "leaky_re_lu_8", "leaky_re_lu_8:12", "logits#107", "0.6 a + 0.4 b:3". */
export function describeObjective(objective: Objective): string {
  const one = (o: SingleObjective) => (o.kind === 'class' ? `${o.tensor}#${o.index}` : o.channel === undefined ? o.tensor : `${o.tensor}:${o.channel}`);
  if (objective.kind !== 'mix') return one(objective);
  return objectiveTerms(objective)
    .map(({ objective: o, weight }) => (weight === 1 ? one(o) : `${weight} ${one(o)}`))
    .join(' + ');
}

/** Adds the forward nodes that pick the objective's tensor (or its channel); returns that tensor. */
export function selectObjectiveTensor(ctx: ChannelContext, objective: SingleObjective): string {
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
 * Emits `weight` x the objective ([N]) computed from the selected tensor, as the tensor
 * `output` (default: the graph's `objective`), and returns the gradient of its sum with
 * respect to that tensor (the seed of the backward pass).
 */
export function emitObjective(b: GraphBuilder, probe: Probe, objective: SingleObjective, selected: string, weight = 1, output = OBJECTIVE): string {
  const rank = probe.shape(selected)?.length;
  if (rank === undefined) throw new Error(`dream-graph: cannot infer the rank of '${selected}'`);
  const axes = Array.from({ length: rank - 1 }, (_, i) => i + 1);
  const count = rank > 1 ? b.count(selected, 1) : b.scalar(1);
  const out = (op: string, inputs: string[], attrs: Record<string, number | number[]> = {}) => {
    if (weight === 1) return void b.emit(op, inputs, attrs, { outputs: [output] });
    b.emit('Mul', [b.op(op, inputs, attrs, 'objective/term'), b.scalar(weight)], {}, { outputs: [output] });
  };
  if (objective.kind === 'layer') {
    // objective = w sum(x^2) / M, seed = 2 w x / M
    const sumSq = rank > 1 ? b.op('ReduceSumSquare', [selected], { axes, keepdims: 0 }, 'objective/sum_sq') : b.op('Mul', [selected, selected]);
    out('Div', [sumSq, count]);
    const twoOverM = b.op('Div', [b.scalar(2 * weight), count], {}, 'objective/two_over_m');
    return b.op('Mul', [selected, twoOverM], {}, 'objective/seed');
  }
  if (rank > 1) out('ReduceMean', [selected], { axes, keepdims: 0 });
  else out('Identity', [selected]);
  const oneOverM = b.op('Div', [b.scalar(weight), count], {}, 'objective/one_over_m');
  return b.op('Expand', [oneOverM, b.shapeOf(selected)], {}, 'objective/seed');
}
