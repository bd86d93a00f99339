/**
 * A stage is one step of a frame's path (latent -> generate -> dream -> upscale ->
 * encode -> send). Stages share nothing but the FrameJob they pass along, so a pass
 * can be added, removed or reordered in stages/index.ts without touching the others.
 */
import type { FrameMeta } from '../../common/frame.js';
import type { Latent } from '../../common/latent.js';
import type { PixelBox, Rect, WallScreen } from '../../common/wall.js';
import type { PlanarImage } from '../image/planar-image.js';

export interface FrameJob {
  meta: FrameMeta;
  /** Video walls: the screen this frame is made for (absent: every display gets it). */
  screen?: WallScreen;
  /** Tile walls: where `image` was cut from the whole picture (server/stages/tile-crop.ts), and the whole picture (captures keep the whole portrait). */
  tile?: { rect: Rect; box: PixelBox; pictureSize: number; whole: PlanarImage };
  latent?: Latent;
  image?: PlanarImage;
  encoded?: Buffer;
}

export interface Stage {
  readonly name: string;
  /** Loads models and buffers; called once before the first frame. */
  init?(): Promise<void>;
  run(job: FrameJob): Promise<void> | void;
  dispose?(): Promise<void> | void;
}

/** Fails loudly when a stage runs out of order (a missing input is a wiring bug). */
export function need<K extends keyof FrameJob>(job: FrameJob, key: K, stage: string): NonNullable<FrameJob[K]> {
  const value = job[key];
  if (value === undefined || value === null) throw new Error(`stage '${stage}' needs job.${String(key)}; is an earlier stage missing from the chain?`);
  return value as NonNullable<FrameJob[K]>;
}
