/**
 * Shapes at one probe image size (the model's own size when fixed, else 256x256).
 * The compiled graph computes sizes at run time with Shape ops wherever they depend
 * on the image; the probe only answers size-independent questions: ranks, channel
 * counts, which axes an elementwise op broadcasts, spatial strides for listDreamLayers.
 * Small integer tensors (shape arithmetic, e.g. PyTorch's flatten) are evaluated too.
 */
import { DataType, tensorDims, tensorFloats, tensorInts, type NodeProto, type TensorProto } from '../proto.js';
import { int, ints, str } from './attrs.js';
import { IMAGE, type SourceGraph } from './graph.js';

export interface Probe {
  /** The probe size's dims of `tensor`, or undefined when inference could not follow. */
  shape(tensor: string): number[] | undefined;
  /** Values of a small constant-foldable tensor (flattened), else undefined. */
  value(tensor: string): number[] | undefined;
  readonly imageDims: number[];
}

const DEFAULT_PROBE = 256;

export function probeImageDims(g: SourceGraph, probeSize = DEFAULT_PROBE): number[] {
  return g.imageDims.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : i === 1 ? 3 : probeSize));
}

export function inferProbe(g: SourceGraph, nodes: readonly NodeProto[], probeSize = DEFAULT_PROBE): Probe {
  const shapes = new Map<string, number[]>();
  const values = new Map<string, number[]>();
  const imageDims = probeImageDims(g, probeSize);
  shapes.set(IMAGE, imageDims);
  for (const [name, t] of g.consts) {
    shapes.set(name, tensorDims(t));
    const v = smallValues(t);
    if (v) values.set(name, v);
  }
  const ctx: InferCtx = { shapes, values };
  for (const n of nodes) {
    try {
      inferNode(n, ctx);
    } catch {
      // Unknown shapes stay unknown; a rule that needs one says so by name.
    }
  }
  return { shape: (t) => shapes.get(t), value: (t) => values.get(t), imageDims };
}

function smallValues(t: TensorProto): number[] | undefined {
  const count = tensorDims(t).reduce((a, b) => a * b, 1);
  if (count > 64) return undefined;
  if (t.dataType === DataType.FLOAT) return Array.from(tensorFloats(t));
  if (t.dataType === DataType.INT64 || t.dataType === DataType.INT32) return tensorInts(t);
  return undefined;
}

interface InferCtx {
  shapes: Map<string, number[]>;
  values: Map<string, number[]>;
}

const SAME_SHAPE = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Identity', 'Dropout', 'BatchNormalization', 'Softmax',
  'LogSoftmax', 'Clip', 'Neg', 'Exp', 'Sqrt', 'Abs', 'Elu', 'Selu', 'HardSigmoid', 'Softplus', 'InstanceNormalization',
  'LRN', 'Erf', 'Reciprocal', 'Log',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum', 'Pow', 'Equal', 'Greater', 'Less', 'Where']);

