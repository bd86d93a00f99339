/**
 * Tile walls: the (upscaled) crop -> exactly the screen's frameSize square. The crop is
 * resized by the same bicubic graph the encoder uses for whole pictures
 * (server/image/display-pixels.ts), at the scale the whole wall would have, and the
 * screen's window is cut out of it (common/wall.ts fitWindow), dropping the margin.
 * So a tile is the same pixels a single node rendering the whole wall would show there.
 */
import { fitWindow } from '../../common/wall.js';
import { DisplayPixels } from '../image/display-pixels.js';
import { need, type FrameJob, type Stage } from './stage.js';

export class TileFitStage implements Stage {
  readonly name = 'tile-fit';
  private resizer: Promise<DisplayPixels> | null = null;

  constructor(private readonly frameSize: number) {}

  async init(): Promise<void> {
    await (this.resizer ??= DisplayPixels.create());
  }

  async run(job: FrameJob): Promise<void> {
    const image = need(job, 'image', this.name);
    const { rect, box, pictureSize } = need(job, 'tile', this.name);
    const size = this.frameSize;
    // The upscaler may have enlarged the crop; measure the crop in its own pixels.
    const scale = image.width / box.width;
    const fit = fitWindow(rect, { x: box.x * scale, y: box.y * scale, width: image.width, height: image.height }, pictureSize * scale, size);
    const rgb = await (await (this.resizer ??= DisplayPixels.create())).rgb(image, fit.width, fit.height);
    const plane = size * size;
    const data = new Float32Array(3 * plane);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const from = 3 * ((fit.top + y) * fit.width + fit.left + x);
        const to = y * size + x;
        data[to] = rgb.data[from]! / 255;
        data[plane + to] = rgb.data[from + 1]! / 255;
        data[2 * plane + to] = rgb.data[from + 2]! / 255;
      }
    }
    job.image = { data, width: size, height: size };
    job.meta.width = size;
    job.meta.height = size;
  }

  async dispose(): Promise<void> {
    const resizer = this.resizer;
    this.resizer = null;
    if (resizer) await (await resizer).dispose();
  }
}
