/**
 * A dream network ready to differentiate: the model's ONNX graph compiled once per
 * objective into an `image -> objective, grad` graph (onnx-compilers/dream-graph), run by
 * onnxruntime. Converts between the pipeline's [0, 1] pictures and the range the
 * network was trained on, so dream steps are the same whatever the network.
 */
import { readFile } from 'node:fs/promises';
import { compileDreamGraph, describeObjective, type Objective } from '../../onnx-compilers/dream-graph/index.js';
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
  ) {}

  static async open(spec: DreamNetSpec, provider: ProviderChoice): Promise<DreamNet> {
    const source = decodeModel(await readFile(spec.file));
    const compiled = compileDreamGraph(source, spec.objective, { input: spec.input });
    const label = `${spec.file} ${describeObjective(spec.objective)}`;
    // onnxruntime's WebGPU provider has no MaxPool with an Indices output, which the compiled
    // backward pass of a max-pooling network (Darknet tiny) uses: such graphs run on the CPU.
    const needsCpu = compiled.graph?.node?.some((n) => n.opType === 'MaxPool' && (n.output?.length ?? 0) > 1) ?? false;
    const session = await ModelSession.fromBytes(encodeModel(compiled), label, needsCpu ? 'cpu' : provider, {
      inputs: [{ name: 'image' }],
      outputs: [{ name: 'objective' }, { name: 'grad' }],
    });
    return new DreamNet(session, spec.range);
  }

  async gradient(img: PlanarImage): Promise<{ objective: number; grad: Float32Array }> {
    const [lo, hi] = this.range;
    const span = hi - lo;
    const x = new Float32Array(img.data.length);
    for (let i = 0; i < x.length; i++) x[i] = lo + img.data[i]! * span;
    const out = await this.session.run({ image: floatTensor(x, [1, 3, img.height, img.width]) });
    const grad = out.grad!.data as Float32Array;
    // d objective / d pixel = d objective / d net input * span
    if (span !== 1) for (let i = 0; i < grad.length; i++) grad[i] = grad[i]! * span;
    return { objective: (out.objective!.data as Float32Array)[0]!, grad };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