function inferNode(n: NodeProto, c: InferCtx): void {
  const input = n.input ?? [];
  const inShape = (i: number): number[] => {
    const s = c.shapes.get(input[i] ?? '');
    if (!s) throw new Error('unknown shape');
    return s;
  };
  const inValue = (i: number): number[] => {
    const v = c.values.get(input[i] ?? '');
    if (!v) throw new Error('unknown value');
    return v;
  };
  const set = (dims: number[], value?: number[], output = 0): void => {
    const name = n.output?.[output];
    if (!name) return;
    c.shapes.set(name, dims);
    if (value) c.values.set(name, value);
  };
  const op = n.opType ?? '';
  if (SAME_SHAPE.has(op)) return set(inShape(0));
  if (BROADCAST.has(op)) {
    const dims = input.map((_, i) => inShape(i)).reduce(broadcast);
    const vals = input.map((t) => c.values.get(t));
    if (vals.every((v) => v) && input.length === 2 && dims.reduce((a, b) => a * b, 1) <= 64) {
      set(dims, elementwise(op, vals[0]!, vals[1]!));
    } else set(dims);
    return;
  }
  switch (op) {
    case 'Conv': {
      const x = inShape(0);
      const w = inShape(1);
      return set([x[0]!, w[0]!, ...windowOut(n, x.slice(2), w.slice(2), false)]);
    }
    case 'ConvTranspose': {
      const x = inShape(0);
      const w = inShape(1);
      const k = w.slice(2);
      const s = ints(n, 'strides', k.map(() => 1));
      const d = ints(n, 'dilations', k.map(() => 1));
      const p = ints(n, 'pads', [...k, ...k].map(() => 0));
      const op2 = ints(n, 'output_padding', k.map(() => 0));
      const r = k.length;
      return set([x[0]!, w[1]! * int(n, 'group', 1), ...x.slice(2).map((v, i) => s[i]! * (v - 1) + op2[i]! + (k[i]! - 1) * d[i]! + 1 - p[i]! - p[i + r]!)]);
    }
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      const x = inShape(0);
      const dims = [x[0]!, x[1]!, ...windowOut(n, x.slice(2), ints(n, 'kernel_shape', []), int(n, 'ceil_mode', 0) === 1)];
      set(dims);
      if (n.output?.[1]) set(dims, undefined, 1);
      return;
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool': {
      const x = inShape(0);
      return set([x[0]!, x[1]!, ...x.slice(2).map(() => 1)]);
    }
    case 'Concat': {
      const shapes = input.map((_, i) => inShape(i));
      const axis = normAxis(int(n, 'axis', 0), shapes[0]!.length);
      const dims = [...shapes[0]!];
      dims[axis] = shapes.reduce((a, s) => a + s[axis]!, 0);
      const vals = input.map((t) => c.values.get(t));
      return set(dims, dims.length === 1 && vals.every((v) => v) ? vals.flatMap((v) => v!) : undefined);
    }
    case 'Split': {
      const x = inShape(0);
      const axis = normAxis(int(n, 'axis', 0), x.length);
      const sizes = splitSizes(n, x[axis]!, c);
      sizes.forEach((s, i) => {
        const dims = [...x];
        dims[axis] = s;
        set(dims, undefined, i);
      });
      return;
    }
    case 'Pad': {
      const x = inShape(0);
      const pads = input[1] ? inValue(1) : ints(n, 'pads', []);
      return set(x.map((v, i) => v + pads[i]! + pads[i + x.length]!));
    }
    case 'Resize':
    case 'Upsample': {
      const x = inShape(0);
      const sizes = input[3] ? c.values.get(input[3]) : undefined;
      if (sizes && sizes.length === x.length) return set(sizes);
      const scales = input.length === 2 ? inValue(1) : inValue(2);
      return set(x.map((v, i) => Math.floor(v * scales[i]!)));
    }
    case 'Flatten': {
      const x = inShape(0);
      const axis = normAxis(int(n, 'axis', 1), x.length);
      const prod = (a: number[]): number => a.reduce((p, v) => p * v, 1);
      return set([prod(x.slice(0, axis)), prod(x.slice(axis))]);
    }
    case 'Reshape': {
      const x = inShape(0);
      const target = inValue(1);
      const total = x.reduce((p, v) => p * v, 1);
      const dims = target.map((v, i) => (v === 0 && int(n, 'allowzero', 0) === 0 ? x[i]! : v));
      const known = dims.filter((v) => v !== -1).reduce((p, v) => p * v, 1);
      const value = c.values.get(input[0]!);
      return set(dims.map((v) => (v === -1 ? total / known : v)), value);
    }
    case 'Squeeze': {
      const x = inShape(0);
      const axes = (input[1] ? inValue(1) : ints(n, 'axes', x.flatMap((v, i) => (v === 1 ? [i] : [])))).map((a) => normAxis(a, x.length));
      return set(x.filter((_, i) => !axes.includes(i)), c.values.get(input[0]!));
    }
    case 'Unsqueeze': {
      const x = inShape(0);
      const raw = input[1] ? inValue(1) : ints(n, 'axes', []);
      const rank = x.length + raw.length;
      const axes = raw.map((a) => normAxis(a, rank));
      const dims: number[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) dims.push(axes.includes(i) ? 1 : x[j++]!);
      return set(dims, c.values.get(input[0]!));
    }
    case 'Transpose': {
      const x = inShape(0);
      const perm = ints(n, 'perm', x.map((_, i) => x.length - 1 - i));
      return set(perm.map((p) => x[p]!));
    }
    case 'Gemm': {
      const a = inShape(0);
      const b = inShape(1);
      const m = int(n, 'transA', 0) ? a[1]! : a[0]!;
      const k = int(n, 'transB', 0) ? b[0]! : b[1]!;
      return set([m, k]);
    }
    case 'MatMul': {
      const a = inShape(0);
      const b = inShape(1);
      if (b.length === 1) return set(a.slice(0, -1));
      if (a.length === 1) return set(b.filter((_, i) => i !== b.length - 2));
      const batch = broadcast(a.slice(0, -2), b.slice(0, -2));
      return set([...batch, a[a.length - 2]!, b[b.length - 1]!]);
    }
    case 'Shape': {
      const x = inShape(0);
      return set([x.length], x);
    }
    case 'Size': {
      return set([], [inShape(0).reduce((p, v) => p * v, 1)]);
    }
    case 'Cast':
      return set(inShape(0), c.values.get(input[0]!));
    case 'Constant':
      return; // already among the graph's constants
    case 'ConstantOfShape': {
      const dims = inValue(0);
      return set(dims);
    }
    case 'Gather': {
      const x = inShape(0);
      const idx = inShape(1);
      const axis = normAxis(int(n, 'axis', 0), x.length);
      const dims = [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
      const xv = c.values.get(input[0]!);
      const iv = c.values.get(input[1]!);
      const value = xv && iv && x.length === 1 ? iv.map((i) => xv[i < 0 ? i + x[0]! : i]!) : undefined;
      return set(dims, value);
    }
    case 'Slice': {
      const x = inShape(0);
      const starts = inValue(1);
      const ends = inValue(2);
      const axes = input[3] ? inValue(3).map((a) => normAxis(a, x.length)) : starts.map((_, i) => i);
      const steps = input[4] ? inValue(4) : starts.map(() => 1);
      const dims = [...x];
      const ranges = x.map((v) => [0, v, 1] as [number, number, number]);
      axes.forEach((a, i) => {
        const [s, e] = sliceBounds(starts[i]!, ends[i]!, steps[i]!, x[a]!);
        ranges[a] = [s, e, steps[i]!];
        dims[a] = Math.max(0, Math.ceil((e - s) / steps[i]!));
      });
      const xv = c.values.get(input[0]!);
      const value = xv && x.length === 1 ? range(ranges[0]!).map((i) => xv[i]!) : undefined;
      return set(dims, value);
    }
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax':
    case 'ReduceProd': {
      const x = inShape(0);
      const axesIn = op === 'ReduceSum' && input[1] ? inValue(1) : ints(n, 'axes', x.map((_, i) => i));
      const axes = axesIn.map((a) => normAxis(a, x.length));
      const keep = int(n, 'keepdims', 1) === 1;
      const dims = keep ? x.map((v, i) => (axes.includes(i) ? 1 : v)) : x.filter((_, i) => !axes.includes(i));
      return set(dims);
    }
    case 'Range': {
      const [start, limit, delta] = [inValue(0)[0]!, inValue(1)[0]!, inValue(2)[0]!];
      const len = Math.max(0, Math.ceil((limit - start) / delta));
      return set([len], len <= 64 ? range([start, limit, delta]) : undefined);
    }
    default:
      throw new Error(`no shape rule for ${op}`);
  }
}

