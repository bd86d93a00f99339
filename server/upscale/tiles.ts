/**
 * Tiled upscaling for pictures too large to push through a network at once (prints):
 * overlapping tiles, each upscaled on its own and blended with feathered weights, so
 * the seams a naive grid leaves (each tile's border sees zero padding instead of its
 * neighbour) vanish. In an overlap of O input pixels the outer O/4 on each side, where
 * a tile's border artefacts live, gets weight 0; the middle half crossfades linearly, so
 * the two tiles' weights sum to 1 and the result is a smooth blend of two views that
 * both had context. Image borders are no seams: there a tile keeps full weight.
 */
import type { PlanarImage } from '../image/planar-image.js';

export type UpscaleFn = (img: PlanarImage) => Promise<PlanarImage>;

export interface TileOptions {
  /** Tile side in input pixels. */
  tile: number;
  /** Input pixels shared by neighbouring tiles; at most half a tile. */
  overlap: number;
  /** After each tile. */
  onTile?: (done: number, total: number) => void;
}

/** Where tiles start along one axis: every tile - overlap pixels, the last one flush with the end. */
export function tileStarts(length: number, tile: number, overlap: number): number[] {
  if (length <= tile) return [0];
  const step = tile - overlap;
  const starts: number[] = [];
  for (let s = 0; s + tile < length; s += step) starts.push(s);
  starts.push(length - tile);
  return starts;
}

export function tileCount(width: number, height: number, opts: Pick<TileOptions, 'tile' | 'overlap'>): number {
  return tileStarts(width, opts.tile, opts.overlap).length * tileStarts(height, opts.tile, opts.overlap).length;
}

/**
 * Blend weights along one axis of an upscaled tile of `length` output pixels. `lead` and
 * `trail` say whether the tile has a neighbour before / after it (false at the image border).
 */
export function featherWeights(length: number, overlapOut: number, lead: boolean, trail: boolean): Float32Array {
  const margin = Math.floor(overlapOut / 4);
  const ramp = overlapOut - 2 * margin;
  const w = new Float32Array(length);
  const side = (d: number) => (d < margin ? 0 : d < margin + ramp ? (d - margin + 0.5) / ramp : 1);
  for (let i = 0; i < length; i++) {
    const a = lead ? side(i) : 1;
    const b = trail ? side(length - 1 - i) : 1;
    w[i] = Math.min(a, b);
  }
  return w;
}

export function validateTiles(opts: Pick<TileOptions, 'tile' | 'overlap'>): void {
  const { tile, overlap } = opts;
  if (!Number.isInteger(tile) || tile < 8) throw new RangeError(`tile must be an integer of at least 8 pixels, got ${tile}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > tile / 2) throw new RangeError(`overlap must be an integer from 0 to half the tile (${tile / 2}), got ${overlap}`);
}

function crop(img: PlanarImage, x0: number, y0: number, w: number, h: number): PlanarImage {
  const plane = img.width * img.height;
  const data = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      const src = c * plane + (y0 + y) * img.width + x0;
      data.set(img.data.subarray(src, src + w), c * w * h + y * w);
    }
  }
  return { data, width: w, height: h };
}

/** Upscales `img` by `scale` with `run`, one overlapping tile at a time. */
export async function upscaleTiled(img: PlanarImage, scale: number, run: UpscaleFn, opts: TileOptions): Promise<PlanarImage> {
  validateTiles(opts);
  const { width, height } = img;
  const xs = tileStarts(width, opts.tile, opts.overlap);
  const ys = tileStarts(height, opts.tile, opts.overlap);
  const W = width * scale;
  const H = height * scale;
  const plane = W * H;
  const sum = new Float32Array(3 * plane);
  const weight = new Float32Array(plane);
  const total = xs.length * ys.length;
  let done = 0;
  for (const [j, y0] of ys.entries()) {
    const th = Math.min(opts.tile, height);
    const wy = featherWeights(th * scale, opts.overlap * scale, j > 0, j < ys.length - 1);
    for (const [i, x0] of xs.entries()) {
      const tw = Math.min(opts.tile, width);
      const wx = featherWeights(tw * scale, opts.overlap * scale, i > 0, i < xs.length - 1);
      const out = await run(crop(img, x0, y0, tw, th));
      const ow = tw * scale;
      const oh = th * scale;
      if (out.width !== ow || out.height !== oh) throw new Error(`a ${tw}x${th} tile came back ${out.width}x${out.height}, expected ${ow}x${oh}`);
      const op = ow * oh;
      for (let y = 0; y < oh; y++) {
        const row = (y0 * scale + y) * W + x0 * scale;
        const wyv = wy[y]!;
        for (let x = 0; x < ow; x++) {
          const k = wyv * wx[x]!;
          if (k === 0) continue;
          const dst = row + x;
          const src = y * ow + x;
          weight[dst] = weight[dst]! + k;
          sum[dst] = sum[dst]! + k * out.data[src]!;
          sum[plane + dst] = sum[plane + dst]! + k * out.data[op + src]!;
          sum[2 * plane + dst] = sum[2 * plane + dst]! + k * out.data[2 * op + src]!;
        }
      }
      opts.onTile?.(++done, total);
    }
  }
  for (let p = 0; p < plane; p++) {
    const inv = 1 / weight[p]!;
    sum[p] = sum[p]! * inv;
    sum[plane + p] = sum[plane + p]! * inv;
    sum[2 * plane + p] = sum[2 * plane + p]! * inv;
  }
  return { data: sum, width: W, height: H };
}
