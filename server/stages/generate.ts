/** latent -> picture, with the GAN generator in onnxruntime. */
import { floatTensor } from '../onnx/runtime.js';
import type { ModelSession } from '../onnx/session.js';
import { need, type FrameJob, type Stage } from './stage.js';

export interface GeneratorSpec {
  input: string;
  output: string;
  latentSize: number;
  resolution: number;
  /** The generator's output value range, mapped to [0, 1]. */
  range: readonly [number, number];
}

export class GenerateStage implements Stage {
  readonly name = 'generate';

  constructor(
    private readonly session: ModelSession,
    private readonly spec: GeneratorSpec,
  ) {}

  async run(job: FrameJob): Promise<void> {
    const latent = need(job, 'latent', this.name);
    const { input, output, latentSize, range } = this.spec;
    const result = await this.session.run({ [input]: floatTensor(latent, [1, latentSize]) });
    const tensor = result[output];
    if (!tensor) throw new Error(`generator returned no '${output}'`);
    const [, channels, height, width] = tensor.dims as number[];
    if (channels !== 3 || !height || !width) throw new Error(`generator output has dims [${tensor.dims.join(',')}], expected [1,3,H,W]`);
    const raw = tensor.data as Float32Array;
    const [lo, hi] = range;
    const scale = 1 / (hi - lo);
    const data = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = (raw[i]! - lo) * scale;
      data[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    job.image = { data, width, height };
    job.meta.width = width;
    job.meta.height = height;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