function range([s, e, step]: [number, number, number]): number[] {
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

export function sliceBounds(start: number, end: number, step: number, dim: number): [number, number] {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  const s = start < 0 ? start + dim : start;
  const e = end < 0 ? end + dim : end;
  return step > 0 ? [clamp(s, 0, dim), clamp(e, 0, dim)] : [clamp(s, -1, dim - 1), clamp(e, -1, dim - 1)];
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export function broadcast(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

function elementwise(op: string, a: number[], b: number[]): number[] {
  const len = Math.max(a.length, b.length);
  const at = (v: number[], i: number): number => v[v.length === 1 ? 0 : i]!;
  const f: Record<string, (x: number, y: number) => number> = {
    Add: (x, y) => x + y, Sub: (x, y) => x - y, Mul: (x, y) => x * y, Div: (x, y) => Math.trunc(x / y),
    Max: Math.max, Min: Math.min,
  };
  const fn = f[op];
  if (!fn) throw new Error(`no value rule for ${op}`);
  return Array.from({ length: len }, (_, i) => fn(at(a, i), at(b, i)));
}

/** Output sizes of a sliding-window op (Conv, pools) at the given input sizes. */
export function windowOut(n: NodeProto, sizes: number[], kernel: number[], ceil: boolean): number[] {
  const r = sizes.length;
  const s = ints(n, 'strides', sizes.map(() => 1));
  const d = ints(n, 'dilations', sizes.map(() => 1));
  const autoPad = str(n, 'auto_pad', 'NOTSET');
  const p = ints(n, 'pads', [...sizes, ...sizes].map(() => 0));
  return sizes.map((x, i) => {
    const keff = (kernel[i]! - 1) * d[i]! + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(x / s[i]!);
    const padded = autoPad === 'VALID' ? x : x + p[i]! + p[i + r]!;
    const q = (padded - keff) / s[i]!;
    return (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
  });
}

function splitSizes(n: NodeProto, dim: number, c: InferCtx): number[] {
  const split = n.input?.[1] ? c.values.get(n.input[1]) : ints(n, 'split', []);
  if (split && split.length > 0) return split;
  const parts = n.output?.length ?? 1;
  return Array.from({ length: parts }, () => dim / parts);
}

