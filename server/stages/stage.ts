/**
 * A stage is one step of a frame's path (latent -> generate -> dream -> upscale ->
 * encode -> send). Stages share nothing but the FrameJob they pass along, so a pass
 * can be added, removed or reordered in stages/index.ts without touching the others.
 */
import type { FrameMeta } from '../../common/frame.js';
import { DEFAULT_STATE, type LiveState } from '../../common/state.js';
import type { Latent } from '../../common/latent.js';
import type { PixelBox, Rect, WallScreen } from '../../common/wall.js';
import type { PlanarImage } from '../image/planar-image.js';
import { deepFreeze } from '../../common/freeze.js';

/**
 * The live state as one frame sees it: taken once when the frame starts (server/store.ts
 * snapshot()), frozen, and never re-read. Generation awaits between stages, so reading the
 * store mid-frame could mix two versions in one picture.
 */
export interface StateSnapshot {
  readonly state: Readonly<LiveState>;
  readonly version: number;
  /**
   * Where the modulation tempo's beat was when the frame started (server/modulation/modulator.ts
   * beatClock()), so the latent stage can put keyframe changes on the beat (state.loop.onBeat)
   * without reading the modulator; absent where no modulator runs (a cluster, renders, tests).
   */
  readonly tempo?: BeatClock;
}

/** A beat position and when it held: beat `beat` at wall-clock `at` (ms), moving at `bpm`. */
export interface BeatClock {
  readonly beat: number;
  readonly at: number;
  readonly bpm: number;
}

/** The beat at wall-clock `now` (ms) on `clock`. */
export function beatAt(clock: BeatClock, now: number): number {
  return clock.beat + ((now - clock.at) * clock.bpm) / 60_000;
}

export interface FrameJob {
  meta: FrameMeta;
  /** Everything a stage may know about the live state. Stages never import the store. */
  readonly snapshot: StateSnapshot;
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

/** A fresh job for frame number `frame`, carrying the state it is made from. */
export function newJob(frame: number, snapshot: StateSnapshot, serverTime = Date.now()): FrameJob {
  const meta: FrameMeta = { frame, serverTime, stateVersion: snapshot.version, mode: snapshot.state.mode, seeds: [0, 0], t: 0, width: 0, height: 0, format: 'jpeg', timings: {} };
  return { meta, snapshot };
}

/** A state outside the live store (renders, prints, tests): the defaults with `patch` laid over them. */
export function fixedSnapshot(patch: Partial<LiveState> = {}, version = 0): StateSnapshot {
  return Object.freeze({ state: deepFreeze({ ...structuredClone(DEFAULT_STATE), ...structuredClone(patch) } as LiveState), version });
}
