/**
 * Small random ONNX nets for tests (built with the project's proto doorway), and the
 * gradient check the dream-graph tests share: run the compiled graph and the original
 * model in onnxruntime (server/onnx) and compare the graph's gradient with central finite
 * differences of the objective computed (in float64) from the original's tensor.
 * Any ModelProto works as a source, e.g. a converted Darknet or an exported critic.
 */
import { gaussian, splitmix32 } from '../../common/random.js';
import {
  DataType, encodeModel, floatTensor, int64Tensor, model, node, onnx, valueInfo,
  type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from '../../onnx-compilers/proto.js';
import { compileDreamGraph, type CompileOptions, type SingleObjective as Objective } from '../../onnx-compilers/dream-graph/index.js';
import { createSession, floatTensor as runtimeFloat, type Session, type Tensor } from '../../server/onnx/runtime.js';

type Attrs = Parameters<typeof node>[3];

/** Builds a random float32 net from NCHW `image`; every op returns its output's name. */
export class NetBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly inits: TensorProto[] = [];
  private readonly channels = new Map<string, number>();
  private readonly rand: () => number;
  private count = 0;

  constructor(seed: number, readonly imageDims: (number | string)[] = ['N', 3, 'H', 'W']) {
    this.rand = splitmix32(seed);
    this.channels.set('image', Number(imageDims[1]));
  }

  get image(): string {
    return 'image';
  }

  channelsOf(t: string): number {
    const c = this.channels.get(t);
    if (c === undefined) throw new Error(`unknown channel count of ${t}`);
    return c;
  }

  private name(op: string): string {
    return `${op.toLowerCase()}${++this.count}`;
  }

  /** A random float initializer, normal(0, scale). */
  weight(dims: number[], scale = 1, offset = 0): string {
    const n = dims.reduce((a, b) => a * b, 1);
    const noise = gaussian(Math.floor(this.rand() * 2 ** 31), n);
    const name = `w${++this.count}`;
    this.inits.push(floatTensor(name, dims, noise.map((v) => offset + v * scale)));
    return name;
  }

  ints(values: number[]): string {
    const name = `i${++this.count}`;
    this.inits.push(int64Tensor(name, [values.length], values));
    return name;
  }

  /** Appends a node; output channels as given (default: same as the first input). */
  op(opType: string, inputs: string[], attrs: Attrs = {}, channels?: number, floats?: string[]): string {
    const out = this.name(opType);
    this.nodes.push(node(opType, inputs, [out], attrs, { name: `${out}_node`, ...(floats ? { floats } : {}) }));
    this.channels.set(out, channels ?? this.channels.get(inputs[0]!) ?? 0);
    return out;
  }

  /** Split along channels into parts of the given sizes. */
  split(x: string, sizes: number[]): string[] {
    const outs = sizes.map(() => this.name('Split'));
    this.nodes.push(node('Split', [x, this.ints(sizes)], outs, { axis: 1 }, { name: `${outs[0]}_node` }));
    outs.forEach((o, i) => this.channels.set(o, sizes[i]!));
    return outs;
  }

  conv(x: string, cout: number, o: { k?: number; stride?: number; pad?: number | number[]; dilation?: number; group?: number; bias?: boolean; autoPad?: string } = {}): string {
    const k = o.k ?? 3;
    const group = o.group ?? 1;
    const cin = this.channelsOf(x);
    const w = this.weight([cout, cin / group, k, k], 1 / Math.sqrt((cin / group) * k * k));
    const inputs = o.bias === false ? [x, w] : [x, w, this.weight([cout], 0.1)];
    const pad = o.pad ?? Math.floor(k / 2);
    const attrs: Attrs = { kernel_shape: [k, k], strides: [o.stride ?? 1, o.stride ?? 1], dilations: [o.dilation ?? 1, o.dilation ?? 1], group };
    if (o.autoPad) attrs['auto_pad'] = o.autoPad;
    else attrs['pads'] = Array.isArray(pad) ? pad : [pad, pad, pad, pad];
    return this.op('Conv', inputs, attrs, cout);
  }

  relu(x: string): string {
    return this.op('Relu', [x]);
  }

  lrelu(x: string, alpha = 0.2): string {
    return this.op('LeakyRelu', [x], { alpha }, undefined, ['alpha']);
  }

  maxPool(x: string, k: number, stride: number, o: { pads?: number[]; ceil?: boolean; autoPad?: string } = {}): string {
    const attrs: Attrs = { kernel_shape: [k, k], strides: [stride, stride] };
    if (o.autoPad) attrs['auto_pad'] = o.autoPad;
    else attrs['pads'] = o.pads ?? [0, 0, 0, 0];
    if (o.ceil) attrs['ceil_mode'] = 1;
    return this.op('MaxPool', [x], attrs);
  }

  avgPool(x: string, k: number, stride: number, o: { pads?: number[]; countIncludePad?: boolean } = {}): string {
    return this.op('AveragePool', [x], { kernel_shape: [k, k], strides: [stride, stride], pads: o.pads ?? [0, 0, 0, 0], count_include_pad: o.countIncludePad ? 1 : 0 });
  }

  batchNorm(x: string): string {
    const c = this.channelsOf(x);
    const variance = this.weight([c], 0.2, 1);
    return this.op('BatchNormalization', [x, this.weight([c], 0.3, 1), this.weight([c], 0.2), this.weight([c], 0.2), variance], { epsilon: 1e-3 }, c, ['epsilon']);
  }

  /** Elementwise op with a random constant of the given (broadcast) shape. */
  withConst(op: 'Add' | 'Sub' | 'Mul' | 'Div', x: string, dims: number[], constFirst = false): string {
    const w = this.weight(dims, op === 'Mul' || op === 'Div' ? 0.3 : 0.5, op === 'Mul' || op === 'Div' ? 1 : 0);
    return this.op(op, constFirst ? [w, x] : [x, w], {}, this.channelsOf(x));
  }

  concat(xs: string[]): string {
    return this.op('Concat', xs, { axis: 1 }, xs.reduce((a, x) => a + this.channelsOf(x), 0));
  }

  pad(x: string, pads: number[]): string {
    return this.op('Pad', [x, this.ints(pads)], { mode: 'constant' });
  }

  resize(x: string, scale: number, coord = 'asymmetric', nearest = 'floor'): string {
    const scales = `s${++this.count}`;
    this.inits.push(floatTensor(scales, [4], [1, 1, scale, scale]));
    return this.op('Resize', [x, '', scales], { mode: 'nearest', coordinate_transformation_mode: coord, nearest_mode: nearest });
  }

  /** GlobalAveragePool -> Flatten -> Gemm: a classifier head that works at any image size. */
  head(x: string, classes: number, transB = true): string {
    const c = this.channelsOf(x);
    const flat = this.op('Flatten', [this.op('GlobalAveragePool', [x])], { axis: 1 });
    const w = transB ? this.weight([classes, c], 1 / Math.sqrt(c)) : this.weight([c, classes], 1 / Math.sqrt(c));
    return this.op('Gemm', [flat, w, this.weight([classes], 0.1)], { transB: transB ? 1 : 0, alpha: 1.5 }, classes, ['alpha']);
  }

  build(outputs: string[]): ModelProto {
    const graph = {
      name: 'test-net',
      node: this.nodes,
      initializer: this.inits,
      input: [valueInfo('image', this.imageDims)],
      output: outputs.map((o) => ({ name: o, type: { tensorType: { elemType: DataType.FLOAT } } })),
    };
    return onnx.ModelProto.create(model(graph));
  }
}

