/**
 * listDreamLayers: the tensors a dream manifest can name as objectives (conv, activation,
 * pooling, BN and block-output tensors shaped [N, C, H, W]), with channel count and
 * spatial stride relative to the image, and whether the compiler can differentiate
 * every op between the image and that tensor.
 */
import type { ModelProto } from '../proto.js';
import { RULES } from './backward/index.js';
import { activeTensors, loadSourceGraph, prune } from './graph.js';
import { inferProbe } from './shapes.js';

export interface DreamLayer {
  tensor: string;
  op: string;
  node: string;
  channels: number;
  /** Image height / tensor height at the probe size (2 = half resolution). */
  stride: number;
  /** Whether compileDreamGraph can differentiate this tensor. */
  supported: boolean;
}

const CANDIDATE_OPS = new Set([
  'Conv', 'Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Sigmoid', 'Tanh', 'BatchNormalization', 'MaxPool', 'AveragePool',
  'Add', 'Concat', 'Resize',
]);

export function listDreamLayers(model: ModelProto, opts: { input?: string; probeSize?: number } = {}): DreamLayer[] {
  const g = loadSourceGraph(model, opts.input !== undefined ? { input: opts.input } : {});
  const probe = inferProbe(g, g.nodes, opts.probeSize);
  const active = activeTensors(g.nodes);
  const imageH = probe.imageDims[2]!;
  const layers: DreamLayer[] = [];
  for (const n of g.nodes) {
    const tensor = n.output?.[0];
    if (!tensor || !CANDIDATE_OPS.has(n.opType ?? '') || !active.has(tensor)) continue;
    const shape = probe.shape(tensor);
    if (!shape || shape.length !== 4) continue;
    const path = prune(g.nodes, [tensor]).filter((p) => (p.output ?? []).some((o) => active.has(o)));
    layers.push({
      tensor: g.sourceName(tensor),
      op: n.opType!,
      node: n.name ?? '',
      channels: shape[1]!,
      stride: imageH / shape[2]!,
      supported: path.every((p) => RULES[p.opType ?? ''] !== undefined),
    });
  }
  return layers;
}
