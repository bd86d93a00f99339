/**
 * The source model as the compiler sees it: nodes in topological order (copied, never
 * mutating the caller's model), constants by name (initializers and Constant nodes),
 * the image input renamed to `image`, and the names `objective` / `grad` kept free
 * for the compiled graph's outputs.
 */
import { onnx, tensorDims, tensorInts, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../proto.js';
import { describe } from './attrs.js';

export const IMAGE = 'image';
export const OBJECTIVE = 'objective';
export const GRAD = 'grad';
/** The guided objective's second input: the guide picture's features, [C, positions]. */
export const GUIDE = 'guide';

type ValueInfo = ValueInfoProto;

export interface SourceGraph {
  /** Every node in topological order, with tensor names already renamed. */
  readonly nodes: NodeProto[];
  /** Initializers and Constant-node outputs by (renamed) tensor name. */
  readonly consts: Map<string, TensorProto>;
  readonly producer: Map<string, NodeProto>;
  /** The source's image input, renamed to `image`; its dims (numbers or symbolic names). */
  readonly image: ValueInfo;
  readonly imageDims: (number | string)[];
  readonly opset: number;
  /** Graph inputs other than the image that nodes may read (unsupported if reached). */
  readonly otherInputs: Set<string>;
  /** Every tensor name in use, so generated names never collide. */
  readonly names: Set<string>;
  /** A source tensor name as the copied graph calls it (`image`, or renamed away from our output names). */
  resolve(sourceName: string): string;
  /** The source's own name of a copied-graph tensor (inverse of resolve). */
  sourceName(name: string): string;
}

export interface SourceOptions {
  /** Name of the image input when the model has several non-initializer inputs. */
  input?: string;
}

export function loadSourceGraph(model: ModelProto, opts: SourceOptions = {}): SourceGraph {
  const graph = model.graph;
  if (!graph) throw new Error('dream-graph: model has no graph');
  const opset = model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version;
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = (graph.input ?? []).filter((i) => !initNames.has(i.name ?? ''));
  const image = pickImage(inputs, opts.input);
  const sourceImage = image.name ?? '';

  const rename = reservedRenames(graph, sourceImage);
  const r = (n: string | null | undefined): string => (n ? rename.get(n) ?? n : '');

  const nodes: NodeProto[] = (graph.node ?? []).map((n) => {
    if (n.domain && n.domain !== 'ai.onnx') throw new Error(`dream-graph: ${describe(n)} is in domain '${n.domain}'; only standard ONNX ops are supported`);
    return { name: n.name ?? '', opType: n.opType ?? '', domain: '', input: (n.input ?? []).map(r), output: (n.output ?? []).map(r), attribute: n.attribute ?? [] };
  });

  const consts = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) consts.set(r(t.name), { ...t, name: r(t.name) });
  for (const n of nodes) if (n.opType === 'Constant') consts.set(n.output![0]!, constantNodeTensor(n));

  const { kept, alias } = dropNoOps(nodes, consts);
  const sorted = topoSort(kept, new Set([IMAGE, ...inputs.map((i) => r(i.name)), ...consts.keys()]));
  const producer = new Map<string, NodeProto>();
  for (const n of sorted) for (const o of n.output ?? []) if (o) producer.set(o, n);

  const names = new Set<string>([IMAGE, OBJECTIVE, GRAD, GUIDE, ...consts.keys()]);
  for (const n of sorted) {
    for (const t of [...(n.input ?? []), ...(n.output ?? [])]) if (t) names.add(t);
    if (n.name) names.add(n.name);
  }
  const imageDims = (image.type?.tensorType?.shape?.dim ?? [])
    .map((d) => (d.dimParam ? d.dimParam : d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : '?'));
  if (image.type?.tensorType?.elemType !== onnx.TensorProto.DataType.FLOAT) {
    throw new Error(`dream-graph: image input '${sourceImage}' must be float32`);
  }
  return {
    nodes: sorted,
    consts,
    producer,
    image: { ...image, name: IMAGE },
    imageDims,
    opset: Number(opset ?? 0),
    otherInputs: new Set(inputs.filter((i) => i !== image).map((i) => r(i.name))),
    names,
    resolve: (t) => alias(rename.get(t) ?? t),
    sourceName: (t) => [...rename].find(([, to]) => to === t)?.[0] ?? t,
  };
}