/** A copy of `m` that also outputs the given intermediate tensors (onnxruntime fetches graph outputs only). */
export function withOutputs(m: ModelProto, tensors: readonly string[]): ModelProto {
  const copy = onnx.ModelProto.decode(encodeModel(m));
  const have = new Set(copy.graph!.output!.map((o) => o.name));
  for (const t of tensors) if (!have.has(t)) copy.graph!.output!.push({ name: t, type: { tensorType: { elemType: DataType.FLOAT } } });
  return copy;
}

/** The source's image input: the named one, else the first input that is not an initializer. */
export function imageInput(m: ModelProto, name?: string): ValueInfoProto {
  const inits = new Set((m.graph?.initializer ?? []).map((t) => t.name));
  const found = (m.graph?.input ?? []).find((i) => (name ? i.name === name : !inits.has(i.name)));
  if (!found) throw new Error(`no image input${name ? ` named ${name}` : ''}`);
  return found;
}

export async function session(m: ModelProto): Promise<Session> {
  return createSession(encodeModel(m), 'cpu', { threads: 1 });
}

/** The objective per image, in float64, from the original model's tensor (the reference for the compiled graph). */
export function referenceObjective(t: Tensor, objective: Objective): number[] {
  const dims = t.dims.map(Number);
  const data = t.data as Float32Array;
  const [n, c] = [dims[0]!, dims[1] ?? 1];
  const inner = dims.slice(2).reduce((a, b) => a * b, 1);
  if (objective.kind === 'guide') throw new Error('referenceObjective: a guided objective needs its guide (see test/unit/dream-graph-guide.test.ts)');
  const channel = objective.kind === 'class' ? objective.index : objective.channel;
  return Array.from({ length: n }, (_, i) => {
    let sum = 0;
    let count = 0;
    for (let ch = 0; ch < c; ch++) {
      if (channel !== undefined && ch !== channel) continue;
      for (let j = 0; j < inner; j++) {
        const v = data[(i * c + ch) * inner + j]!;
        sum += objective.kind === 'layer' ? v * v : v;
        count++;
      }
    }
    return sum / count;
  });
}

