/**
 * A dream network ready to differentiate: the model's ONNX graph compiled once per
 * objective into an `image -> objective, grad` graph (onnx-compilers/dream-graph), run by
 * onnxruntime. Converts between the pipeline's [0, 1] pictures and the range the
 * network was trained on, so dream steps are the same whatever the network.
 */
import { readFile } from 'node:fs/promises';
import { compileDreamGraph, compileFeatureGraph, describeObjective, type Objective } from '../../onnx-compilers/dream-graph/index.js';
import { decodeModel, encodeModel } from '../../onnx-compilers/proto.js';
import { floatTensor, type ProviderChoice } from '../onnx/runtime.js';
import { ModelSession } from '../onnx/session.js';
import type { PlanarImage } from '../image/planar-image.js';
import type { GradientNet } from './engine.js';

export interface DreamNetSpec {
  /** The network's ONNX file. */
  file: string;
  /** The image input's name in that file. */
  input: string;
  /** The value range the network expects, e.g. [-1, 1] or [0, 1]. */
  range: readonly [number, number];
  objective: Objective;
}

export class DreamNet implements GradientNet {
  private constructor(
    private readonly session: ModelSession,
    private readonly range: readonly [number, number],
    /** Fed with every image: a guided objective's guide features. */
    private readonly extra: Record<string, ReturnType<typeof floatTensor>> = {},
  ) {}

  static async open(spec: DreamNetSpec, provider: ProviderChoice): Promise<DreamNet> {
    if (spec.objective.kind === 'guide') throw new Error('a guided dream needs its guide picture: DreamNet.openGuided');
    return DreamNet.compile(decodeModel(await readFile(spec.file)), spec, provider);
  }

  /**
   * A guided dream (objective kind 'guide'): the guide picture's features at the objective's
   * tensor are computed once here, at the guide's own size (give it at about the size the
   * dream works at, so the features' scales match), and every step pulls toward them.
   */
  static async openGuided(spec: DreamNetSpec, guide: PlanarImage, provider: ProviderChoice): Promise<DreamNet> {
    if (spec.objective.kind !== 'guide') throw new Error(`openGuided needs a guide objective, not '${spec.objective.kind}'`);
    const source = decodeModel(await readFile(spec.file));
    const featureGraph = compileFeatureGraph(source, spec.objective.tensor, { input: spec.input });
    const output = featureGraph.graph!.output![0]!.name!;
    const features = await ModelSession.fromBytes(encodeModel(featureGraph), `${spec.file} ${spec.objective.tensor} features`, 'cpu', { inputs: [{ name: 'image' }], outputs: [{ name: output }] });
    let guideFeatures: ReturnType<typeof floatTensor>;
    try {
      const out = await features.run({ image: floatTensor(toRange(guide, spec.range), [1, 3, guide.height, guide.width]) });
      const t = out[output]!;
      const [c, h, w] = [Number(t.dims[1]), Number(t.dims[2] ?? 1), Number(t.dims[3] ?? 1)];
      // [1, C, H, W] row-major is [C, H*W] already.
      guideFeatures = floatTensor(new Float32Array(t.data as Float32Array), [c, h * w]);
    } finally {
      await features.release();
    }
    return DreamNet.compile(source, spec, provider, { guide: guideFeatures });
  }

  private static async compile(source: ReturnType<typeof decodeModel>, spec: DreamNetSpec, provider: ProviderChoice, extra: Record<string, ReturnType<typeof floatTensor>> = {}): Promise<DreamNet> {
    const compiled = compileDreamGraph(source, spec.objective, { input: spec.input });
    const label = `${spec.file} ${describeObjective(spec.objective)}`;
    // onnxruntime's WebGPU provider has no MaxPool with an Indices output, which the compiled
    // backward pass of a max-pooling network (Darknet tiny) uses: such graphs run on the CPU.
    const needsCpu = compiled.graph?.node?.some((n) => n.opType === 'MaxPool' && (n.output?.length ?? 0) > 1) ?? false;
    const session = await ModelSession.fromBytes(encodeModel(compiled), label, needsCpu ? 'cpu' : provider, {
      inputs: [{ name: 'image' }, ...Object.keys(extra).map((name) => ({ name }))],
      outputs: [{ name: 'objective' }, { name: 'grad' }],
    });
    return new DreamNet(session, spec.range, extra);
  }

  async gradient(img: PlanarImage): Promise<{ objective: number; grad: Float32Array }> {
    const [lo, hi] = this.range;
    const span = hi - lo;
    const x = toRange(img, this.range);
    const out = await this.session.run({ image: floatTensor(x, [1, 3, img.height, img.width]), ...this.extra });
    const grad = out.grad!.data as Float32Array;
    // d objective / d pixel = d objective / d net input * span
    if (span !== 1) for (let i = 0; i < grad.length; i++) grad[i] = grad[i]! * span;
    return { objective: (out.objective!.data as Float32Array)[0]!, grad };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** A [0, 1] picture in the value range the network was trained on. */
function toRange(img: PlanarImage, [lo, hi]: readonly [number, number]): Float32Array {
  const x = new Float32Array(img.data.length);
  for (let i = 0; i < x.length; i++) x[i] = lo + img.data[i]! * (hi - lo);
  return x;
}
