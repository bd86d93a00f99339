/**
 * Selects one channel (axis 1) of a tensor for the objective. Rather than slicing the
 * finished tensor, the selection is pushed back through per-channel ops (activations,
 * BN, pools, broadcasts, Concat) to the producing Conv/Gemm, which is then rebuilt with
 * that single output channel: dreaming one channel of a 256-channel conv then costs one
 * channel's forward and backward, not 256. Anything else falls back to a Slice.
 */
import { DataType, tensorDims, tensorFloats, type NodeProto, type TensorProto } from '../proto.js';
import { int } from './attrs.js';
import type { GraphBuilder } from './builder.js';
import { normAxis, type Probe } from './shapes.js';

export interface ChannelContext {
  readonly b: GraphBuilder;
  readonly probe: Probe;
  readonly producer: ReadonlyMap<string, NodeProto>;
  readonly consts: ReadonlyMap<string, TensorProto>;
  /** false: always Slice (for comparison and debugging). */
  readonly pushdown: boolean;
}

const PER_CHANNEL_UNARY = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Identity', 'Neg', 'Clip', 'Dropout', 'MaxPool', 'AveragePool',
  'GlobalAveragePool', 'GlobalMaxPool', 'Cast',
]);
const BROADCASTING = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum']);

export function selectChannel(ctx: ChannelContext, tensor: string, c: number): string {
  const memo = new Map<string, string>();
  const select = (t: string, ch: number): string => {
    const key = `${t}#${ch}`;
    let out = memo.get(key);
    if (out === undefined) {
      out = (ctx.pushdown ? pushed(ctx, t, ch, select) : null) ?? sliced(ctx, t, ch);
      memo.set(key, out);
    }
    return out;
  };
  return select(tensor, c);
}

function sliced(ctx: ChannelContext, t: string, c: number): string {
  return ctx.b.op('Slice', [t, ctx.b.ints([c]), ctx.b.ints([c + 1]), ctx.b.ints([1])], {}, `${t}[:,${c}]`);
}

type Select = (t: string, ch: number) => string;