export interface GradCheck {
  /** Largest relative error of the objective's value against the original model. */
  objectiveError: number;
  /** Largest relative error of a directional derivative against central differences. */
  gradError: number;
  /** Per direction: analytic and finite-difference derivative (times 2*step) at the best step. */
  directions: { name: string; analytic: number; numeric: number; eps: number; error: number }[];
  compiled: ModelProto;
}

/**
 * Checks `compileDreamGraph(source, objective)` at an input of shape `dims`. Directions:
 * the gradient itself (large derivative), random normal ones, and a random one restricted
 * to the image border (where stride/padding mistakes show). The analytic derivative uses
 * the exact float32 step (x+ - x-), so input rounding does not count as error.
 *
 * Error = |analytic - numeric| / max(|analytic|, |numeric|, sqrt(sum_i (g_i dx_i)^2)).
 * The last term is the derivative's typical size for a direction with that support and
 * weighting (its standard deviation under random signs), so a random direction that
 * happens to be nearly orthogonal to the gradient does not turn float32 noise into a
 * large "relative" error; for the gradient direction it is the plain relative error.
 *
 * Steps: float32 rounding of the objective swamps small steps, ReLU/max-pool kinks and
 * curvature spoil large ones, so each direction is tried at STEPS (RMS change per input
 * element, from the usual sweet spot outwards, stopping below GOOD_ENOUGH) and the best
 * agreement counts. A wrong gradient is wrong at every step.
 *
 * `freeze: true` differentiates numerically the net with its ReLU / LeakyReLU / MaxPool
 * decisions frozen at x (freezeActivations): same value and gradient at x, no kinks, so
 * large steps are exact and the check is tight (errors ~1e-5) even for deep nets. Other
 * piecewise ops (Clip, Max, GlobalMaxPool, PRelu) are not frozen.
 */
const STEPS = [1e-3, 3e-4, 3e-3, 1e-4, 1e-2, 3e-5, 3e-2, 1e-5];
/** A direction that agrees this well needs no further steps. */
const GOOD_ENOUGH = 1e-4;
/**
 * Each difference is averaged over base points jittered by ~1e-6 (k = 0 unjittered):
 * that changes float32 rounding, not the derivative, so the noise shrinks by sqrt(JITTERS).
 */
const JITTERS = 16;
/** A frozen net is piecewise nothing: large steps, where float32 noise is negligible. */
const FROZEN_STEPS = [3e-2, 1e-2, 3e-3];

