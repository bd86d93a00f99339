/**
 * Dense optical flow between two consecutive portraits, so the live dream can carry its
 * detail with the face as it moves (server/stages/dream.ts) instead of leaving it where
 * the face was: the carried patterns then follow the eyes and mouth rather than flickering
 * across them.
 *
 * Coarse-to-fine Lucas–Kanade on luminance at a small size (64 px by default): at each
 * pyramid level the previous frame is warped by the flow so far, and each pixel solves
 * the 2x2 least-squares system over a small window for the remaining shift. Consecutive
 * frames of a latent walk move by a pixel or two, smoothly, which is what this method is
 * good at; the solve is damped so a flat region (background, cheek) keeps the flow it
 * inherited from the coarser level instead of inventing one. About a millisecond at 64 px.
 */
import type { PlanarImage } from '../image/planar-image.js';

/** Side of the luminance the flow is found at: a face's motion is smooth, and 64 px costs about a millisecond. */
export const FLOW_SIDE = 64;

/** Per-pixel displacement, in pixels of this grid: `cur(p)` is seen at `prev(p + (u, v))`. */
export interface Flow {
  u: Float32Array;
  v: Float32Array;
  width: number;
  height: number;
}

export interface FlowOptions {
  /** Pyramid levels (each half the size of the one above). */
  levels?: number;
  /** Lucas–Kanade updates per level. */
  iterations?: number;
  /** Half-width of the square window the least squares sums over. */
  radius?: number;
}

/** Luminance of a planar RGB picture, area-averaged to `side` x `side` (the flow's working size). */
export function lumaAt(img: PlanarImage, side: number): Float32Array {
  const { width: w, height: h, data } = img;
  const plane = w * h;
  const out = new Float32Array(side * side);
  for (let y = 0; y < side; y++) {
    const y0 = Math.floor((y * h) / side);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * h) / side));
    for (let x = 0; x < side; x++) {
      const x0 = Math.floor((x * w) / side);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * w) / side));
      let sum = 0;
      for (let yy = y0; yy < y1; yy++) {
        for (let xx = x0; xx < x1; xx++) {
          const i = yy * w + xx;
          sum += 0.299 * data[i]! + 0.587 * data[plane + i]! + 0.114 * data[2 * plane + i]!;
        }
      }
      out[y * side + x] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

/** The flow that takes `cur` back to `prev` (both `side` x `side` luminance, as lumaAt makes). */
export function opticalFlow(cur: Float32Array, prev: Float32Array, side: number, opts: FlowOptions = {}): Flow {
  if (cur.length !== side * side || prev.length !== side * side) throw new Error(`opticalFlow: expected two ${side}x${side} pictures`);
  const levels = Math.max(1, Math.min(opts.levels ?? 3, Math.floor(Math.log2(side / 8)) + 1));
  const iterations = opts.iterations ?? 3;
  const radius = opts.radius ?? 2;
  const pyramid: { cur: Float32Array; prev: Float32Array; side: number }[] = [{ cur, prev, side }];
  for (let l = 1; l < levels; l++) {
    const above = pyramid[l - 1]!;
    pyramid.push({ cur: halve(above.cur, above.side), prev: halve(above.prev, above.side), side: above.side >> 1 });
  }
  let flow: Flow | null = null;
  for (let l = levels - 1; l >= 0; l--) {
    const level = pyramid[l]!;
    flow = flow ? doubleFlow(flow, level.side) : zeroFlow(level.side);
    for (let k = 0; k < iterations; k++) refine(flow, level.cur, level.prev, radius);
  }
  return flow!;
}

/** `img` sampled at p + flow(p) (bilinear, edges clamped): last frame's picture moved to where this frame has it. */
export function warpByFlow(img: PlanarImage, flow: Flow): PlanarImage {
  const { width: w, height: h } = img;
  const plane = w * h;
  const sx = flow.width / w;
  const sy = flow.height / h;
  const out = new Float32Array(img.data.length);
  for (let y = 0; y < h; y++) {
    const fy = (y + 0.5) * sy - 0.5;
    for (let x = 0; x < w; x++) {
      const fx = (x + 0.5) * sx - 0.5;
      // Where this pixel was, and its bilinear weights there, shared by the three colour planes.
      const px = Math.max(0, Math.min(w - 1, x + sample(flow.u, flow.width, flow.height, fx, fy) / sx));
      const py = Math.max(0, Math.min(h - 1, y + sample(flow.v, flow.width, flow.height, fx, fy) / sy));
      const x0 = Math.min(w - 2, Math.floor(px));
      const y0 = Math.min(h - 2, Math.floor(py));
      const ax = px - x0;
      const ay = py - y0;
      const w00 = (1 - ax) * (1 - ay);
      const w01 = ax * (1 - ay);
      const w10 = (1 - ax) * ay;
      const w11 = ax * ay;
      for (let c = 0, i = y0 * w + x0; c < 3; c++, i += plane) {
        out[c * plane + y * w + x] = w00 * img.data[i]! + w01 * img.data[i + 1]! + w10 * img.data[i + w]! + w11 * img.data[i + w + 1]!;
      }
    }
  }
  return { data: out, width: w, height: h };
}

