/**
 * Folding BatchNormalization into the convolution before it: at inference BN is a
 * per-channel affine map, so it can live in the conv's weights and bias. One op fewer
 * per block runs faster and gives the dream-graph compiler less to differentiate.
 */
import type { KerasModel } from './keras-model.js';

const FOLDABLE = new Set(['Conv2D', 'DepthwiseConv2D']);

/** conv layer name -> the BatchNormalization layer that may be folded into it. */
export function planBatchNormFolds(model: KerasModel): Map<string, string> {
  const readers = new Map<string, number>();
  for (const l of model.layers) for (const i of l.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const plan = new Map<string, string>();
  for (const bn of model.layers) {
    if (bn.className !== 'BatchNormalization' || bn.inputs.length !== 1) continue;
    const axis = bn.config.axis ?? -1;
    if (axis !== -1 && axis !== 3 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3))) continue;
    const conv = byName.get(bn.inputs[0]!);
    if (!conv || !FOLDABLE.has(conv.className)) continue;
    // The conv's own output must vanish: nothing else may read it, and no activation may sit between.
    if ((conv.config.activation ?? 'linear') !== 'linear') continue;
    if (readers.get(conv.name) !== 1 || model.outputLayers.includes(conv.name)) continue;
    plan.set(conv.name, bn.name);
  }
  return plan;
}

/** Scales a weight [out, ...] and bias [out] by the per-channel affine map y = x * scale + shift. */
export function foldAffine(weight: Float32Array, bias: Float32Array, scale: Float64Array, shift: Float64Array): void {
  const out = bias.length;
  const per = weight.length / out;
  for (let o = 0; o < out; o++) {
    const s = scale[o]!;
    for (let i = o * per; i < (o + 1) * per; i++) weight[i] = weight[i]! * s;
    bias[o] = bias[o]! * s + shift[o]!;
  }
}
