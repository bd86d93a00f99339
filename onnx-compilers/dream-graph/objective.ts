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
 * - `guide`: guided dreaming, after the original DeepDream notebook. The graph takes a second
 *   input `guide`, the guide picture's features at the tensor as [C, positions]; each of the
 *   image's positions is matched with the guide position whose feature vector has the largest
 *   dot product with its own, and the objective is the mean of those dot products over
 *   C*H*W. Its gradient is the matched guide vectors (the match is piecewise constant), so a
 *   step makes every part of the picture more like the part of the guide it already most
 *   resembles. One image per run (batch 1).
 *
 * `objective` has shape [N] (one value per image); `grad` is d(sum of objective)/d image,
 * which is each image's own gradient since images do not interact.
 */
import { nodeError } from './attrs.js';
import type { GraphBuilder } from './builder.js';
import { selectChannel, type ChannelContext } from './channel.js';
import { GUIDE, IMAGE, OBJECTIVE } from './graph.js';
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
  | { kind: 'mix'; terms: readonly LayerTerm[] }
  | { kind: 'guide'; tensor: string };

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
  const one = (o: SingleObjective) =>
    o.kind === 'class' ? `${o.tensor}#${o.index}` : o.kind === 'guide' ? `${o.tensor} toward a guide` : o.channel === undefined ? o.tensor : `${o.tensor}:${o.channel}`;
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
  const channel = objective.kind === 'class' ? objective.index : objective.kind === 'guide' ? undefined : objective.channel;
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
  if (objective.kind === 'guide') return emitGuide(b, selected, rank, count, weight, out);
  if (rank > 1) out('ReduceMean', [selected], { axes, keepdims: 0 });
  else out('Identity', [selected]);
  const oneOverM = b.op('Div', [b.scalar(weight), count], {}, 'objective/one_over_m');
  return b.op('Expand', [oneOverM, b.shapeOf(selected)], {}, 'objective/seed');
}

/** The guided objective's nodes (see the header): returns its seed gradient, the matched guide features / M. */
function emitGuide(b: GraphBuilder, selected: string, rank: number, count: string, weight: number, out: (op: string, inputs: string[], attrs?: Record<string, number | number[]>) => void): string {
  if (rank !== 4) throw new Error(`dream-graph: a guided objective needs a [1, C, H, W] feature map, not rank ${rank}`);
  // [1, C, H, W] -> [C, H*W] (a 0 in Reshape's shape copies that dim: C)
  const flat = b.op('Reshape', [b.op('Squeeze', [selected, b.ints([0])], {}, 'guide/squeeze'), b.ints([0, -1])], {}, 'guide/flat');
  // Dot products of every image position with every guide position: [H*W, G]; the best guide position per image position.
  const dots = b.op('MatMul', [b.op('Transpose', [flat], { perm: [1, 0] }, 'guide/positions'), GUIDE], {}, 'guide/dots');
  const best = b.op('ArgMax', [dots], { axis: 1, keepdims: 0 }, 'guide/best');
  // Those guide vectors, laid out like the feature map: [G, C] gathered -> [H*W, C] -> [C, H*W] -> [1, C, H, W].
  const matched = b.op('Gather', [b.op('Transpose', [GUIDE], { perm: [1, 0] }, 'guide/by_position'), best], { axis: 0 }, 'guide/matched');
  const target = b.op('Reshape', [b.op('Transpose', [matched], { perm: [1, 0] }, 'guide/matched_t'), b.shapeOf(selected)], {}, 'guide/target');
  const dot = b.op('ReduceSum', [b.op('Mul', [selected, target], {}, 'guide/products'), b.ints([1, 2, 3])], { keepdims: 0 }, 'guide/sum');
  out('Div', [dot, count]);
  return b.op('Mul', [target, b.op('Div', [b.scalar(weight), count], {}, 'guide/w_over_m')], {}, 'objective/seed');
}