/** One damped Lucas–Kanade update of `flow` in place. */
function refine(flow: Flow, cur: Float32Array, prev: Float32Array, radius: number): void {
  const n = flow.width;
  const size = n * n;
  const warped = new Float32Array(size);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) warped[y * n + x] = sample(prev, n, n, x + flow.u[y * n + x]!, y + flow.v[y * n + x]!);
  const xx = new Float32Array(size);
  const xy = new Float32Array(size);
  const yy = new Float32Array(size);
  const xt = new Float32Array(size);
  const yt = new Float32Array(size);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = y * n + x;
      // Gradients of both pictures averaged: symmetric, and steadier than either alone.
      const gx = 0.25 * (at(warped, n, x + 1, y) - at(warped, n, x - 1, y) + at(cur, n, x + 1, y) - at(cur, n, x - 1, y));
      const gy = 0.25 * (at(warped, n, x, y + 1) - at(warped, n, x, y - 1) + at(cur, n, x, y + 1) - at(cur, n, x, y - 1));
      const gt = warped[i]! - cur[i]!;
      xx[i] = gx * gx;
      xy[i] = gx * gy;
      yy[i] = gy * gy;
      xt[i] = gx * gt;
      yt[i] = gy * gt;
    }
  }
  for (const field of [xx, xy, yy, xt, yt]) boxBlur(field, n, radius);
  // Damping in units of a faint edge's gradient energy: below it, no update.
  const damping = 1e-5;
  for (let i = 0; i < size; i++) {
    const a = xx[i]! + damping;
    const b = xy[i]!;
    const d = yy[i]! + damping;
    const det = a * d - b * b;
    // warped(p + du) ~ warped + g.du = cur  =>  (G) du = -(g * gt) summed over the window.
    const du = (-d * xt[i]! + b * yt[i]!) / det;
    const dv = (b * xt[i]! - a * yt[i]!) / det;
    flow.u[i] = flow.u[i]! + clampStep(du);
    flow.v[i] = flow.v[i]! + clampStep(dv);
  }
}

/** Lucas–Kanade is a small-motion method: one update moves at most a pixel of this level. */
const clampStep = (s: number) => (Number.isFinite(s) ? Math.max(-1, Math.min(1, s)) : 0);

function zeroFlow(side: number): Flow {
  return { u: new Float32Array(side * side), v: new Float32Array(side * side), width: side, height: side };
}

/** A coarse level's flow on the next finer grid: positions and displacements both double. */
function doubleFlow(flow: Flow, side: number): Flow {
  const out = zeroFlow(side);
  const s = flow.width / side;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const fx = (x + 0.5) * s - 0.5;
      const fy = (y + 0.5) * s - 0.5;
      out.u[y * side + x] = 2 * sample(flow.u, flow.width, flow.height, fx, fy);
      out.v[y * side + x] = 2 * sample(flow.v, flow.width, flow.height, fx, fy);
    }
  }
  return out;
}

function halve(img: Float32Array, side: number): Float32Array {
  const half = side >> 1;
  const out = new Float32Array(half * half);
  for (let y = 0; y < half; y++) {
    for (let x = 0; x < half; x++) {
      const i = 2 * y * side + 2 * x;
      out[y * half + x] = 0.25 * (img[i]! + img[i + 1]! + img[i + side]! + img[i + side + 1]!);
    }
  }
  return out;
}

/** In-place box filter of (2r+1)^2, edges clamped; separable running sums. */
function boxBlur(field: Float32Array, n: number, r: number): void {
  const tmp = new Float32Array(field.length);
  const line = new Float32Array(n);
  for (let pass = 0; pass < 2; pass++) {
    const src = pass === 0 ? field : tmp;
    const dst = pass === 0 ? tmp : field;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) line[i] = pass === 0 ? src[j * n + i]! : src[i * n + j]!;
      let sum = 0;
      for (let k = -r; k <= r; k++) sum += line[Math.max(0, Math.min(n - 1, k))]!;
      for (let i = 0; i < n; i++) {
        const v = sum / (2 * r + 1);
        if (pass === 0) dst[j * n + i] = v;
        else dst[i * n + j] = v;
        sum += line[Math.min(n - 1, i + r + 1)]! - line[Math.max(0, i - r)]!;
      }
    }
  }
}

const at = (img: Float32Array, n: number, x: number, y: number) => img[Math.max(0, Math.min(n - 1, y)) * n + Math.max(0, Math.min(n - 1, x))]!;

/** Bilinear sample of a w x h plane starting at `offset`, edges clamped. */
function sample(data: Float32Array, w: number, h: number, x: number, y: number, offset = 0): number {
  const cx = Math.max(0, Math.min(w - 1, x));
  const cy = Math.max(0, Math.min(h - 1, y));
  const x0 = Math.min(w - 2, Math.floor(cx));
  const y0 = Math.min(h - 2, Math.floor(cy));
  const fx = cx - x0;
  const fy = cy - y0;
  const i = offset + y0 * w + x0;
  const top = data[i]! + (data[i + 1]! - data[i]!) * fx;
  const bottom = data[i + w]! + (data[i + w + 1]! - data[i + w]!) * fx;
  return top + (bottom - top) * fy;
}
