/**
 * A stack of upscale passes over a picture of any size: each pass in overlapping,
 * feathered tiles (tiles.ts), so memory stays bounded and a 4096 px print never puts a
 * 1024 px picture through a network in one piece. Progress counts tiles over all passes.
 */
import type { PlanarImage } from '../image/planar-image.js';
import type { UpscaleFactor } from './converted.js';
import type { Plan } from './plan.js';
import { tileCount, upscaleTiled, validateTiles } from './tiles.js';
import type { Upscaler } from './upscaler.js';

export interface StackOptions {
  tile: number;
  overlap: number;
  /** After each tile: tiles done and in total over the whole stack, and the pass (1-based). */
  onTile?: (done: number, total: number, pass: number) => void;
}

/** Tiles the stack will run for a `width` x `height` picture. */
export function stackTiles(width: number, height: number, plan: Plan, opts: Pick<StackOptions, 'tile' | 'overlap'>): number {
  let total = 0;
  let w = width;
  let h = height;
  for (const f of plan) {
    total += tileCount(w, h, opts);
    w *= f;
    h *= f;
  }
  return total;
}

export async function upscaleStack(img: PlanarImage, plan: Plan, upscalers: ReadonlyMap<UpscaleFactor, Upscaler>, opts: StackOptions): Promise<PlanarImage> {
  validateTiles(opts);
  const total = stackTiles(img.width, img.height, plan, opts);
  let before = 0;
  let out = img;
  for (const [i, f] of plan.entries()) {
    const up = upscalers.get(f);
    if (!up) throw new Error(`no x${f} upscaler is loaded`);
    const start = before;
    out = await upscaleTiled(out, f, (tile) => up.run(tile), {
      tile: opts.tile,
      overlap: opts.overlap,
      onTile: (done) => opts.onTile?.(start + done, total, i + 1),
    });
    before += tileCount(out.width / f, out.height / f, opts);
  }
  return out;
}