function pushed(ctx: ChannelContext, t: string, c: number, select: Select): string | null {
  const { b } = ctx;
  const n = ctx.producer.get(t);
  if (!n || n.output?.[0] !== t) return null;
  const inputs = n.input ?? [];
  const rank = ctx.probe.shape(t)?.length;
  const channels = ctx.probe.shape(t)?.[1];
  if (rank === undefined || channels === undefined) return null;
  const rebuild = (newInputs: string[]): string => {
    const out = b.fresh(`${t}[:,${c}]`);
    b.nodes.push({ ...n, name: b.fresh(`${n.name || t}[:,${c}]`), input: newInputs, output: [out] });
    return out;
  };
  const op = n.opType ?? '';

  if (PER_CHANNEL_UNARY.has(op)) return rebuild([select(inputs[0]!, c), ...inputs.slice(1)]);

  switch (op) {
    case 'Conv': {
      const w = ctx.consts.get(inputs[1]!);
      if (!w || rank < 3) return null;
      const [m, cg] = tensorDims(w) as [number, number];
      const group = int(n, 'group', 1);
      const gi = Math.floor(c / (m / group));
      const x = group === 1 ? inputs[0]! : cg === 1 ? select(inputs[0]!, gi) : b.op('Slice', [inputs[0]!, b.ints([gi * cg]), b.ints([(gi + 1) * cg]), b.ints([1])]);
      const wc = sliceConst(ctx, inputs[1]!, 0, c);
      const bc = inputs[2] ? sliceConst(ctx, inputs[2], 0, c) : null;
      if (!wc || (inputs[2] && !bc)) return null;
      const out = b.fresh(`${t}[:,${c}]`);
      const attribute = (n.attribute ?? []).filter((a) => a.name !== 'group');
      b.nodes.push({ ...n, name: b.fresh(`${n.name || t}[:,${c}]`), input: bc ? [x, wc, bc] : [x, wc], output: [out], attribute });
      return out;
    }
    case 'BatchNormalization': {
      if ((n.output ?? []).filter(Boolean).length > 1) return null;
      const params = inputs.slice(1).map((p) => sliceConst(ctx, p, 0, c));
      if (params.some((p) => !p)) return null;
      return rebuild([select(inputs[0]!, c), ...(params as string[])]);
    }
    case 'PRelu':
    case 'Pad':
    case 'Resize': {
      // Per-channel as long as the second operand / pads / scales do not act on the channel axis.
      if (op === 'PRelu') {
        const slope = alignedChannel(ctx, inputs[1]!, rank, channels, c);
        return slope ? rebuild([select(inputs[0]!, c), slope]) : null;
      }
      if (op === 'Pad') {
        const pads = ctx.probe.value(inputs[1] ?? '');
        if (!pads || pads[1] !== 0 || pads[1 + rank] !== 0) return null;
        return rebuild([select(inputs[0]!, c), ...inputs.slice(1)]);
      }
      if (inputs[3]) return null; // explicit sizes include the channel count
      const scales = ctx.probe.value(inputs[2] ?? '');
      return scales && scales[1] === 1 ? rebuild([select(inputs[0]!, c), ...inputs.slice(1)]) : null;
    }
    case 'Concat': {
      if (normAxis(int(n, 'axis', 0), rank) !== 1) return null;
      let offset = 0;
      for (const x of inputs) {
        const size = ctx.probe.shape(x)?.[1];
        if (size === undefined) return null;
        if (c < offset + size) return select(x, c - offset);
        offset += size;
      }
      return null;
    }
    case 'Gemm': {
      if (rank !== 2) return null;
      const transB = int(n, 'transB', 0);
      const w = sliceConst(ctx, inputs[1]!, transB ? 0 : 1, c);
      const bias = inputs[2] ? alignedChannel(ctx, inputs[2], 2, channels, c) : null;
      if (!w || (inputs[2] && !bias)) return null;
      return rebuild(bias ? [inputs[0]!, w, bias] : [inputs[0]!, w]);
    }
    case 'MatMul': {
      const w = ctx.consts.get(inputs[1]!);
      if (rank !== 2 || !w || tensorDims(w).length !== 2) return null;
      const wc = sliceConst(ctx, inputs[1]!, 1, c);
      return wc ? rebuild([inputs[0]!, wc]) : null;
    }
  }
  if (BROADCASTING.has(op)) {
    const parts = inputs.map((x) => {
      const shape = ctx.probe.shape(x);
      if (!shape) return null;
      const axis = 1 - (rank - shape.length);
      if (axis < 0 || shape[axis] === 1) return x;
      if (shape[axis] !== channels) return null;
      return ctx.consts.has(x) ? sliceConst(ctx, x, axis, c) : select(x, c);
    });
    return parts.every((p) => p !== null) ? rebuild(parts as string[]) : null;
  }
  return null;
}

/** A constant operand broadcast against an output of the given rank, reduced to channel c (or as is if it has no channel axis). */
function alignedChannel(ctx: ChannelContext, name: string, rank: number, channels: number, c: number): string | null {
  const shape = ctx.probe.shape(name);
  if (!shape) return null;
  const axis = 1 - (rank - shape.length);
  if (axis < 0 || shape[axis] === 1) return name;
  if (shape[axis] !== channels) return null;
  return sliceConst(ctx, name, axis, c);
}

/** A new float initializer holding index `c` of a constant along `axis` (the axis kept, size 1). */
function sliceConst(ctx: ChannelContext, name: string, axis: number, c: number): string | null {
  const t = ctx.consts.get(name);
  if (!t || t.dataType !== DataType.FLOAT) return null;
  const dims = tensorDims(t);
  const data = tensorFloats(t);
  const outer = dims.slice(0, axis).reduce((p, v) => p * v, 1);
  const inner = dims.slice(axis + 1).reduce((p, v) => p * v, 1);
  const size = dims[axis]!;
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) out.set(data.subarray((o * size + c) * inner, (o * size + c + 1) * inner), o * inner);
  const newDims = [...dims];
  newDims[axis] = 1;
  return ctx.b.floatConst(`${name}[${c}]`, newDims, out);
}
