/**
 * Floating-point work of an ONNX graph, counted from the graph itself: the multiply-adds
 * of every Conv, ConvTranspose, Gemm and MatMul, times two. The weights' shapes come from
 * the initializers; the activations' shapes from one onnxruntime run with those tensors
 * exposed as extra outputs (so no shape inference has to be re-implemented here).
 * Element-wise work (norms, activations, resizes) is not counted: it is not what a
 * matrix-multiply peak measures, and it is small beside the convolutions.
 */
import { decodeModel, encodeModel, tensorDims, type ModelProto } from '../../onnx-compilers/proto.js';
import { createSession, type Tensor } from '../../server/onnx/runtime.js';

const COUNTED = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export interface LayerFlops {
  op: string;
  name: string;
  /** Output shape for the run the counts were taken from. */
  output: number[];
  flops: number;
}

export interface GraphFlops {
  /** Total over counted layers, for the feeds given. */
  flops: number;
  layers: LayerFlops[];
  /** Nodes per op type, for the record. */
  ops: Record<string, number>;
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

export async function countFlops(modelBytes: Uint8Array, feeds: Record<string, Tensor>): Promise<GraphFlops> {
  const model: ModelProto = decodeModel(modelBytes);
  const graph = model.graph!;
  const weights = new Map((graph.initializer ?? []).map((t) => [t.name!, tensorDims(t)]));
  const nodes = (graph.node ?? []).filter((n) => COUNTED.has(n.opType ?? ''));
  const ops: Record<string, number> = {};
  for (const n of graph.node ?? []) ops[n.opType!] = (ops[n.opType!] ?? 0) + 1;

  // Every activation a counted node reads or writes, exposed as a graph output (type only, no shape).
  const graphInputs = new Set((graph.input ?? []).map((i) => i.name!));
  const existing = new Set((graph.output ?? []).map((o) => o.name!));
  const wanted = new Set<string>();
  for (const n of nodes) for (const t of [...(n.input ?? []).slice(0, 2), n.output![0]!]) if (t && !weights.has(t) && !existing.has(t)) wanted.add(t);
  const shapeModel = decodeModel(encodeModel(model));
  shapeModel.graph!.output!.push(...[...wanted].map((name) => ({ name, type: { tensorType: { elemType: 1 } } })));
  const session = await createSession(encodeModel(shapeModel), 'cpu', { optimize: false });
  let shapes: Map<string, number[]>;
  try {
    const out = await session.run(feeds);
    shapes = new Map(Object.entries(out).map(([k, v]) => [k, v.dims.map(Number)]));
    for (const [k, v] of Object.entries(feeds)) if (graphInputs.has(k)) shapes.set(k, v.dims.map(Number));
  } finally {
    await session.release();
  }
  const dimsOf = (name: string): number[] => {
    const d = weights.get(name) ?? shapes.get(name);
    if (!d) throw new Error(`no shape for tensor '${name}'`);
    return d;
  };

  const layers: LayerFlops[] = nodes.map((n) => {
    const [a, b] = [n.input![0]!, n.input![1]!];
    const out = dimsOf(n.output![0]!);
    const w = dimsOf(b);
    const attrInt = (key: string, fallback: number) => {
      const at = n.attribute?.find((x) => x.name === key);
      return at ? Number(at.i) : fallback;
    };
    let macs: number;
    switch (n.opType) {
      case 'Conv': // each output element: (C_in / group) * kh * kw multiply-adds; weight [C_out, C_in/g, kh, kw]
        macs = product(out) * product(w.slice(1));
        break;
      case 'ConvTranspose': // each input element scatters into (C_out / group) * kh * kw outputs; weight [C_in, C_out/g, kh, kw]
        macs = product(dimsOf(a)) * product(w.slice(1));
        break;
      case 'Gemm': {
        const aDims = dimsOf(a);
        const k = attrInt('transA', 0) ? aDims[0]! : aDims[1]!;
        macs = product(out) * k;
        break;
      }
      default: {
        // MatMul: K is A's last axis
        const aDims = dimsOf(a);
        macs = product(out) * aDims[aDims.length - 1]!;
      }
    }
    return { op: n.opType!, name: n.name || n.output![0]!, output: out, flops: 2 * macs };
  });
  return { flops: layers.reduce((s, l) => s + l.flops, 0), layers, ops };
}
