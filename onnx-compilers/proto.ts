/**
 * The one doorway to the ONNX protobuf format (read, write, build) for the project's
 * model tools: the TF.js converter, the dream-graph compiler and the model registry.
 * Running models is onnxruntime's job and lives in server/onnx/.
 */
import { readFile, writeFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const DataType = onnx.TensorProto.DataType;

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export async function readModel(path: string): Promise<ModelProto> {
  return decodeModel(await readFile(path));
}

export async function writeModel(path: string, model: onnxProto.onnx.IModelProto): Promise<void> {
  await writeFile(path, encodeModel(model));
}

/** A float32 initializer/constant tensor. */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array | readonly number[]): TensorProto {
  const values = data instanceof Float32Array ? data : Float32Array.from(data);
  return {
    name,
    dims: [...dims],
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
  };
}

/** An int64 tensor (shapes, axes, pads). */
export function int64Tensor(name: string, dims: readonly number[], data: readonly number[]): TensorProto {
  const values = BigInt64Array.from(data.map((v) => BigInt(v)));
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: new Uint8Array(values.buffer) };
}

/** Float32 values of a tensor, whether stored as raw bytes or as floatData. */
export function tensorFloats(t: TensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT) throw new Error(`tensor ${t.name}: expected FLOAT, got data type ${t.dataType}`);
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData);
    return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** Integer values of an INT64 / INT32 tensor (shapes, pads, axes), whether raw bytes or typed fields. */
export function tensorInts(t: TensorProto): number[] {
  const raw = t.rawData && t.rawData.length > 0 ? new Uint8Array(t.rawData) : null;
  if (t.dataType === DataType.INT64) {
    if (raw) return Array.from(new BigInt64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8), Number);
    return (t.int64Data ?? []).map(Number);
  }
  if (t.dataType === DataType.INT32) {
    if (raw) return Array.from(new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4));
    return (t.int32Data ?? []).map(Number);
  }
  throw new Error(`tensor ${t.name}: expected INT64 or INT32, got data type ${t.dataType}`);
}

export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => Number(d));
}

type AttrValue = number | string | readonly number[] | readonly string[] | TensorProto;

/** A node with attributes given as a plain object; ints vs floats are told apart by `floats`. */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: Record<string, AttrValue> = {},
  opts: { name?: string; floats?: readonly string[] } = {},
): NodeProto {
  const attribute = Object.entries(attrs).map(([name, v]) => attribute_(name, v, opts.floats?.includes(name) ?? false));
  return { opType, input: [...inputs], output: [...outputs], attribute, name: opts.name ?? outputs[0] ?? opType };
}

function attribute_(name: string, v: AttrValue, isFloat: boolean): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return isFloat || !Number.isInteger(v) ? { name, type: T.FLOAT, f: v } : { name, type: T.INT, i: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') return { name, type: T.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
    const nums = v as number[];
    return isFloat || nums.some((x) => !Number.isInteger(x)) ? { name, type: T.FLOATS, floats: nums } : { name, type: T.INTS, ints: nums };
  }
  return { name, type: T.TENSOR, t: v as TensorProto };
}

/** Reads a node attribute as a number / numbers / string, or `fallback` when absent. */
export function attr<T>(n: NodeProto, name: string, fallback: T): T | number | number[] | string {
  const a = n.attribute?.find((x) => x.name === name);
  if (!a) return fallback;
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT: return Number(a.i);
    case T.FLOAT: return a.f ?? 0;
    case T.INTS: return (a.ints ?? []).map(Number);
    case T.FLOATS: return [...(a.floats ?? [])];
    case T.STRING: return new TextDecoder().decode(a.s ?? new Uint8Array());
    default: return fallback;
  }
}

/** A float32 graph input/output with fixed or symbolic dims (strings are symbolic). */
export function valueInfo(name: string, dims: readonly (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Wraps a graph in a model at the given opset (13 runs in onnxruntime for Node and for the web). */
export function model(graph: GraphProto, opset = 13, producer = 'imaginary-portraits'): onnxProto.onnx.IModelProto {
  return { irVersion: 7, opsetImport: [{ domain: '', version: opset }], producerName: producer, graph };
}
