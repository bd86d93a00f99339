/**
 * Colour for the dream passes: a picture's colour statistics (mean and 3x3 covariance of
 * its RGB values), the decorrelated basis they give (principal axes, most of a portrait's
 * variance lies along one light-dark axis), and two uses of them:
 *
 * - `precondition`: a gradient step taken in the decorrelated, whitened coordinates of
 *   the picture's own colours and mapped back (the step in RGB is then the covariance
 *   times the gradient). Steps follow the colours the picture already has, mostly light
 *   and dark, instead of pushing each RGB channel on its own toward saturated neon.
 * - `holdColours`: the dreamed picture moved back onto the portrait's colour statistics
 *   (means and spreads along the portrait's principal axes), so a dream adds structure
 *   but no colour cast, and a fed-back zoom cannot drift to one hue or fade to grey.
 */
import type { PlanarImage } from '../image/planar-image.js';

export type Vec3 = [number, number, number];
/** Row-major 3x3. */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export interface ColourStats {
  mean: Vec3;
  /** Covariance of R, G, B (row-major). */
  cov: Mat3;
}

/** Mean and covariance of a planar RGB picture's pixels (every `stride`-th pixel; 1 = all). */
export function colourStats(img: PlanarImage, stride = 1): ColourStats {
  const plane = img.width * img.height;
  const d = img.data;
  let n = 0;
  let r = 0;
  let g = 0;
  let b = 0;
  for (let i = 0; i < plane; i += stride) {
    r += d[i]!;
    g += d[plane + i]!;
    b += d[2 * plane + i]!;
    n++;
  }
  const mean: Vec3 = [r / n, g / n, b / n];
  let rr = 0, rg = 0, rb = 0, gg = 0, gb = 0, bb = 0;
  for (let i = 0; i < plane; i += stride) {
    const x = d[i]! - mean[0];
    const y = d[plane + i]! - mean[1];
    const z = d[2 * plane + i]! - mean[2];
    rr += x * x;
    rg += x * y;
    rb += x * z;
    gg += y * y;
    gb += y * z;
    bb += z * z;
  }
  return { mean, cov: [rr / n, rg / n, rb / n, rg / n, gg / n, gb / n, rb / n, gb / n, bb / n] };
}

/**
 * Eigen-decomposition of a symmetric 3x3 matrix by Jacobi rotations: eigenvalues in
 * descending order and the eigenvectors as the rows of `vectors`.
 */
export function symmetricEigen(m: Mat3): { values: Vec3; vectors: [Vec3, Vec3, Vec3] } {
  const a = [[m[0], m[1], m[2]], [m[3], m[4], m[5]], [m[6], m[7], m[8]]];
  const v = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[0]![1]! ** 2 + a[0]![2]! ** 2 + a[1]![2]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < 2; p++) {
      for (let q = p + 1; q < 3; q++) {
        const apq = a[p]![q]!;
        if (Math.abs(apq) < 1e-30) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 3; k++) {
          // columns p and q of a
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < 3; k++) {
          // rows p and q of a
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 3; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => a[j]![j]! - a[i]![i]!);
  const values = order.map((i) => a[i]![i]!) as Vec3;
  const vectors = order.map((i) => [v[0]![i]!, v[1]![i]!, v[2]![i]!] as Vec3) as [Vec3, Vec3, Vec3];
  return { values, vectors };
}

/** The principal colour axes of a picture, its spread along each, and its mean colour. */
export interface ColourBasis {
  /** Unit principal axes (rows), largest spread first. */
  axes: [Vec3, Vec3, Vec3];
  /** Standard deviation along each axis. */
  spread: Vec3;
  mean: Vec3;
}

export function colourBasis(stats: ColourStats): ColourBasis {
  const { values, vectors } = symmetricEigen(stats.cov);
  return { axes: vectors, spread: values.map((v) => Math.sqrt(Math.max(v, 0))) as Vec3, mean: stats.mean };
}

/** The basis of a picture's own colours. */
export function pictureBasis(img: PlanarImage): ColourBasis {
  return colourBasis(colourStats(img));
}

/**
 * sqrt of the basis' covariance, S = A^T diag(spread) A (symmetric), row-major, each
 * spread at least `floor` times the largest, normalised so the largest is 1.
 */
function sqrtCov(basis: ColourBasis, floor: number): Mat3 {
  const top = Math.max(basis.spread[0], 1e-6);
  const out = [0, 0, 0, 0, 0, 0, 0, 0, 0] as Mat3;
  for (let k = 0; k < 3; k++) {
    const a = basis.axes[k]!;
    const s = Math.max(basis.spread[k]! / top, floor);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[i * 3 + j] = out[i * 3 + j]! + s * a[i]! * a[j]!;
  }
  return out;
}

