/**
 * State + time -> the latent of this frame. The target comes from the mode (walk,
 * loop, seed plane, single seed); the shown latent follows it with an exponential
 * glide, so switching modes or grabbing the controls never makes the face jump. The
 * semantic sliders (state.directions) are added to the target, so they glide in too.
 */
import { follow, loopAt, planeAt, seedToLatent, walkAt, type Latent, type Position } from '../../common/latent.js';
import type { LiveState } from '../../common/state.js';
import type { FrameJob, Stage } from './stage.js';

/**
 * The glide moves at most this much time's worth per frame: a frame that comes late (a busy
 * CPU, a pause in the loop) would otherwise cover most of the way at once and look like a jump.
 * At 0.1 s and the default glide of 0.6 s, one frame covers at most 15 % of the remaining way.
 */
export const MAX_GLIDE_STEP_S = 0.1;

export interface LatentStageOptions {
  dim: number;
  /** Milliseconds; injectable so tests can drive time. */
  clock?: () => number;
  /** Called when the keyframe loop starts a new pass, with the passes completed since the loop started (OSC feedback). */
  onLoopWrap?: (passes: number) => void;
  /** The generator manifest's named directions; state.directions weighs them onto the target. */
  directions?: Readonly<Record<string, Float32Array>>;
  /** Puts the latent into each frame's metadata (debugging, glide tests). */
  exposeLatent?: boolean;
}

export class LatentStage implements Stage {
  readonly name = 'latent';
  private current: Latent | null = null;
  private lastTime = 0;
  private walkPhase = 0;
  private walkSeed: number | null = null;
  private loopStart = 0;
  private loopPasses = 0;
  private lastMode = '';
  private readonly clock: () => number;

  constructor(private readonly opts: LatentStageOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  run(job: FrameJob): void {
    const now = this.clock();
    const { state, version } = job.snapshot;
    const dt = this.current ? Math.min(1, Math.max(0, (now - this.lastTime) / 1000)) : 0;
    this.lastTime = now;
    const { latent: target, position } = this.target(state, now, dt);
    this.steer(target, state.directions);
    // A fresh array per frame: a job may still be in flight when the next one starts.
    this.current = this.current ? follow(this.current, target, Math.min(dt, MAX_GLIDE_STEP_S), state.glide, new Float32Array(this.opts.dim)) : target;
    job.latent = this.current;
    job.meta.mode = state.mode;
    job.meta.seeds = position.seeds;
    job.meta.t = position.t;
    job.meta.stateVersion = version;
    if (this.opts.exposeLatent) job.meta.latent = Array.from(this.current);
  }

  /** z + sum(value_i x direction_i), in place on this frame's fresh target; the glide then eases it in. */
  private steer(target: Latent, values: Readonly<Record<string, number>>): void {
    for (const [name, value] of Object.entries(values)) {
      const direction = this.opts.directions?.[name];
      if (!direction || value === 0) continue;
      for (let i = 0; i < target.length; i++) target[i] = target[i]! + value * direction[i]!;
    }
  }

  private target(state: Readonly<LiveState>, now: number, dt: number): { latent: Latent; position: Position } {
    const dim = this.opts.dim;
    if (state.mode !== this.lastMode) {
      this.lastMode = state.mode;
      this.loopStart = now;
      this.loopPasses = 0;
    }
    switch (state.mode) {
      case 'walk': {
        if (state.walk.seed !== this.walkSeed) {
          this.walkSeed = state.walk.seed;
          this.walkPhase = 0;
        }
        this.walkPhase += state.walk.speed * dt;
        return walkAt(state.walk.seed, this.walkPhase, dim);
      }
      case 'loop': {
        const r = loopAt(state.loop.seeds, state.loop.period, (now - this.loopStart) / 1000, dim);
        // A longer period makes the count drop; only a count that grows is a new pass.
        if (r.wrapped > this.loopPasses) this.opts.onLoopWrap?.(r.wrapped);
        this.loopPasses = r.wrapped;
        return { latent: r.latent, position: r.position };
      }
      case 'plane':
        return planeAt(state.plane.seed, state.plane.x, state.plane.y, dim);
      case 'seed':
        return { latent: seedToLatent(state.seed, dim), position: { seeds: [state.seed, state.seed], t: 0 } };
      default:
        // Only a snapshot that bypassed the store's validation gets here (a hand-made job).
        throw new Error(`unknown mode '${String((state as { mode: unknown }).mode)}'`);
    }
  }
}
