/**
 * Two-dimensional discrete Fourier transforms of one complex plane, built from fft.js's
 * one-dimensional radix-4 transform (rows, then columns). fft.js takes power-of-two
 * lengths only, so both sides must be powers of two; callers pick such a canvas.
 *
 * A plane is row-major, interleaved complex: element (y, x) is re at 2(yW + x), im after it.
 * Conventions (fft.js's): forward is sum x[n] e^{-2 pi i kn/N} (no scaling), inverse is
 * sum X[k] e^{+2 pi i kn/N} / N, so inverse(forward(x)) = x.
 */
import FFT from 'fft.js';

export const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;

/** The smallest power of two at least `n` (and at least 2, fft.js's shortest transform). */
export function nextPowerOfTwo(n: number): number {
  let p = 2;
  while (p < n) p *= 2;
  return p;
}

export class Fft2d {
  private readonly rows: FFT;
  private readonly cols: FFT;
  /** Scratch lines, reused: one row or column in, one out. */
  private readonly lineIn: Float64Array;
  private readonly lineOut: Float64Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    if (!isPowerOfTwo(width) || !isPowerOfTwo(height)) throw new Error(`Fft2d needs power-of-two sides, not ${width}x${height}`);
    this.rows = new FFT(width);
    this.cols = new FFT(height);
    this.lineIn = new Float64Array(2 * Math.max(width, height));
    this.lineOut = new Float64Array(2 * Math.max(width, height));
  }

  /** An empty complex plane of this size. */
  plane(): Float64Array {
    return new Float64Array(2 * this.width * this.height);
  }

  /** Forward transform of `plane`, in place. */
  forward(plane: Float64Array): void {
    this.pass(plane, false);
  }

  /** Inverse transform of `plane` (with the 1/(W H) factor), in place. */
  inverse(plane: Float64Array): void {
    this.pass(plane, true);
  }

  private pass(plane: Float64Array, inverse: boolean): void {
    const { width: w, height: h, lineIn, lineOut } = this;
    if (plane.length !== 2 * w * h) throw new Error(`a ${w}x${h} complex plane has ${2 * w * h} numbers, not ${plane.length}`);
    const rowIn = lineIn.subarray(0, 2 * w);
    const rowOut = lineOut.subarray(0, 2 * w);
    for (let y = 0; y < h; y++) {
      rowIn.set(plane.subarray(2 * y * w, 2 * (y + 1) * w));
      if (inverse) this.rows.inverseTransform(rowOut, rowIn);
      else this.rows.transform(rowOut, rowIn);
      plane.set(rowOut, 2 * y * w);
    }
    const colIn = lineIn.subarray(0, 2 * h);
    const colOut = lineOut.subarray(0, 2 * h);
    for (let x = 0; x < w; x++) {
      for (let y = 0; y < h; y++) {
        colIn[2 * y] = plane[2 * (y * w + x)]!;
        colIn[2 * y + 1] = plane[2 * (y * w + x) + 1]!;
      }
      if (inverse) this.cols.inverseTransform(colOut, colIn);
      else this.cols.transform(colOut, colIn);
      for (let y = 0; y < h; y++) {
        plane[2 * (y * w + x)] = colOut[2 * y]!;
        plane[2 * (y * w + x) + 1] = colOut[2 * y + 1]!;
      }
    }
  }
}
