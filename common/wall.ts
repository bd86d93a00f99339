/**
 * Video walls: several screens, each with its own display page (and often its own node),
 * showing one piece together. Shared by the server (which renders per screen) and the
 * display page (which names its screen), so the layout math exists once.
 *
 * Layouts: 'single' (today's installation: every display gets the same stream, no slots),
 * 'mirror' (every screen the same portrait, presented in lockstep), 'tile' (one portrait
 * covering the whole wall, each screen its piece) and 'gallery' (each screen its own face,
 * all from one seed sequence). Every screen shows a square frame of config.frameSize.
 */
import { z } from './zod.js';

export const WALL_LAYOUTS = ['single', 'mirror', 'tile', 'gallery'] as const;
export type WallLayout = (typeof WALL_LAYOUTS)[number];

/** Screen names travel in URLs (`/?screen=left`), so they are plain. */
export const ScreenNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/i, 'screen names are 1-32 letters, digits, _ or -');

const ScreenSchema = z.object({
  name: ScreenNameSchema,
  column: z.number().int().min(0),
  row: z.number().int().min(0),
});
export type WallScreen = z.infer<typeof ScreenSchema>;

export const WallSchema = z
  .object({
    layout: z.enum(WALL_LAYOUTS).default('single'),
    columns: z.number().int().min(1).max(16).default(1),
    rows: z.number().int().min(1).max(16).default(1),
    screens: z.array(ScreenSchema).max(256).default([]),
    /**
     * Frames are presented this long after their slot starts (cluster time): enough for
     * every node to render, encode and send, and every display to decode, so all screens
     * can change together. Too short and late frames show late (and out of step).
     */
    presentDelayMs: z.number().min(0).max(2000).default(150),
  })
  .strict()
  .superRefine((wall, ctx) => {
    const names = new Set<string>();
    wall.screens.forEach((s, i) => {
      if (names.has(s.name)) ctx.addIssue({ code: 'custom', path: ['screens', i, 'name'], message: `screen '${s.name}' is listed twice` });
      names.add(s.name);
      if (s.column >= wall.columns || s.row >= wall.rows) {
        ctx.addIssue({ code: 'custom', path: ['screens', i], message: `screen '${s.name}' at column ${s.column}, row ${s.row} lies outside the ${wall.columns} x ${wall.rows} grid` });
      }
    });
    if (wall.layout !== 'single' && wall.screens.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['screens'], message: `layout '${wall.layout}' needs at least one screen ({ name, column, row })` });
    }
  });
export type WallConfig = z.output<typeof WallSchema>;

/** A rectangle in normalised picture coordinates: 0..1 across and down the square portrait. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function findScreen(wall: WallConfig, name: string): WallScreen | undefined {
  return wall.screens.find((s) => s.name === name);
}

/** Row-major place of a screen in the grid; the gallery offsets faces by it. */
export function screenIndex(wall: WallConfig, screen: WallScreen): number {
  return screen.row * wall.columns + screen.column;
}

/**
 * The part of the square portrait the whole wall shows: the portrait covers the wall
 * (scaled to its longer side, centred, the overhang cut), as a picture covers a frame.
 * A 2 x 1 wall of square screens shows the middle half of the portrait's height.
 */
export function wallView(wall: Pick<WallConfig, 'columns' | 'rows'>): Rect {
  const aspect = wall.columns / wall.rows;
  if (aspect >= 1) {
    const h = 1 / aspect;
    return { x0: 0, y0: (1 - h) / 2, x1: 1, y1: (1 + h) / 2 };
  }
  const w = aspect;
  return { x0: (1 - w) / 2, y0: 0, x1: (1 + w) / 2, y1: 1 };
}

/** The part of the portrait one screen of a tile wall shows. */
export function tileRect(wall: Pick<WallConfig, 'columns' | 'rows'>, screen: Pick<WallScreen, 'column' | 'row'>): Rect {
  const view = wallView(wall);
  const w = (view.x1 - view.x0) / wall.columns;
  const h = (view.y1 - view.y0) / wall.rows;
  return { x0: view.x0 + screen.column * w, y0: view.y0 + screen.row * h, x1: view.x0 + (screen.column + 1) * w, y1: view.y0 + (screen.row + 1) * h };
}

/** A crop of a picture in whole pixels: what the server cuts before upscaling one tile. */
export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The whole-pixel box of a `size` x `size` picture that holds `rect` plus `margin` pixels
 * on every side (clipped to the picture). The margin keeps the upscaler's and the
 * resampler's edge effects outside what the screen shows, so neighbouring tiles meet
 * without a seam.
 */
export function cropBox(rect: Rect, size: number, margin: number): PixelBox {
  const x = Math.max(0, Math.floor(rect.x0 * size) - margin);
  const y = Math.max(0, Math.floor(rect.y0 * size) - margin);
  const x1 = Math.min(size, Math.ceil(rect.x1 * size) + margin);
  const y1 = Math.min(size, Math.ceil(rect.y1 * size) + margin);
  return { x, y, width: x1 - x, height: y1 - y };
}

/**
 * How to turn a crop (now `scale` times its cut size, after upscaling) into exactly the
 * screen's `frameSize` square: resize the crop to `width` x `height`, then take the
 * `frameSize` window at (`left`, `top`). Whole-pixel offsets: with the rectangles a grid
 * gives on power-of-two sizes they are exact; otherwise rounded (under half a pixel).
 */
export function fitWindow(rect: Rect, box: PixelBox, pictureSize: number, frameSize: number): { width: number; height: number; left: number; top: number } {
  // Display pixels per picture pixel: the tile's width in picture pixels becomes frameSize.
  const k = frameSize / ((rect.x1 - rect.x0) * pictureSize);
  const ky = frameSize / ((rect.y1 - rect.y0) * pictureSize);
  const width = Math.round(box.width * k);
  const height = Math.round(box.height * ky);
  const left = Math.min(width - frameSize, Math.max(0, Math.round((rect.x0 * pictureSize - box.x) * k)));
  const top = Math.min(height - frameSize, Math.max(0, Math.round((rect.y0 * pictureSize - box.y) * ky)));
  return { width, height, left, top };
}

/** Frames are made on a grid of slots in cluster time, one per frame period. */
export function slotAt(clusterMs: number, periodMs: number): number {
  return Math.floor(clusterMs / periodMs);
}

export function slotStart(slot: number, periodMs: number): number {
  return slot * periodMs;
}
