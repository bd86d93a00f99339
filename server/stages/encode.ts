/**
 * picture -> JPEG at the display size. A picture that needs resizing is resized and turned
 * into bytes by one onnxruntime graph (server/image/display-pixels.ts), which is several
 * times cheaper than libvips' enlargement; one already at the display size goes straight
 * to bytes. sharp (libvips, off the main thread) then only encodes.
 */
import sharp from 'sharp';
import { DisplayPixels } from '../image/display-pixels.js';
import { toRgbBytes } from '../image/planar.js';
import { need, type FrameJob, type Stage } from './stage.js';

export interface EncodeOptions {
  /** Side of the square frame the displays receive. */
  size: number;
  quality: number;
}

export class EncodeStage implements Stage {
  readonly name = 'encode';
  private pixels = new Uint8Array(0);
  /** Made in init(), or on the first frame that needs resizing when a caller skips init(). */
  private resizer: Promise<DisplayPixels> | null = null;

  constructor(private readonly opts: EncodeOptions) {}

  async init(): Promise<void> {
    await (this.resizer ??= DisplayPixels.create());
  }

  async run(job: FrameJob): Promise<void> {
    const image = need(job, 'image', this.name);
    const { size, quality } = this.opts;
    let rgb: Uint8Array;
    if (image.width === size && image.height === size) {
      // The buffer is reused: frames never overlap, and sharp is done with it when toBuffer() resolves.
      if (this.pixels.length !== size * size * 3) this.pixels = new Uint8Array(size * size * 3);
      rgb = toRgbBytes(image, this.pixels);
    } else {
      rgb = (await (this.resizer ??= DisplayPixels.create()).then((r) => r.rgb(image, size, size))).data;
    }
    // Full-resolution colour (4:4:4): the display enlarges the frame about 4x, where halved chroma shows as colour blocks.
    job.encoded = await sharp(rgb, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality, mozjpeg: false, chromaSubsampling: '4:4:4' }).toBuffer();
    job.meta.width = size;
    job.meta.height = size;
    job.meta.format = 'jpeg';
  }

  async dispose(): Promise<void> {
    const resizer = this.resizer;
    this.resizer = null;
    if (resizer) await (await resizer).dispose();
  }
}
