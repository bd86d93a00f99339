/**
 * The face stage of the stacked generator (issue 16; models/tools/face_sr.py): an x2
 * super-resolution network trained on faces lifts the portrait (after the dream pass) to
 * twice its size, painting the eyelids, irises and hair a general-purpose upscaler cannot.
 * The ESRGAN passes after it only go beyond the face stage's own resolution: the upscale
 * stage sees the larger picture and plans fewer passes.
 *
 * Pictures larger than the model's maxInput pass through untouched (its cost grows with the
 * input's area), so a dream size or a wall tile the model was not made for never stalls a frame.
 */
import type { FaceStage as FaceSpec } from '../../common/manifest.js';
import { floatTensor } from '../onnx/runtime.js';
import type { ModelSession } from '../onnx/session.js';
import type { PlanarImage } from '../image/planar-image.js';
import type { ImageOps } from '../dream/image-ops.js';
import { need, type FrameJob, type Stage } from './stage.js';

export class FaceStage implements Stage {
  readonly name = 'face';

  constructor(
    /** Opened and released by whoever builds the chain (server/pipeline/make-stages.ts), like the generator's. */
    private readonly session: ModelSession,
    private readonly spec: FaceSpec,
    /** The model's id, for the frame's metadata. */
    private readonly id: string,
    /** Enlarges a picture smaller than the model's inputSize (linear, the resampling it was trained on). */
    private readonly ops: Pick<ImageOps, 'resize'>,
  ) {}

  /** The side of the stage's output for a square picture of `side` px, or null where it passes the picture through. */
  static outputSide(spec: FaceSpec, side: number): number | null {
    if (side > spec.maxInput) return null;
    return Math.max(side, spec.inputSize ?? 0) * spec.scale;
  }

  async run(job: FrameJob): Promise<void> {
    const image = need(job, 'image', this.name);
    const lifted = await this.picture(image);
    if (lifted === image) return;
    job.image = lifted;
    job.meta.width = job.image.width;
    job.meta.height = job.image.height;
    job.meta.face = this.id;
  }

  /**
   * A picture as the live path lifts it (prints and batches too): enlarged to the model's
   * inputSize when smaller, then one x2 pass; one larger than maxInput comes back as it is.
   */
  async picture(image: PlanarImage): Promise<PlanarImage> {
    if (Math.max(image.width, image.height) > this.spec.maxInput) return image;
    const side = this.spec.inputSize;
    const input = side !== undefined && (image.width < side || image.height < side) ? await this.ops.resize(image, Math.max(side, image.width), Math.max(side, image.height)) : image;
    return this.lift(input);
  }

  /** One x2 pass: [0, 1] planar in, [0, 1] planar out (clamped). */
  async lift(image: PlanarImage): Promise<PlanarImage> {
    const [lo, hi] = this.spec.range;
    const span = hi - lo;
    const x = new Float32Array(image.data.length);
    for (let i = 0; i < x.length; i++) x[i] = lo + image.data[i]! * span;
    const out = await this.session.run({ [this.spec.input]: floatTensor(x, [1, 3, image.height, image.width]) });
    const y = out[this.spec.output]!;
    const [height, width] = [Number(y.dims[2]), Number(y.dims[3])];
    if (width !== image.width * this.spec.scale || height !== image.height * this.spec.scale) {
      throw new Error(`face stage: expected ${image.width * this.spec.scale}x${image.height * this.spec.scale} from ${image.width}x${image.height}, got ${width}x${height}`);
    }
    const data = new Float32Array(y.data as Float32Array);
    for (let i = 0; i < data.length; i++) {
      const v = (data[i]! - lo) / span;
      data[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    return { data, width, height };
  }
}
