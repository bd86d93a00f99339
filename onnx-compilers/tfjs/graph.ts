/**
 * The ONNX graph under construction, and what the converter knows about each tensor
 * in it (rank, channels, how its height/width follow from the input's).
 */
import { floatTensor, int64Tensor, node, type NodeProto, type TensorProto } from '../proto.js';

/** One spatial size as a function of the input's: text for the manifest, `at` to evaluate it. */
export interface Dim {
  text: string;
  at(inputSize: number): number;
}

/** A tensor in NCHW (rank 4) or [N, features] (rank 2) layout. */
export interface TensorInfo {
  name: string;
  rank: 2 | 4;
  channels: number;
  h?: Dim;
  w?: Dim;
}

/** The input's height or width: free (named H / W) or fixed. */
export const inputDim = (axis: 'H' | 'W', fixed: number | null): Dim =>
  fixed === null ? { text: axis, at: (n) => n } : { text: String(fixed), at: () => fixed };

/** A dim transformed by `f`, its text built from the input dim's text (parenthesised when compound). */
export function mapDim(d: Dim, text: (t: string) => string, f: (n: number) => number): Dim {
  return { text: /^\d+$/.test(d.text) ? String(f(Number(d.text))) : text(atomic(d.text)), at: (n) => f(d.at(n)) };
}

/** `t` as an operand: a name, a number or one whole ceil(...)/floor(...) stays as it is. */
function atomic(t: string): string {
  if (/^\w+$/.test(t)) return t;
  const call = /^(ceil|floor)\(/.exec(t);
  if (call) {
    let depth = 0;
    for (let i = call[0].length - 1; i < t.length; i++) {
      depth += t[i] === '(' ? 1 : t[i] === ')' ? -1 : 0;
      if (depth === 0) {
        if (i === t.length - 1) return t;
        break;
      }
    }
  }
  return `(${t})`;
}

type Attrs = Parameters<typeof node>[3];

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();

  /** A tensor name not used yet, `base` itself when free. */
  fresh(base: string): string {
    let name = base;
    for (let i = 2; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Adds a node; `output` is claimed as given (layer names are unique in Keras). */
  op(opType: string, inputs: readonly string[], output: string, attrs: Attrs = {}, floats: readonly string[] = []): string {
    this.names.add(output);
    this.nodes.push(node(opType, inputs, [output], attrs, { name: output, floats }));
    return output;
  }

  floats(base: string, dims: readonly number[], data: Float32Array | readonly number[]): string {
    const name = this.fresh(base);
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  int64s(base: string, dims: readonly number[], data: readonly number[]): string {
    const name = this.fresh(base);
    this.initializers.push(int64Tensor(name, dims, data));
    return name;
  }

  /** Renames a node output and every use of it (to give graph outputs their public names). */
  rename(from: string, to: string): void {
    if (this.names.has(to)) throw new Error(`cannot rename ${from} to ${to}: a tensor of that name exists`);
    for (const n of this.nodes) {
      n.output = (n.output ?? []).map((o) => (o === from ? to : o));
      n.input = (n.input ?? []).map((i) => (i === from ? to : i));
      if (n.name === from) n.name = to;
    }
    this.names.add(to);
  }

  producer(tensor: string): NodeProto | undefined {
    return this.nodes.find((n) => n.output?.includes(tensor));
  }

  parameterCount(): number {
    return this.initializers.reduce((sum, t) => sum + (t.dims ?? []).reduce<number>((a, b) => a * Number(b), 1), 0);
  }
}
