/**
 * compileDreamGraph: turns an inference model into one that also computes the gradient
 * of a dream objective with respect to its image input, in plain ONNX (opset 13), since
 * onnxruntime only runs inference. Steps:
 *   1. copy the source graph (image input renamed `image`), infer shapes at a probe size;
 *   2. add the nodes that pick the objective's tensor / channel, prune everything else;
 *   3. emit `objective` and its seed gradient;
 *   4. walk the forward nodes in reverse, each op's rule (backward/*.ts) turning output
 *      gradients into input gradients, summed where a tensor feeds several nodes;
 *   5. name the image's gradient `grad`.
 */
import { onnx, model as wrapModel, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../proto.js';
import { describe } from './attrs.js';
import { RULES, SUPPORTED_OPS } from './backward/index.js';
import type { RuleContext } from './backward/types.js';
import { GraphBuilder } from './builder.js';
import { activeTensors, GRAD, GUIDE, IMAGE, loadSourceGraph, OBJECTIVE, prune, type SourceGraph } from './graph.js';
import { describeObjective, emitObjective, objectiveTerms, selectObjectiveTensor, type Objective } from './objective.js';
import { checkOpset, TARGET_OPSET } from './opset.js';
import { inferProbe } from './shapes.js';

export interface CompileOptions {
  /** The image input's name, when the model has several inputs. */
  input?: string;
  /** Probe size (H = W) for shape questions when the model's image size is dynamic; default 256. */
  probeSize?: number;
  /** Push a channel selection back into the producing Conv (default true); false slices instead. */
  channelPushdown?: boolean;
}

export function compileDreamGraph(source: ModelProto, objective: Objective, opts: CompileOptions = {}): ModelProto {
  const g = loadSourceGraph(source, opts.input !== undefined ? { input: opts.input } : {});
  const b = new GraphBuilder(g.names);

  // 1-2. The forward part: the objective's tensors (or channels) and what they need.
  const terms = objectiveTerms(objective);
  const label = describeObjective(objective);
  const probe0 = inferProbe(g, g.nodes, opts.probeSize);
  const ctx = { b, probe: probe0, producer: g.producer, consts: g.consts, pushdown: opts.channelPushdown ?? true };
  const selected = terms.map((t) => selectObjectiveTensor(ctx, { ...t.objective, tensor: g.resolve(t.objective.tensor) }));
  const forward = prune([...g.nodes, ...b.nodes.splice(0)], selected);
  checkOpset(g.opset, forward);
  for (const n of forward) {
    const extra = (n.input ?? []).find((t) => g.otherInputs.has(t));
    if (extra) throw new Error(`dream-graph: ${describe(n)} needs input '${extra}'; only the image input is supported`);
  }
  const consts = new Map<string, TensorProto>(g.consts);
  for (const t of b.initializers) consts.set(t.name!, t);
  const probe = inferProbe({ ...g, consts }, forward, opts.probeSize);
  const active = activeTensors(forward);
  selected.forEach((s, k) => {
    if (!active.has(s)) throw new Error(`dream-graph: '${terms[k]!.objective.tensor}' does not depend on the image`);
  });

  // 3. The objective and the seeds of the backward pass (a mix sums its weighted terms).
  const grads = new Map<string, string[]>();
  const seed = (t: string, s: string) => grads.set(t, [...(grads.get(t) ?? []), s]);
  if (objective.kind !== 'mix') seed(selected[0]!, emitObjective(b, probe, terms[0]!.objective, selected[0]!));
  else {
    const values = terms.map((t, k) => {
      const value = b.fresh('objective/mix_term');
      seed(selected[k]!, emitObjective(b, probe, t.objective, selected[k]!, t.weight, value));
      return value;
    });
    b.emit('Sum', values, {}, { outputs: [OBJECTIVE] });
  }

  // 4. Backward, last node first.
  const staticImage = g.imageDims.slice(2).every((d) => typeof d === 'number');
  const total = (t: string): string | null => {
    const parts = grads.get(t);
    if (!parts || parts.length === 0) return null;
    if (parts.length === 1) return parts[0]!;
    const sum = b.op('Sum', parts, {}, `grad/${t}`);
    grads.set(t, [sum]);
    return sum;
  };
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i]!;
    const gradOut = (node.output ?? []).map((o) => (active.has(o) ? total(o) : null));
    if (gradOut.every((x) => x === null)) continue;
    const rule = RULES[node.opType ?? ''];
    if (!rule) throw new Error(`dream-graph: cannot differentiate ${describe(node)}; supported: ${SUPPORTED_OPS.join(', ')}`);
    const needGrad = (node.input ?? []).map((t) => active.has(t));
    const ctx: RuleContext = { b, node, gradOut, needGrad, probe, consts, staticImage };
    b.scope = `grad/${node.name || node.output?.[0]}`;
    const gradIn = rule(ctx);
    b.scope = 'dg';
    gradIn.forEach((gIn, k) => {
      const t = node.input?.[k];
      if (!gIn || !t || !needGrad[k]) return;
      grads.set(t, [...(grads.get(t) ?? []), gIn]);
    });
  }

  // 5. The image gradient becomes the `grad` output.
  const imageGrad = total(IMAGE);
  if (!imageGrad) throw new Error(`dream-graph: no gradient reaches the image from '${label}'`);
  b.rename(imageGrad, GRAD);

  // A guided objective reads the guide's features: [C, positions].
  const guideChannels = objective.kind === 'guide' ? probe.shape(selected[0]!)?.[1] : undefined;
  return assemble(g, forward, b, objective.kind === 'guide' ? [guideInput(guideChannels)] : []);
}