/** Applies a 3x3 matrix to every pixel of planar RGB data, in place. */
export function applyMat3(data: Float32Array, plane: number, m: Mat3): void {
  for (let i = 0; i < plane; i++) {
    const r = data[i]!;
    const g = data[plane + i]!;
    const b = data[2 * plane + i]!;
    data[i] = m[0] * r + m[1] * g + m[2] * b;
    data[plane + i] = m[3] * r + m[4] * g + m[5] * b;
    data[2 * plane + i] = m[6] * r + m[7] * g + m[8] * b;
  }
}

/**
 * The image is parametrised as mean + S p, with S the square root of its colour covariance,
 * so p has decorrelated, unit-spread colour components. `toDecorrelated` turns an image
 * gradient into the gradient with respect to p (S^T g = S g); `fromDecorrelated` turns a
 * step in p into the step in RGB (S dp). Both in place. Axes with less than `floor` of the
 * main spread are treated as having that much (a grey picture may still take a tint).
 */
export function colourPreconditioner(basis: ColourBasis, floor = Number(process.env.FLOOR ?? 0.4)): { toDecorrelated(grad: Float32Array, plane: number): void; fromDecorrelated(step: Float32Array, plane: number): void } {
  const s = sqrtCov(basis, floor);
  return {
    toDecorrelated: (grad, plane) => applyMat3(grad, plane, s),
    fromDecorrelated: (step, plane) => applyMat3(step, plane, s),
  };
}

export interface HoldOptions {
  /** How far to move toward the target statistics, 0..1 (1 = all the way). */
  rate?: number;
  /**
   * The picture may keep up to this much more spread than the target along the target's
   * main (light-dark) axis: the contrast a dream's structure adds. 1 holds it exactly.
   */
  contrast?: number;
}

/**
 * Moves `img` (in place) onto `target`'s colour statistics: along each of the target's
 * principal axes, the picture's mean becomes the target's and its spread the target's
 * (the main axis may keep up to `contrast` times more). Values are clamped to [0, 1].
 */
export function holdColours(img: PlanarImage, target: ColourBasis, opts: HoldOptions = {}): void {
  const rate = opts.rate ?? 1;
  const contrast = opts.contrast ?? 1;
  const plane = img.width * img.height;
  const d = img.data;
  const ax = target.axes;
  // statistics of img along the target's axes
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  for (let i = 0; i < plane; i++) {
    const r = d[i]!;
    const g = d[plane + i]!;
    const b = d[2 * plane + i]!;
    for (let k = 0; k < 3; k++) {
      const p = ax[k]![0] * r + ax[k]![1] * g + ax[k]![2] * b;
      sum[k]! += p;
      sq[k]! += p * p;
    }
  }
  const targetMean = ax.map((a) => a[0] * target.mean[0] + a[1] * target.mean[1] + a[2] * target.mean[2]);
  const shift = [0, 0, 0];
  const gain = [1, 1, 1];
  for (let k = 0; k < 3; k++) {
    const mean = sum[k]! / plane;
    const sd = Math.sqrt(Math.max(sq[k]! / plane - mean * mean, 1e-12));
    const want = target.spread[k]! * (k === 0 ? Math.min(contrast, Math.max(1, sd / target.spread[k]!)) : 1);
    const fullGain = want / sd;
    gain[k] = 1 + rate * (fullGain - 1);
    // p' = targetMean + gain (p - mean), blended by rate for the mean too
    shift[k] = mean + rate * (targetMean[k]! - mean);
    sum[k] = mean;
  }
  for (let i = 0; i < plane; i++) {
    const r = d[i]!;
    const g = d[plane + i]!;
    const b = d[2 * plane + i]!;
    let nr = 0;
    let ng = 0;
    let nb = 0;
    for (let k = 0; k < 3; k++) {
      const a = ax[k]!;
      const p = a[0] * r + a[1] * g + a[2] * b;
      const q = shift[k]! + gain[k]! * (p - sum[k]!);
      nr += a[0] * q;
      ng += a[1] * q;
      nb += a[2] * q;
    }
    d[i] = nr < 0 ? 0 : nr > 1 ? 1 : nr;
    d[plane + i] = ng < 0 ? 0 : ng > 1 ? 1 : ng;
    d[2 * plane + i] = nb < 0 ? 0 : nb > 1 ? 1 : nb;
  }
}