function pickImage(inputs: ValueInfo[], wanted?: string): ValueInfo {
  if (wanted) {
    const found = inputs.find((i) => i.name === wanted);
    if (!found) throw new Error(`dream-graph: no input named '${wanted}' (inputs: ${inputs.map((i) => i.name).join(', ')})`);
    return found;
  }
  if (inputs.length === 1) return inputs[0]!;
  const images = inputs.filter((i) => i.type?.tensorType?.elemType === onnx.TensorProto.DataType.FLOAT && i.type.tensorType.shape?.dim?.length === 4);
  if (images.length === 1) return images[0]!;
  throw new Error(`dream-graph: cannot tell which input is the image (${inputs.map((i) => i.name).join(', ')}); pass opts.input`);
}

/** Source tensors named like our outputs get fresh names; the image input becomes `image`. */
function reservedRenames(graph: GraphProto, sourceImage: string): Map<string, string> {
  const all = new Set<string>();
  for (const t of graph.initializer ?? []) all.add(t.name ?? '');
  for (const i of graph.input ?? []) all.add(i.name ?? '');
  for (const n of graph.node ?? []) for (const t of [...(n.input ?? []), ...(n.output ?? [])]) all.add(t);
  const rename = new Map<string, string>();
  for (const reserved of [IMAGE, OBJECTIVE, GRAD, GUIDE]) {
    if (!all.has(reserved) || reserved === sourceImage) continue;
    let i = 1;
    while (all.has(`${reserved}_src${i}`)) i++;
    rename.set(reserved, `${reserved}_src${i}`);
    all.add(`${reserved}_src${i}`);
  }
  rename.set(sourceImage, IMAGE);
  return rename;
}

function constantNodeTensor(n: NodeProto): TensorProto {
  const out = n.output![0]!;
  const a = n.attribute?.[0];
  const T = onnx.AttributeProto.AttributeType;
  const DT = onnx.TensorProto.DataType;
  if (!a) throw new Error(`dream-graph: ${describe(n)} has no value`);
  if (a.name === 'value' && a.t) return { ...a.t, name: out };
  if (a.type === T.FLOAT) return { name: out, dims: [], dataType: DT.FLOAT, floatData: [a.f ?? 0] };
  if (a.type === T.FLOATS) return { name: out, dims: [a.floats?.length ?? 0], dataType: DT.FLOAT, floatData: [...(a.floats ?? [])] };
  if (a.type === T.INT) return { name: out, dims: [], dataType: DT.INT64, int64Data: [a.i ?? 0] };
  if (a.type === T.INTS) return { name: out, dims: [a.ints?.length ?? 0], dataType: DT.INT64, int64Data: [...(a.ints ?? [])] };
  throw new Error(`dream-graph: ${describe(n)}: unsupported Constant attribute '${a.name}'`);
}

/**
 * Identity, inference Dropout and all-zero constant Pad (PyTorch exports one before every
 * avg_pool2d) copy whole tensors for nothing: drop them and let their readers read the input.
 */
