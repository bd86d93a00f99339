/**
 * Emits the compiled graph's new nodes and constants with collision-free names, and
 * caches the small helpers (Shape of a tensor, int64 vectors, scalars) so a tensor's
 * shape is read once however many rules need it.
 */
import { floatTensor, int64Tensor, node, type NodeProto, type TensorProto } from '../proto.js';

type AttrValue = Parameters<typeof node>[3] extends Record<string, infer V> | undefined ? V : never;

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly taken: Set<string>;
  private readonly cache = new Map<string, string>();
  /** Name prefix for nodes emitted without an explicit base (e.g. `grad/<node>` during its rule). */
  scope = 'dg';

  constructor(taken: Iterable<string>) {
    this.taken = new Set(taken);
  }

  /** A name not used anywhere in the source or compiled graph. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }

  /** Appends a node; returns its output names (fresh unless given). */
  emit(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    opts: { outputs?: number | readonly string[]; base?: string; floats?: readonly string[] } = {},
  ): string[] {
    const base = opts.base ?? `${this.scope}/${opType}`;
    const outputs = Array.isArray(opts.outputs)
      ? [...(opts.outputs as string[])]
      : Array.from({ length: (opts.outputs as number | undefined) ?? 1 }, (_, i) => this.fresh(i === 0 ? base : `${base}:${i}`));
    const floats = opts.floats ?? [];
    this.nodes.push(node(opType, inputs, outputs, attrs, { name: this.fresh(`${base}/${opType}`), floats }));
    return outputs;
  }

  /** `emit` for the usual single-output node. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, base?: string, floats?: readonly string[]): string {
    return this.emit(opType, inputs, attrs, { base: base ?? `${this.scope}/${opType}`, ...(floats ? { floats } : {}) })[0]!;
  }

  floatConst(base: string, dims: readonly number[], data: Float32Array | readonly number[]): string {
    const name = this.fresh(base);
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  /** An initializer this builder created, by name. */
  initializer(name: string): TensorProto | undefined {
    return this.initializers.find((t) => t.name === name);
  }

  /** A float scalar (shape []), shared between all users of the same value. */
  scalar(v: number): string {
    return this.cached(`f:${v}`, () => this.floatConst(`dg/const/${v}`, [], [v]));
  }

  /** A 1-D int64 vector, shared between all users of the same values. */
  ints(values: readonly number[]): string {
    return this.cached(`i:${values.join(',')}`, () => {
      const name = this.fresh(`dg/const/[${values.join(',')}]`);
      this.initializers.push(int64Tensor(name, [values.length], values));
      return name;
    });
  }

  /** A scalar int64 (shape []). */
  int(value: number): string {
    return this.cached(`i0:${value}`, () => {
      const name = this.fresh(`dg/const/${value}`);
      this.initializers.push(int64Tensor(name, [], [value]));
      return name;
    });
  }

  /** Run-time shape of `tensor`. */
  shapeOf(tensor: string): string {
    return this.cached(`shape:${tensor}`, () => this.op('Shape', [tensor], {}, `${tensor}/shape`));
  }

  /** Run-time dims [start, end) of `tensor` as a 1-D int64 tensor. */
  dims(tensor: string, start: number, end?: number): string {
    return this.cached(`dims:${tensor}:${start}:${end}`, () =>
      this.op('Slice', [this.shapeOf(tensor), this.ints([start]), this.ints([end ?? 2 ** 53 - 1]), this.ints([0])], {}, `${tensor}/dims${start}`),
    );
  }

  /** Run-time element count of dims [start, end) as a float scalar. */
  count(tensor: string, start: number, end?: number): string {
    return this.cached(`count:${tensor}:${start}:${end}`, () => {
      const prod = this.op('ReduceProd', [this.dims(tensor, start, end)], { keepdims: 0 }, `${tensor}/count`);
      return this.op('Cast', [prod], { to: 1 }, `${tensor}/countf`);
    });
  }

  /** Renames a tensor produced by an emitted node (used to name graph outputs). */
  rename(from: string, to: string): void {
    for (const n of this.nodes) {
      n.output = (n.output ?? []).map((t) => (t === from ? to : t));
      n.input = (n.input ?? []).map((t) => (t === from ? to : t));
    }
    this.taken.add(to);
  }

  private cached(key: string, make: () => string): string {
    let v = this.cache.get(key);
    if (v === undefined) {
      v = make();
      this.cache.set(key, v);
    }
    return v;
  }
}