export async function gradCheck(
  source: ModelProto,
  objective: Objective,
  dims: number[],
  o: { seed?: number; eps?: number; randomDirections?: number; compile?: CompileOptions; freeze?: boolean } = {},
): Promise<GradCheck> {
  const compiled = compileDreamGraph(source, objective, o.compile);
  const [dream, original] = await Promise.all([session(compiled), session(withOutputs(source, [objective.tensor]))]);
  const size = dims.reduce((a, b) => a * b, 1);
  const seed = o.seed ?? 1;
  const inputName = imageInput(source, o.compile?.input).name!;
  const x = gaussian(seed, size);

  const reference = async (input: Float32Array): Promise<number[]> => {
    const out = await original.run({ [inputName]: runtimeFloat(input, dims) });
    return referenceObjective(out[objective.tensor]!, objective);
  };
  // Summed objective at many inputs: one batched run when the source's batch size is free.
  const batch = imageInput(source, o.compile?.input).type?.tensorType?.shape?.dim?.[0];
  const batchable = !(batch?.dimValue && Number(batch.dimValue) > 0);
  const jitters = o.freeze ? 1 : JITTERS;
  const steps = o.eps ? [o.eps] : o.freeze ? FROZEN_STEPS : STEPS;
  // Frozen: differences of the net with its activation pattern fixed at x (see freezeActivations).
  const frozen = o.freeze ? await session(await freezeActivations(withOutputs(source, [objective.tensor]), inputName, x, dims, 2 * jitters)) : null;
  const referenceMany = async (inputs: Float32Array[]): Promise<number[]> => {
    const total = (v: number[]): number => v.reduce((a, b) => a + b, 0);
    if (!batchable && !frozen) return Promise.all(inputs.map(async (i) => total(await reference(i))));
    const all = new Float32Array(size * inputs.length);
    inputs.forEach((input, k) => all.set(input, k * size));
    const out = await (frozen ?? original).run({ [inputName]: runtimeFloat(all, [dims[0]! * inputs.length, ...dims.slice(1)]) });
    const perImage = referenceObjective(out[objective.tensor]!, objective);
    return inputs.map((_, k) => total(perImage.slice(k * dims[0]!, (k + 1) * dims[0]!)));
  };
  const out = await dream.run({ image: runtimeFloat(x, dims) });
  const grad = out['grad']!.data as Float32Array;
  const value = Array.from(out['objective']!.data as Float32Array);
  if (out['grad']!.dims.join() !== dims.join()) throw new Error(`grad has shape [${out['grad']!.dims}], expected [${dims}]`);
  const ref = await reference(x);
  const objectiveError = Math.max(...ref.map((r, i) => Math.abs(r - value[i]!) / Math.max(Math.abs(r), 1e-12)));

  const norm = (v: Float32Array): number => Math.sqrt(v.reduce((a, b) => a + b * b, 0));
  const unit = (v: Float32Array): Float32Array => {
    const s = norm(v) || 1;
    return v.map((e) => e / s);
  };
  const [h, w] = [dims[2] ?? 1, dims[3] ?? 1];
  const border = gaussian(seed + 99, size).map((v, i) => {
    const y = Math.floor(i / w) % h;
    const xx = i % w;
    return y < 2 || y >= h - 2 || xx < 2 || xx >= w - 2 ? v : 0;
  });
  const directions: [string, Float32Array][] = [
    ['gradient', unit(grad)],
    ...Array.from({ length: o.randomDirections ?? 2 }, (_, k) => [`random${k}`, unit(gaussian(seed + 1 + k, size))] as [string, Float32Array]),
    ['border', unit(border)],
  ];
  const results: GradCheck['directions'] = [];
  let gradError = 0;
  for (const [name, v] of directions) {
    let best: GradCheck['directions'][number] | null = null;
    for (const eps of steps) {
      const step = eps * Math.sqrt(size);
      const points: Float32Array[] = [];
      for (let k = 0; k < jitters; k++) {
        const jitter = gaussian(seed * 7919 + k, size);
        const base = x.map((e, i) => e + (k === 0 ? 0 : 1e-6 * jitter[i]!));
        points.push(base.map((e, i) => e + step * v[i]!), base.map((e, i) => e - step * v[i]!));
      }
      const values = await referenceMany(points);
      let numeric = 0;
      let analytic = 0;
      let typical = 0;
      for (let k = 0; k < jitters; k++) {
        const [plus, minus] = [points[2 * k]!, points[2 * k + 1]!];
        numeric += (values[2 * k]! - values[2 * k + 1]!) / jitters;
        let sq = 0;
        for (let i = 0; i < size; i++) {
          const term = grad[i]! * (plus[i]! - minus[i]!);
          analytic += term / jitters;
          sq += term * term;
        }
        typical += Math.sqrt(sq) / jitters;
      }
      const scale = Math.max(Math.abs(numeric), Math.abs(analytic), typical, 1e-30);
      const error = Math.abs(analytic - numeric) / scale;
      if (!best || error < best.error) best = { name, analytic, numeric, eps, error };
      if (best.error < GOOD_ENOUGH) break;
    }
    results.push(best!);
    gradError = Math.max(gradError, best!.error);
  }
  await Promise.all([dream.release(), original.release(), frozen?.release()]);
  return { objectiveError, gradError, directions: results, compiled };
}

