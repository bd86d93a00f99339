/** picture -> JPEG at the display size (sharp/libvips: resize and encode in native threads). */
import { planarToSharp } from '../image/planar.js';
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
    const image = need(job, 'image', this.name);
    const { width, height } = image;
    if (this.pixels.length !== width * height * 3) this.pixels = new Uint8Array(width * height * 3);
    let img = planarToSharp(image, this.pixels);
    if (width !== this.opts.size || height !== this.opts.size) {
      img = img.resize(this.opts.size, this.opts.size, { fit: 'fill', kernel: 'lanczos3' });
    }
    job.encoded = await img.jpeg({ quality: this.opts.quality, mozjpeg: false }).toBuffer();
    job.meta.width = this.opts.size;
    job.meta.height = this.opts.size;
    job.meta.format = 'jpeg';
  }
}
