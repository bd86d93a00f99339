/**
 * DeepDream (Mordvintsev, Olah & Tyka 2015, "Inceptionism"): gradient ascent on what a
 * layer of a trained network sees, in the published recipe: a pyramid of octaves from
 * small to full size, several iterations per octave, a step normalised by the mean
 * gradient magnitude, a random roll (jitter) before each step so the patterns do not
 * lock to the pixel grid, and the detail found at one octave carried up to the next.
 *
 * Two things keep a dream from blowing out its colours (after lucid / neural-dream):
 * each step is taken in the picture's decorrelated colour space (colour.ts) with the
 * gradient normalised band by band over a Laplacian pyramid (pyramid.ts), and after each
 * octave the picture is held to the portrait's own colour statistics, so the dream adds
 * structure and no colour cast.
 * Images are planar RGB in [0, 1]; the network's own input range is the net's business.
 */
import { splitmix32 } from '../../common/random.js';
import { clamp01, type PlanarImage } from '../image/planar-image.js';
import { colourPreconditioner, holdColours, pictureBasis, type ColourBasis } from './colour.js';
import type { ImageOps } from './image-ops.js';
import { laplacianNormalise } from './pyramid.js';

export interface GradientNet {
  /** The objective at `img` and its gradient with respect to `img` (same layout and size). */
  gradient(img: PlanarImage): Promise<{ objective: number; grad: Float32Array }>;
}

export interface DreamSettings {
  /** Pyramid levels; 1 dreams at full size only. */
  octaves: number;
  /** Size ratio between neighbouring octaves (the published default is 1.4). */
  octaveScale: number;
  /** Gradient steps per octave. */
  iterations: number;
  /** Step size in 1/255 units of the image, applied to the gradient normalised by its mean magnitude. */
  step: number;
  /** Largest random roll in pixels (at full size; scaled down with each octave). */
  jitter: number;
  /** Seeds the jitter, so the same settings give the same dream. */
  seed: number;
  /**
   * Keep the picture's colours: steps in its decorrelated colour space and its colour
   * statistics held after every octave (false: plain RGB steps, for comparison).
   */
  keepColours: boolean;
  /** Bands of the Laplacian pyramid the gradient is normalised over (1: one normalisation for the whole gradient). */
  pyramid: number;
}

export const DEFAULT_DREAM: Readonly<DreamSettings> = Object.freeze({ octaves: 4, octaveScale: 1.4, iterations: 10, step: 1.5, jitter: 32, seed: 0, keepColours: true, pyramid: 4 });

/** How far a held dream may raise the portrait's light-dark spread (the contrast its structure adds). */
export const DREAM_CONTRAST = 1.25;

/** How a step shapes its gradient: the colour basis it steps in (null: RGB) and the pyramid bands. */
export interface StepShape {
  colour: ColourBasis | null;
  pyramid: number;
}

const RGB_STEP: StepShape = { colour: null, pyramid: 1 };

/** Circular shift by (dx, dy) pixels, planar RGB. */
export function roll(img: PlanarImage, dx: number, dy: number): PlanarImage {
  const { width: w, height: h, data } = img;
  const out = new Float32Array(data.length);
  const plane = w * h;
  for (let c = 0; c < 3; c++) {
    const base = c * plane;
    for (let y = 0; y < h; y++) {
      const sy = (((y - dy) % h) + h) % h;
      const src = base + sy * w;
      const dst = base + y * w;
      for (let x = 0; x < w; x++) out[dst + x] = data[src + ((((x - dx) % w) + w) % w)]!;
    }
  }
  return { data: out, width: w, height: h };
}

/**
 * The ascent direction from a raw gradient: into the decorrelated colour space, each
 * pyramid band to unit RMS, back to RGB. In place when nothing changes its size.
 */
export function shapeGradient(grad: Float32Array, width: number, height: number, shape: StepShape): Float32Array {
  const plane = width * height;
  const pre = shape.colour ? colourPreconditioner(shape.colour) : null;
  pre?.toDecorrelated(grad, plane);
  const out = shape.pyramid > 1 ? laplacianNormalise(grad, width, height, 3, shape.pyramid) : grad;
  pre?.fromDecorrelated(out, plane);
  return out;
}

/**
 * One normalised gradient-ascent step with jitter, on a copy; returns the new image and
 * objective. The direction is shaped by `shape` (default: plain RGB, one normalisation);
 * its mean magnitude is then `step` / 255.
 */