function dropNoOps(nodes: NodeProto[], consts: Map<string, TensorProto>): { kept: NodeProto[]; alias: (t: string) => string } {
  const aliases = new Map<string, string>();
  const alias = (t: string): string => {
    let a = t;
    for (let next = aliases.get(a); next !== undefined; next = aliases.get(a)) a = next;
    return a;
  };
  const isNoOp = (n: NodeProto): boolean => {
    const inputs = (n.input ?? []).filter(Boolean);
    const outputs = (n.output ?? []).filter(Boolean);
    if (outputs.length !== 1) return false;
    if (n.opType === 'Identity') return true;
    if (n.opType === 'Dropout') return inputs.length < 3; // no training_mode input: inference
    if (n.opType !== 'Pad' || attrString(n, 'mode') !== 'constant') return false;
    const pads = n.input?.[1] ? consts.get(n.input[1]) : undefined;
    return pads !== undefined && tensorInts(pads).every((p) => p === 0);
  };
  const kept: NodeProto[] = [];
  for (const n of nodes) {
    if (isNoOp(n)) aliases.set(n.output![0]!, alias(n.input![0]!));
    else kept.push(n);
  }
  for (const n of kept) n.input = (n.input ?? []).map((t) => (t ? alias(t) : t));
  return { kept, alias };
}

function attrString(n: NodeProto, name: string): string {
  const a = n.attribute?.find((x) => x.name === name);
  return a?.s ? new TextDecoder().decode(a.s) : 'constant';
}

/** Kahn's algorithm; ONNX requires sorted graphs but converters do not always comply. */
function topoSort(nodes: NodeProto[], available: Set<string>): NodeProto[] {
  const known = new Set(available);
  known.add('');
  const pending = [...nodes];
  const out: NodeProto[] = [];
  while (pending.length > 0) {
    const before = pending.length;
    for (let i = 0; i < pending.length; ) {
      const n = pending[i]!;
      if ((n.input ?? []).every((t) => known.has(t))) {
        out.push(n);
        for (const o of n.output ?? []) known.add(o);
        pending.splice(i, 1);
      } else i++;
    }
    if (pending.length === before) {
      const n = pending[0]!;
      const missing = (n.input ?? []).filter((t) => !known.has(t));
      throw new Error(`dream-graph: ${describe(n)} reads '${missing.join("', '")}', which nothing produces (or the graph has a cycle)`);
    }
  }
  return out;
}

/** Nodes needed to compute `targets`, in topological order. */
export function prune(nodes: readonly NodeProto[], targets: Iterable<string>): NodeProto[] {
  const needed = new Set(targets);
  const kept: NodeProto[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    kept.push(n);
    for (const t of n.input ?? []) if (t) needed.add(t);
  }
  return kept.reverse();
}

/** Ops whose outputs carry no gradient (shapes, comparisons, indices). */
const NON_DIFFERENTIABLE = new Set([
  'Shape', 'Size', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Not', 'And', 'Or', 'Xor',
  'ArgMax', 'ArgMin', 'NonZero', 'ConstantOfShape', 'Floor', 'Ceil', 'Round', 'Sign', 'IsNaN', 'IsInf', 'Constant',
]);

/** Outputs that are indices or training statistics rather than values. */
function differentiableOutputs(n: NodeProto): string[] {
  const outs = n.output ?? [];
  if (n.opType === 'MaxPool' || n.opType === 'Dropout' || n.opType === 'BatchNormalization') return outs.slice(0, 1);
  if (n.opType === 'Cast') return isFloatCast(n) ? outs : [];
  return outs;
}

function isFloatCast(n: NodeProto): boolean {
  const to = n.attribute?.find((a) => a.name === 'to')?.i;
  return Number(to) === onnx.TensorProto.DataType.FLOAT;
}

/** Tensors whose value depends differentiably on the image. */
export function activeTensors(nodes: readonly NodeProto[]): Set<string> {
  const active = new Set<string>([IMAGE]);
  for (const n of nodes) {
    if (NON_DIFFERENTIABLE.has(n.opType ?? '')) continue;
    if (!(n.input ?? []).some((t) => active.has(t))) continue;
    for (const o of differentiableOutputs(n)) if (o) active.add(o);
  }
  return active;
}

export function constDims(g: SourceGraph, name: string): number[] | undefined {
  const t = g.consts.get(name);
  return t ? tensorDims(t) : undefined;
}
