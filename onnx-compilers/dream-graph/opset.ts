/**
 * The compiled graph is opset 13. Source nodes are copied into it unchanged, so a source
 * at another opset is accepted only where its nodes mean the same thing at 13.
 */
import { hasAttr, int, nodeError } from './attrs.js';
import type { NodeProto } from '../proto.js';

export const TARGET_OPSET = 13;

/** Ops whose inputs/semantics changed at opset 13 (axes as inputs, softmax over one axis). */
const CHANGED_AT_13 = new Set(['Softmax', 'LogSoftmax', 'Hardmax', 'Split', 'Squeeze', 'Unsqueeze', 'ReduceSum']);
/** Ops that take axes as an input from opset 18 on. */
const REDUCE_18 = new Set(['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']);

export function checkOpset(opset: number, nodes: readonly NodeProto[]): void {
  if (opset === TARGET_OPSET) return;
  if (opset < 11) throw new Error(`dream-graph: the model is at opset ${opset}; re-export it at opset 13`);
  for (const n of nodes) {
    const op = n.opType ?? '';
    const why = opset < 13 ? (CHANGED_AT_13.has(op) ? 'changed meaning' : null) : laterFeature(n);
    if (why) throw nodeError(n, `uses a feature of opset ${opset} (${why}) that opset 13 lacks; re-export the model at opset 13`);
  }
}

function laterFeature(n: NodeProto): string | null {
  const op = n.opType ?? '';
  const inputs = (n.input ?? []).filter(Boolean).length;
  if (op === 'Reshape' && int(n, 'allowzero', 0) !== 0) return 'allowzero';
  if (op === 'Pad' && inputs > 3) return 'Pad axes';
  if (op === 'Resize' && ['antialias', 'axes', 'keep_aspect_ratio_policy'].some((a) => hasAttr(n, a))) return 'Resize attributes';
  if (op === 'AveragePool' && hasAttr(n, 'dilations')) return 'AveragePool dilations';
  if (op === 'Split' && hasAttr(n, 'num_outputs')) return 'Split num_outputs';
  if (REDUCE_18.has(op) && inputs > 1) return 'axes as an input';
  if (op === 'Shape' && (hasAttr(n, 'start') || hasAttr(n, 'end'))) return 'Shape start/end';
  if (op === 'BatchNormalization' && int(n, 'training_mode', 0) !== 0) return 'training_mode';
  return null;
}