export async function dreamStep(net: GradientNet, img: PlanarImage, step: number, jitter: number, random: () => number, shape: StepShape = RGB_STEP): Promise<{ image: PlanarImage; objective: number }> {
  const ox = jitter > 0 ? Math.floor(random() * (2 * jitter + 1)) - jitter : 0;
  const oy = jitter > 0 ? Math.floor(random() * (2 * jitter + 1)) - jitter : 0;
  const shifted = ox || oy ? roll(img, ox, oy) : { data: img.data.slice(), width: img.width, height: img.height };
  const { objective, grad: raw } = await net.gradient(shifted);
  const grad = shapeGradient(raw, img.width, img.height, shape);
  let mean = 0;
  for (let i = 0; i < grad.length; i++) mean += Math.abs(grad[i]!);
  mean /= grad.length;
  const scale = mean > 0 ? step / 255 / mean : 0;
  const d = shifted.data;
  for (let i = 0; i < d.length; i++) d[i] = clamp01(d[i]! + scale * grad[i]!);
  return { image: ox || oy ? roll(shifted, -ox, -oy) : shifted, objective };
}

export interface DreamProgress {
  octave: number;
  iteration: number;
  done: number;
  total: number;
  objective: number;
}

/** Whose colours a dream keeps (with settings.keepColours), and how much light-dark spread it may add. */
export interface ColourHold {
  /** Default: the picture being dreamed. A zoom passes the portrait's, so fed-back frames cannot drift. */
  colours?: ColourBasis;
  /** Default DREAM_CONTRAST. */
  contrast?: number | undefined;
}

/** Dreams one image with the octave pyramid; `onStep` reports progress (CLI progress bars). */
export async function dreamImage(
  net: GradientNet,
  ops: ImageOps,
  base: PlanarImage,
  settings: DreamSettings,
  onStep?: (p: DreamProgress) => void,
  hold: ColourHold = {},
): Promise<PlanarImage> {
  const random = splitmix32(settings.seed);
  const sizes: [number, number][] = [];
  for (let o = 0; o < settings.octaves; o++) {
    const f = settings.octaveScale ** o;
    const w = Math.round(base.width / f);
    const h = Math.round(base.height / f);
    if (w < 16 || h < 16) break; // smaller than the network's receptive field: nothing to see
    sizes.push([w, h]);
  }
  sizes.reverse();
  const total = sizes.length * settings.iterations;
  // The portrait's colours: the basis the steps take and the statistics each octave is held to.
  const colour = settings.keepColours ? (hold.colours ?? pictureBasis(base)) : null;
  const contrast = hold.contrast ?? DREAM_CONTRAST;
  const shape: StepShape = { colour, pyramid: settings.pyramid };
  let detail: PlanarImage | null = null;
  let done = 0;
  let result = base;
  for (const [octave, [w, h]] of sizes.entries()) {
    const octaveBase = await ops.resize(base, w, h);
    const src: PlanarImage = { data: octaveBase.data.slice(), width: w, height: h };
    if (detail) {
      const up = await ops.resize(detail, w, h);
      for (let i = 0; i < src.data.length; i++) src.data[i] = src.data[i]! + up.data[i]!;
    }
    let current = src;
    const jitter = Math.max(1, Math.round((settings.jitter * w) / base.width));
    for (let it = 0; it < settings.iterations; it++) {
      const r = await dreamStep(net, current, settings.step, jitter, random, shape);
      current = r.image;
      onStep?.({ octave, iteration: it, done: ++done, total, objective: r.objective });
    }
    if (colour) holdColours(current, hold.colours ?? pictureBasis(octaveBase), { contrast });
    const d = new Float32Array(current.data.length);
    for (let i = 0; i < d.length; i++) d[i] = current.data[i]! - octaveBase.data[i]!;
    detail = { data: d, width: w, height: h };
    result = current;
  }
  return result;
}

/** Uniform noise around mid-grey: the canvas for "dream from noise toward a class". */
export function noiseImage(width: number, height: number, seed: number, amplitude = 0.1): PlanarImage {
  const random = splitmix32(seed);
  const data = new Float32Array(3 * width * height);
  for (let i = 0; i < data.length; i++) data[i] = 0.5 + (random() * 2 - 1) * amplitude;
  return { data, width, height };
}