function guideInput(channels: number | undefined): ValueInfoProto {
  const c = channels !== undefined && channels > 0 ? { dimValue: channels } : { dimParam: 'channels' };
  return { name: GUIDE, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [c, { dimParam: 'positions' }] } } } };
}

/**
 * The source's forward pass up to `tensor` alone, with that tensor as the single output
 * (named in the result's graph.output[0]): how a guided dream reads its guide's features.
 */
export function compileFeatureGraph(source: ModelProto, tensor: string, opts: Pick<CompileOptions, 'input'> = {}): ModelProto {
  const g = loadSourceGraph(source, opts.input !== undefined ? { input: opts.input } : {});
  const resolved = g.resolve(tensor);
  if (!g.producer.has(resolved)) throw new Error(`dream-graph: no tensor named '${tensor}' in the model`);
  const b = new GraphBuilder(g.names);
  const output = b.fresh('features');
  b.emit('Identity', [resolved], {}, { outputs: [output] });
  const forward = prune(g.nodes, [resolved]);
  checkOpset(g.opset, forward);
  return assemble(g, forward, b, [], [{ name: output, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }]);
}

function assemble(g: SourceGraph, forward: NodeProto[], b: GraphBuilder, extraInputs: ValueInfoProto[], outputs?: ValueInfoProto[]): ModelProto {
  const nodes = [...forward, ...b.nodes];
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  const initializers = [...g.consts.values()].filter((t) => used.has(t.name!) && !forward.some((n) => n.opType === 'Constant' && n.output?.[0] === t.name));
  const batch = g.image.type?.tensorType?.shape?.dim?.[0] ?? {};
  const graph: GraphProto = {
    name: 'dream-graph',
    node: nodes,
    initializer: [...initializers, ...b.initializers.filter((t) => used.has(t.name!))],
    input: [g.image, ...extraInputs],
    output: outputs ?? [
      { name: OBJECTIVE, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [batch] } } } },
      { name: GRAD, type: g.image.type ?? null },
    ],
  };
  return onnx.ModelProto.create(wrapModel(graph, TARGET_OPSET, 'imaginary-portraits dream-graph'));
}
