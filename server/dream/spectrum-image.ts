/**
 * A picture parametrised by its Fourier spectrum, in lucid's manner (Olah, Mordvintsev &
 * Schubert 2017, "Feature Visualization", and lucid/lucent's fft_image): gradient steps on
 * the spectrum instead of the pixels, with every frequency scaled by 1/frequency, so the
 * optimiser moves coarse structure as readily as fine and does not fill the picture with
 * the high-frequency patterns a pixel-space ascent finds first.
 *
 *   params (per decorrelated colour channel, a half spectrum: H rows x (W/2 + 1) columns,
 *           re and im)
 *   -> y = Re(inverse 2-D FFT(params x gain))    three decorrelated planes on the canvas
 *   -> cropped to the picture, rgb = C y          C: ImageNet's colour correlation (below)
 *   -> picture = sigmoid(rgb)                     in (0, 1)
 *
 * Every step of that is real-linear except the sigmoid, so the gradient with respect to the
 * params is the exact adjoint chain (backward): the sigmoid's derivative, C^T, zero outside
 * the crop, and the forward FFT with the same gain.
 *
 * fft.js transforms power-of-two lengths only, so the spectrum lives on the smallest
 * power-of-two canvas that holds the picture (256 x 256 for 224 x 224) and the picture is
 * its top-left corner; the canvas' spare margin is free and costs nothing.
 */
import { gaussian } from '../../common/random.js';
import type { PlanarImage } from '../image/planar-image.js';
import { applyMat3, type Mat3 } from './colour.js';
import { Fft2d, nextPowerOfTwo } from './fft2d.js';

/**
 * The square root of ImageNet's RGB colour correlation (rows R, G, B; columns: luminance,
 * red-blue, green-magenta), as lucid publishes it, normalised so its largest column has
 * unit length. A fixed basis rather than colour.ts's picture basis: noise has no colours of
 * its own, and the network learnt ImageNet's.
 */
const IMAGENET_SQRT_CORRELATION: Mat3 = [0.26, 0.09, 0.02, 0.27, 0.0, -0.05, 0.27, -0.09, 0.03];
export const IMAGENET_COLOURS: Mat3 = normaliseColumns(IMAGENET_SQRT_CORRELATION);

/** lucid's initial spread of the spectrum's values: small, so the start is a grey haze. */
export const SPECTRUM_INIT_SD = 0.01;
/** lucid divides the inverse transform by 4 ("magic"), which keeps the first steps inside the sigmoid's steep part. */
const MAGIC = 4;

