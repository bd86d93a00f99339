/**
 * The endless zoom (Inceptionism's "iterations" mode): each frame is the last dreamed
 * frame, zoomed into its centre and turned a little, dreamed again. Fed back on itself a
 * picture drifts: resampling blurs it, each step adds a little of the network's favourite
 * colours, and within seconds it is a flat haze of one hue. Two things keep it alive:
 *
 * - a share of the fresh portrait is blended back into every frame (`anchor`), so the
 *   face keeps surfacing and the dream always has something real to grow from;
 * - after every frame the picture is moved part of the way (`hold`) onto the portrait's
 *   colour statistics (server/dream/colour.ts): its means and spreads along the
 *   portrait's colour axes, light-dark allowed up to `contrast` times the portrait's.
 *
 * The live stage and `portraits dream --zoom-frames` both use it.
 */
import type { PlanarImage } from '../image/planar-image.js';
import { holdColours, type ColourBasis } from './colour.js';
import type { ImageOps } from './image-ops.js';

export interface ZoomSettings {
  /** Magnification per frame (> 1 zooms in). */
  scale: number;
  /** Turn per frame. */
  radians: number;
  /** Share of the fresh portrait blended into each frame, 0..1. */
  anchor: number;
  /** How far each frame moves toward the portrait's colour statistics, 0..1. */
  hold: number;
  /** The light-dark spread may reach this multiple of the portrait's. */
  contrast: number;
}

/** Live: a small zoom 15-30 times a second, one dream step a frame. */
export const ZOOM_LIVE: Readonly<ZoomSettings> = Object.freeze({ scale: 1.012, radians: 0.002, anchor: 0.05, hold: 0.3, contrast: 1.3 });
/** Offline: a larger zoom a frame, a whole multi-octave dream a frame. */
export const ZOOM_OFFLINE: Readonly<Pick<ZoomSettings, 'anchor' | 'contrast'>> = Object.freeze({ anchor: 0.1, contrast: 1.3 });

/** The next frame's starting point: `previous` zoomed and turned (the portrait itself on the first frame), with `anchor` of the portrait blended in. */
export async function zoomFeed(ops: ImageOps, previous: PlanarImage | null, portrait: PlanarImage, z: Pick<ZoomSettings, 'scale' | 'radians' | 'anchor'>): Promise<PlanarImage> {
  if (!previous) return { data: portrait.data.slice(), width: portrait.width, height: portrait.height };
  const src = await ops.zoomRotate(previous, z.scale, z.radians);
  const keep = 1 - z.anchor;
  for (let i = 0; i < src.data.length; i++) src.data[i] = src.data[i]! * keep + portrait.data[i]! * z.anchor;
  return src;
}

/** Holds a dreamed zoom frame (in place) to the portrait's colour statistics. */
export function zoomHold(img: PlanarImage, portrait: ColourBasis, z: Pick<ZoomSettings, 'hold' | 'contrast'>): void {
  holdColours(img, portrait, { rate: z.hold, contrast: z.contrast });
}
