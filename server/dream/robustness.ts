/**
 * Transformation robustness (lucid's "transforms"): before each gradient the network sees
 * the picture a little shifted, scaled and turned, at random, so only features that
 * survive such small changes are reinforced; without it an ascent from noise finds
 * pixel-grid patterns that score high and look like nothing.
 *
 * The move is one affine map about the picture's centre, sampled bilinearly, with grey
 * (0.5, lucid's constant padding) where it reaches outside the picture. Resampling is
 * linear in the picture, so the gradient goes back through its exact adjoint: each
 * output pixel's gradient is spread onto the four pixels it was read from, with the same
 * weights (the grey fill is a constant and takes none).
 */
import type { PlanarImage } from '../image/planar-image.js';

export interface RobustnessSettings {
  /** Largest shift, pixels, each way. */
  jitter: number;
  /** Range of the random scale, e.g. [0.9, 1.1]. */
  scale: readonly [number, number];
  /** Largest rotation, degrees, each way. */
  degrees: number;
}

/** lucent's standard transforms, in one move: about 8 px of shift, scale 0.9-1.1, rotation within 10 degrees. */
export const LUCID_ROBUSTNESS: Readonly<RobustnessSettings> = Object.freeze({ jitter: 8, scale: [0.9, 1.1] as const, degrees: 10 });

/** One random move: shift (dx, dy) in pixels, scale, rotation in radians. */
export interface Move {
  dx: number;
  dy: number;
  scale: number;
  radians: number;
}

/** The fill where a move reaches outside the picture. */
const OUTSIDE = 0.5;

export function randomMove(random: () => number, settings: RobustnessSettings): Move {
  const [lo, hi] = settings.scale;
  return {
    dx: (random() * 2 - 1) * settings.jitter,
    dy: (random() * 2 - 1) * settings.jitter,
    scale: lo + random() * (hi - lo),
    radians: (((random() * 2 - 1) * settings.degrees) * Math.PI) / 180,
  };
}

/**
 * A move compiled for one picture size: for every output pixel, the four source pixels
 * (-1 outside the picture) and their bilinear weights. The same for all three channels.
 */
export class Resampling {
  private readonly taps: Int32Array;
  private readonly weights: Float32Array;

  constructor(
    readonly width: number,
    readonly height: number,
    move: Move,
  ) {
    const n = width * height;
    this.taps = new Int32Array(4 * n);
    this.weights = new Float32Array(4 * n);
    const cx = width / 2;
    const cy = height / 2;
    // Output point o shows source point centre + R(-angle) (o - centre - shift) / scale.
    const cos = Math.cos(move.radians) / move.scale;
    const sin = Math.sin(move.radians) / move.scale;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const ox = x + 0.5 - cx - move.dx;
        const oy = y + 0.5 - cy - move.dy;
        // Pixel centres sit at integer + 0.5.
        const sx = cx + cos * ox + sin * oy - 0.5;
        const sy = cy - sin * ox + cos * oy - 0.5;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const fx = sx - x0;
        const fy = sy - y0;
        const o = 4 * (y * width + x);
        const corners: [number, number, number][] = [
          [x0, y0, (1 - fx) * (1 - fy)],
          [x0 + 1, y0, fx * (1 - fy)],
          [x0, y0 + 1, (1 - fx) * fy],
          [x0 + 1, y0 + 1, fx * fy],
        ];
        for (let t = 0; t < 4; t++) {
          const [tx, ty, w] = corners[t]!;
          this.taps[o + t] = tx >= 0 && tx < width && ty >= 0 && ty < height ? ty * width + tx : -1;
          this.weights[o + t] = w;
        }
      }
    }
  }

  /** The picture as the network sees it after the move. */
  apply(img: PlanarImage): PlanarImage {
    this.check(img.width, img.height);
    const plane = this.width * this.height;
    const out = new Float32Array(3 * plane);
    for (let c = 0; c < 3; c++) {
      const base = c * plane;
      for (let i = 0; i < plane; i++) {
        let v = 0;
        for (let t = 4 * i; t < 4 * i + 4; t++) {
          const tap = this.taps[t]!;
          v += this.weights[t]! * (tap < 0 ? OUTSIDE : img.data[base + tap]!);
        }
        out[base + i] = v;
      }
    }
    return { data: out, width: this.width, height: this.height };
  }

  /** The gradient with respect to the moved picture, carried back to the picture (the adjoint of `apply`). */
  adjoint(grad: Float32Array): Float32Array {
    const plane = this.width * this.height;
    if (grad.length !== 3 * plane) throw new Error(`a ${this.width}x${this.height} resampling takes a gradient of ${3 * plane}, not ${grad.length}`);
    const out = new Float32Array(3 * plane);
    for (let c = 0; c < 3; c++) {
      const base = c * plane;
      for (let i = 0; i < plane; i++) {
        const g = grad[base + i]!;
        for (let t = 4 * i; t < 4 * i + 4; t++) {
          const tap = this.taps[t]!;
          if (tap >= 0) out[base + tap] = out[base + tap]! + this.weights[t]! * g;
        }
      }
    }
    return out;
  }

  private check(width: number, height: number): void {
    if (width !== this.width || height !== this.height) throw new Error(`a ${this.width}x${this.height} resampling cannot move a ${width}x${height} picture`);
  }
}
