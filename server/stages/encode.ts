/** picture -> JPEG at the display size (sharp/libvips: resize and encode in native threads). */
import sharp from 'sharp';
import { need, type FrameJob, type Stage } from './stage.js';

export interface EncodeOptions {
  /** Side of the square frame the displays receive. */
  size: number;
  quality: number;
}

export class EncodeStage implements Stage {
  readonly name = 'encode';
  private pixels = new Uint8Array(0);

  constructor(private readonly opts: EncodeOptions) {}

  async run(job: FrameJob): Promise<void> {
    const { data, width, height } = need(job, 'image', this.name);
    const plane = width * height;
    if (this.pixels.length !== plane * 3) this.pixels = new Uint8Array(plane * 3);
    const px = this.pixels;
    // planar float [0,1] -> interleaved bytes, as libvips wants them
    for (let i = 0; i < plane; i++) {
      px[3 * i] = data[i]! * 255 + 0.5;
      px[3 * i + 1] = data[plane + i]! * 255 + 0.5;
      px[3 * i + 2] = data[2 * plane + i]! * 255 + 0.5;
    }
    let img = sharp(px, { raw: { width, height, channels: 3 } });
    if (width !== this.opts.size || height !== this.opts.size) {
      img = img.resize(this.opts.size, this.opts.size, { fit: 'fill', kernel: 'lanczos3' });
    }
    job.encoded = await img.jpeg({ quality: this.opts.quality, mozjpeg: false }).toBuffer();
    job.meta.width = this.opts.size;
    job.meta.height = this.opts.size;
    job.meta.format = 'jpeg';
  }
}
