/**
 * State + time -> the latent of this frame. The target comes from the mode (walk,
 * loop, seed plane, single seed); the shown latent follows it with an exponential
 * glide, so switching modes or grabbing the controls never makes the face jump. The
 * semantic sliders (state.directions) are added to the target, so they glide in too.
 *
 * The keyframe loop runs on seconds (loop.period) or, with loop.onBeat, on the beats of the
 * modulation tempo: each keyframe lasts a whole number of beats and every change to the next
 * one starts on a beat. The beat comes with the job (snapshot.tempo, from the modulator), so
 * this stage never reads the modulator or the store.
 */
import { follow, loopAt, loopSegment, planeAt, seedToLatent, walkAt, type Latent, type Position } from '../../common/latent.js';
import type { LiveState } from '../../common/state.js';
import { beatAt, type BeatClock, type FrameJob, type Stage } from './stage.js';

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
  /** The beat loop's segment in progress (loop.onBeat): keyframe k to k + 1 from beat `start` for `beats` beats. */
  private beatLoop: { start: number; beats: number; k: number } | null = null;
  /** The beat where no tempo comes with the job: counted here from state.modulation.bpm. */
  private ownBeat = 0;
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
    const { latent: target, position } = this.target(state, now, dt, job.snapshot.tempo);
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

  /**
   * The keyframe loop on the beat: each keyframe lasts loop.period / seeds beats' worth of
   * seconds, rounded to whole beats (at least 1), and each segment starts on a whole beat. The
   * segment in progress keeps its length when the tempo changes; the next one takes the new one.
   * The beat is looked ahead by the glide time: the shown latent follows the target about that
   * late, so the face arrives at each keyframe on the beat.
   */
  private loopOnBeat(state: Readonly<LiveState>, now: number, tempo: BeatClock): { latent: Latent; position: Position } {
    const { seeds, period } = state.loop;
    const n = seeds.length;
    const bpm = tempo.bpm;
    const beat = this.beatPosition(state, now, tempo);
    const length = Math.max(1, Math.round(period / n / (60 / bpm)));
    let segment = this.beatLoop;
    if (!segment || beat < segment.start - 1) {
      // Entering (or the beat went back: a new tempo clock): start on the beat just passed,
      // from the keyframe the seconds loop had reached.
      const cycles = (now - this.loopStart) / 1000 / period;
      segment = { start: Math.floor(beat), beats: length, k: Math.floor(cycles * n) };
    }
    for (let guard = 0; beat >= segment.start + segment.beats; guard++) {
      if (guard > 4 * n) {
        // Far ahead (the beat jumped): pick up on the beat just passed.
        segment.start = Math.floor(beat);
        break;
      }
      segment.start += segment.beats;
      segment.k += 1;
      segment.beats = length;
    }
    this.beatLoop = segment;
    const passes = Math.floor(segment.k / n);
    if (passes > this.loopPasses) this.opts.onLoopWrap?.(passes);
    this.loopPasses = passes;
    return loopSegment(seeds, segment.k, (beat - segment.start) / segment.beats, this.opts.dim);
  }

  /** The (looked-ahead) beat position, as loopOnBeat reads it. */
  private beatPosition(state: Readonly<LiveState>, now: number, tempo: BeatClock | undefined): number {
    const clock = tempo ?? { beat: this.ownBeat, at: now, bpm: state.modulation.bpm };
    return beatAt(clock, now) + (state.glide * clock.bpm) / 60;
  }

  /** z + sum(value_i x direction_i), in place on this frame's fresh target; the glide then eases it in. */
  private steer(target: Latent, values: Readonly<Record<string, number>>): void {
    for (const [name, value] of Object.entries(values)) {
      const direction = this.opts.directions?.[name];
      if (!direction || value === 0) continue;
      for (let i = 0; i < target.length; i++) target[i] = target[i]! + value * direction[i]!;
    }
  }

  private target(state: Readonly<LiveState>, now: number, dt: number, tempo: BeatClock | undefined): { latent: Latent; position: Position } {
    const dim = this.opts.dim;
    if (state.mode !== this.lastMode) {
      this.lastMode = state.mode;
      this.loopStart = now;
      this.loopPasses = 0;
      this.beatLoop = null;
    }
    this.ownBeat += (dt * state.modulation.bpm) / 60;
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
        if (state.loop.onBeat) return this.loopOnBeat(state, now, tempo ?? { beat: this.ownBeat, at: now, bpm: state.modulation.bpm });
        if (this.beatLoop) {
          // Back to seconds: carry on from where the beat loop was.
          const { start, beats, k } = this.beatLoop;
          const done = k + Math.min(1, Math.max(0, (this.beatPosition(state, now, tempo) - start) / beats));
          this.loopStart = now - (done / state.loop.seeds.length) * state.loop.period * 1000;
          this.beatLoop = null;
        }
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
