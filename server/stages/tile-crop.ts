/**
 * Tile walls (common/wall.ts): the whole picture -> the part of it this frame's screen
 * shows, plus a margin, before upscaling. Every node makes the whole (small) picture, so
 * all tiles come from the same pixels; each node then upscales and encodes only its own
 * piece. The margin keeps the upscaler's border effects (its convolutions see padding at
 * a crop's edge) and the resampler's outside the window the screen shows (tile-fit.ts).
 */
import { cropBox, tileRect, type WallConfig } from '../../common/wall.js';
import { need, type FrameJob, type Stage } from './stage.js';
import type { PlanarImage } from '../image/planar-image.js';

/** Margin in picture pixels per side: 1/8 of the picture (8 px of a 64 px face). */
export function tileMargin(pictureSize: number): number {
  return Math.max(2, Math.round(pictureSize / 8));
}

export class TileCropStage implements Stage {
  readonly name = 'tile-crop';

  constructor(private readonly wall: WallConfig) {}

  run(job: FrameJob): void {
    const screen = need(job, 'screen', this.name);
    const image = need(job, 'image', this.name);
    if (image.width !== image.height) throw new Error(`tile-crop expects the square portrait, got ${image.width}x${image.height}`);
    const size = image.width;
    const rect = tileRect(this.wall, screen);
    const box = cropBox(rect, size, tileMargin(size));
    job.image = crop(image, box.x, box.y, box.width, box.height);
    job.tile = { rect, box, pictureSize: size, whole: image };
    job.meta.width = box.width;
    job.meta.height = box.height;
  }
}

function crop(img: PlanarImage, x: number, y: number, width: number, height: number): PlanarImage {
  const out = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    for (let row = 0; row < height; row++) {
      const from = c * img.width * img.height + (y + row) * img.width + x;
      out.set(img.data.subarray(from, from + width), c * width * height + row * width);
    }
  }
  return { data: out, width, height };
}
