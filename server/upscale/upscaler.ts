/**
 * One converted ESRGAN network ready to run on pipeline pictures: planar RGB in [0, 1]
 * in, `scale` times larger planar RGB in [0, 1] out. The network's own value range
 * (UpscalerJS' RDN models use [0, 255]) comes from its manifest, and its output, which
 * the network does not clamp, is clamped here.
 */
import type { ProviderChoice } from '../onnx/runtime.js';
import { floatTensor } from '../onnx/runtime.js';
import { ModelError, ModelSession } from '../onnx/session.js';
import { unitFromRange, type PlanarImage } from '../image/planar-image.js';
import { ensureConverted, type ConvertedUpscaler, type EnsureOptions, type UpscaleFactor, type UpscalerFamily } from './converted.js';

export class Upscaler {
  private constructor(
    readonly id: string,
    readonly scale: UpscaleFactor,
    private readonly session: ModelSession,
    private readonly input: { name: string; range: readonly [number, number] },
    private readonly output: { name: string; range: readonly [number, number] },
  ) {}

  get provider(): string {
    return this.session.provider;
  }

  static async open(converted: ConvertedUpscaler, provider: ProviderChoice): Promise<Upscaler> {
    const m = converted.manifest;
    const input = m.inputs[0];
    const output = m.outputs[0];
    if (!input?.range || !output) throw new ModelError(`${converted.dir}/manifest.json lacks the input range or the output`);
    const session = await ModelSession.open(converted.file, provider, {
      inputs: [{ name: input.name, dims: [null, 3, null, null] }],
      outputs: [{ name: output.name, dims: [null, 3, null, null] }],
    });
    return new Upscaler(converted.id, converted.scale, session, { name: input.name, range: input.range }, { name: output.name, range: output.range ?? input.range });
  }

  /** Converts (first time only) and opens `family` at `scale`. */
  static async load(family: UpscalerFamily, scale: UpscaleFactor, provider: ProviderChoice, opts: EnsureOptions): Promise<{ upscaler: Upscaler; converted: ConvertedUpscaler }> {
    const converted = await ensureConverted(family, scale, opts);
    return { upscaler: await Upscaler.open(converted, provider), converted };
  }

  async run(img: PlanarImage): Promise<PlanarImage> {
    const [lo, hi] = this.input.range;
    const x = new Float32Array(img.data.length);
    const k = hi - lo;
    for (let i = 0; i < x.length; i++) x[i] = lo + img.data[i]! * k;
    const result = await this.session.run({ [this.input.name]: floatTensor(x, [1, 3, img.height, img.width]) });
    const y = result[this.output.name];
    const width = img.width * this.scale;
    const height = img.height * this.scale;
    if (!y || y.dims.join() !== [1, 3, height, width].join()) {
      throw new ModelError(`${this.id} returned [${y?.dims.join(',')}] for a ${img.width}x${img.height} picture, expected [1,3,${height},${width}]`);
    }
    return { data: unitFromRange(y.data as Float32Array, this.output.range), width, height };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