/**
 * The net with its activation pattern frozen at input x: every Relu / LeakyRelu becomes a
 * multiplication by the constant slope mask it has at x, every MaxPool a Gather of the
 * elements that were the maxima at x (tiled for `batches` copies of x's batch). The frozen
 * net has the same value and gradient at x but no kinks, so central differences stay
 * exact at large steps.
 */
export async function freezeActivations(m: ModelProto, inputName: string, x: Float32Array, dims: number[], batches: number): Promise<ModelProto> {
  const copy = onnx.ModelProto.decode(encodeModel(m));
  const nodes = copy.graph!.node!;
  const acts = nodes.filter((n) => n.opType === 'Relu' || n.opType === 'LeakyRelu');
  const pools = nodes.filter((n) => n.opType === 'MaxPool');
  const probeModel = withOutputs(copy, [...acts.map((n) => n.input![0]!), ...pools.map((n) => n.input![0]!)]);
  pools.forEach((n, k) => {
    if (!n.output![1]) n.output = [n.output![0]!, `frozen_argmax${k}`];
    const pool = probeModel.graph!.node!.find((p) => p.name === n.name && p.output![0] === n.output![0])!;
    pool.output = [...n.output!];
    probeModel.graph!.output!.push({ name: n.output![1]!, type: { tensorType: { elemType: DataType.INT64 } } });
  });
  const probe = await session(probeModel);
  const out = await probe.run({ [inputName]: runtimeFloat(x, dims) });
  await probe.release();
  const tiledDims = (t: Tensor): number[] => [Number(t.dims[0]) * batches, ...t.dims.slice(1).map(Number)];
  acts.forEach((n, k) => {
    const z = out[n.input![0]!]!;
    const alpha = n.opType === 'Relu' ? 0 : n.attribute?.find((a) => a.name === 'alpha')?.f ?? 0.01;
    const mask = (z.data as Float32Array).map((v) => (v > 0 ? 1 : alpha));
    const tiled = new Float32Array(mask.length * batches);
    for (let b = 0; b < batches; b++) tiled.set(mask, b * mask.length);
    const name = `frozen_mask${k}`;
    copy.graph!.initializer!.push(floatTensor(name, tiledDims(z), tiled));
    n.opType = 'Mul';
    n.input = [n.input![0]!, name];
    n.attribute = [];
  });
  pools.forEach((n, k) => {
    // MaxPool's indices address the flattened input, batch included: offset each copy.
    const size = (out[n.input![0]!]!.data as Float32Array).length;
    const argmax = out[n.output![1]!]!;
    const idx = Array.from(argmax.data as BigInt64Array, Number);
    const tiled = Array.from({ length: batches }, (_, b) => idx.map((i) => i + b * size)).flat();
    const [flat, where, picks] = [`frozen_flat${k}`, `frozen_flat_shape${k}`, `frozen_picks${k}`];
    copy.graph!.initializer!.push(int64Tensor(where, [1], [-1]), int64Tensor(picks, tiledDims(argmax), tiled));
    nodes.splice(nodes.indexOf(n), 1,
      node('Reshape', [n.input![0]!, where], [flat], {}, { name: `${flat}_node` }),
      node('Gather', [flat, picks], [n.output![0]!], { axis: 0 }, { name: `frozen_gather${k}` }),
    );
  });
  return copy;
}