export class SpectrumImage {
  readonly canvasWidth: number;
  readonly canvasHeight: number;
  /** Half-spectrum columns per row: W/2 + 1. */
  readonly columns: number;
  /** Number of real parameters: 3 channels x rows x columns x (re, im). */
  readonly size: number;
  private readonly fft: Fft2d;
  /**
   * What each half-spectrum entry is multiplied by on the way to the canvas: lucid's
   * 1/frequency scale, the orthonormal factor sqrt(W H), 1/MAGIC, and 2 for the columns
   * that stand for themselves and their mirror images (all but the first and the Nyquist
   * column), since the real part of the inverse transform of the half spectrum is then
   * the real picture.
   */
  private readonly gain: Float64Array;
  /**
   * backward's factors: render is y = Re(M params) with M = (1 / (W H)) unscaled-inverse-FFT
   * x gain, whose adjoint in the real inner product is M^H g = gain x FFT(g) / (W H).
   */
  private readonly adjointGain: Float64Array;
  /**
   * fromPicture's factors: a real plane's half spectrum X renders back to the plane when
   * gain x params = X, doubled in the mirrored columns (the mirror half render leaves zero).
   */
  private readonly inverseGain: Float64Array;
  private readonly colourT: Mat3;
  private readonly colourInverse: Mat3;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.canvasWidth = nextPowerOfTwo(width);
    this.canvasHeight = nextPowerOfTwo(height);
    this.columns = this.canvasWidth / 2 + 1;
    this.size = 3 * this.canvasHeight * this.columns * 2;
    this.fft = new Fft2d(this.canvasWidth, this.canvasHeight);
    this.gain = spectrumGain(this.canvasWidth, this.canvasHeight);
    const area = this.canvasWidth * this.canvasHeight;
    this.adjointGain = this.gain.map((g) => g / area);
    this.inverseGain = this.gain.map((g, k) => (isMirrored(k % this.columns, this.canvasWidth) ? 2 : 1) / g);
    this.colourT = transpose(IMAGENET_COLOURS);
    this.colourInverse = invert(IMAGENET_COLOURS);
  }

  /** A random start: every parameter normal with spread `sd` (a grey picture with faint, smooth colour). */
  randomParams(seed: number, sd = SPECTRUM_INIT_SD): Float32Array {
    return gaussian(seed, this.size).map((v) => v * sd);
  }

  /** The picture the params stand for. */
  render(params: Float32Array): PlanarImage {
    this.checkParams(params);
    const plane = this.width * this.height;
    const rgb = new Float32Array(3 * plane);
    const canvas = this.fft.plane();
    for (let c = 0; c < 3; c++) {
      this.halfToPlane(params, c, canvas);
      this.fft.inverse(canvas);
      this.cropReal(canvas, rgb, c);
    }
    applyMat3(rgb, plane, IMAGENET_COLOURS);
    for (let i = 0; i < rgb.length; i++) rgb[i] = 1 / (1 + Math.exp(-rgb[i]!));
    return { data: rgb, width: this.width, height: this.height };
  }

  /**
   * d objective / d params, given the picture `render` made and d objective / d picture
   * (planar RGB of the picture's size).
   */
  backward(picture: PlanarImage, pixelGrad: Float32Array): Float32Array {
    const plane = this.width * this.height;
    if (pixelGrad.length !== 3 * plane || picture.data.length !== 3 * plane) throw new Error('backward needs the rendered picture and a gradient of its size');
    // Through the sigmoid, whose derivative is p (1 - p), then the colour matrix's transpose.
    const g = new Float32Array(3 * plane);
    for (let i = 0; i < g.length; i++) {
      const p = picture.data[i]!;
      g[i] = pixelGrad[i]! * p * (1 - p);
    }
    applyMat3(g, plane, this.colourT);
    return this.halfSpectra(g, this.adjointGain);
  }

  /** Params that render as `picture` (to within float error where it is strictly inside (0, 1)): the inverse of `render`. */
  fromPicture(picture: PlanarImage): Float32Array {
    if (picture.width !== this.width || picture.height !== this.height) throw new Error(`a ${this.width}x${this.height} spectrum image cannot take a ${picture.width}x${picture.height} picture`);
    const plane = this.width * this.height;
    const y = new Float32Array(3 * plane);
    for (let i = 0; i < y.length; i++) {
      const p = Math.min(Math.max(picture.data[i]!, 1e-6), 1 - 1e-6);
      y[i] = Math.log(p / (1 - p));
    }
    applyMat3(y, plane, this.colourInverse);
    return this.halfSpectra(y, this.inverseGain);
  }

  /** Each colour plane of `planes` padded onto the canvas, forward FFT, kept as its half spectrum scaled by `gain`. */
  private halfSpectra(planes: Float32Array, gain: Float64Array): Float32Array {
    const out = new Float32Array(this.size);
    const canvas = this.fft.plane();
    for (let c = 0; c < 3; c++) {
      this.padReal(planes, c, canvas);
      this.fft.forward(canvas);
      this.planeToHalf(canvas, c, out, gain);
    }
    return out;
  }

  private checkParams(params: Float32Array): void {
    if (params.length !== this.size) throw new Error(`a ${this.width}x${this.height} spectrum image has ${this.size} params, not ${params.length}`);
  }

  /** Channel `c`'s half spectrum times the gain into a full complex canvas (the mirror half left zero). */
  private halfToPlane(params: Float32Array, c: number, canvas: Float64Array): void {
    const { canvasWidth: w, canvasHeight: h, columns } = this;
    canvas.fill(0);
    for (let ky = 0; ky < h; ky++) {
      for (let kx = 0; kx < columns; kx++) {
        const k = ky * columns + kx;
        const p = 2 * (c * h * columns + k);
        const gain = this.gain[k]!;
        canvas[2 * (ky * w + kx)] = params[p]! * gain;
        canvas[2 * (ky * w + kx) + 1] = params[p + 1]! * gain;
      }
    }
  }

  /** The half of a transformed canvas into channel `c` of `out`, entry k multiplied by `multiplier[k]`. */
  private planeToHalf(canvas: Float64Array, c: number, out: Float32Array, multiplier: Float64Array): void {
    const { canvasWidth: w, canvasHeight: h, columns } = this;
    for (let ky = 0; ky < h; ky++) {
      for (let kx = 0; kx < columns; kx++) {
        const k = ky * columns + kx;
        const p = 2 * (c * h * columns + k);
        out[p] = canvas[2 * (ky * w + kx)]! * multiplier[k]!;
        out[p + 1] = canvas[2 * (ky * w + kx) + 1]! * multiplier[k]!;
      }
    }
  }

  /** The real part of the canvas' top-left picture-sized corner into channel `c` of `rgb`. */
  private cropReal(canvas: Float64Array, rgb: Float32Array, c: number): void {
    const { width, height, canvasWidth: w } = this;
    const base = c * width * height;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb[base + y * width + x] = canvas[2 * (y * w + x)]!;
  }

  /** Channel `c` of a picture-sized plane into the canvas' top-left corner, zero elsewhere and imaginary parts zero. */
  private padReal(planes: Float32Array, c: number, canvas: Float64Array): void {
    const { width, height, canvasWidth: w } = this;
    const base = c * width * height;
    canvas.fill(0);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) canvas[2 * (y * w + x)] = planes[base + y * width + x]!;
  }
}

/** lucid's spectrum scale (1 / frequency in cycles per pixel, at most the canvas' side) times the fixed factors render applies. */
function spectrumGain(w: number, h: number): Float64Array {
  const columns = w / 2 + 1;
  const gain = new Float64Array(h * columns);
  const orthonormal = Math.sqrt(w * h);
  for (let ky = 0; ky < h; ky++) {
    const fy = Math.min(ky, h - ky) / h;
    for (let kx = 0; kx < columns; kx++) {
      const fx = kx / w;
      const scale = 1 / Math.max(Math.hypot(fx, fy), 1 / Math.max(w, h));
      const mirrored = isMirrored(kx, w) ? 2 : 1;
      gain[ky * columns + kx] = (scale * orthonormal * mirrored) / MAGIC;
    }
  }
  return gain;
}

/** Whether half-spectrum column kx also stands for its mirror image W - kx (all but the first and the Nyquist column). */
function isMirrored(kx: number, w: number): boolean {
  return kx > 0 && kx < w / 2;
}

function normaliseColumns(m: Mat3): Mat3 {
  let largest = 0;
  for (let j = 0; j < 3; j++) largest = Math.max(largest, Math.hypot(m[j]!, m[3 + j]!, m[6 + j]!));
  return m.map((v) => v / largest) as Mat3;
}

function transpose(m: Mat3): Mat3 {
  return [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]];
}

function invert(m: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det, (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det, (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det];
}
