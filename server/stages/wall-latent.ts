/**
 * State + slot -> the latent of this frame, on a video wall (common/wall.ts). Every node
 * must paint the same face for the same slot (mirror, tile) or the same choreography
 * (gallery), so nothing here depends on this node's frame history:
 * - time is the slot's start on the cluster clock, not this machine's clock;
 * - the walk's phase comes from cluster time and an anchor (server/wall/walk-anchor.ts),
 *   the keyframe loop runs on absolute cluster time, plane and seed are pure already;
 * - the glide advances by whole slots (slot - previous slot) x period, so nodes that
 *   render the same slots compute the same numbers, and one that missed slots (or just
 *   joined) converges on the others exponentially, as a glide converges on its target;
 * - gallery screens take their own face from the same seed sequence: screen i is i faces
 *   further along the walk (or the loop, or the seed's sequence), i columns/rows across
 *   the seed plane, so faces travel from screen to screen.
 * The single-screen installation keeps server/stages/latent.ts.
 */
import { follow, loopAt, planeAt, seedToLatent, walkAt, walkSeedAt, type Latent, type Position } from '../../common/latent.js';
import type { LiveState } from '../../common/state.js';
import { screenIndex, slotStart, type WallConfig, type WallScreen } from '../../common/wall.js';
import { WalkAnchor } from '../wall/walk-anchor.js';
import type { AnchorStore } from '../wall/anchor-sync.js';
import { logger } from '../log.js';
import { need, type FrameJob, type Stage } from './stage.js';
import type { LatentStageOptions } from './latent.js';

/** A glide never covers more than this much time at once (a node back from a long pause). */
const MAX_GLIDE_S = 5;

interface Glide {
  current: Latent;
  slot: number;
}

export interface WallLatentOptions extends Pick<LatentStageOptions, 'dim' | 'directions' | 'exposeLatent' | 'onLoopWrap'> {
  wall: WallConfig;
  periodMs: number;
  /** Cluster mode: the walk anchors shared through Redis (server/wall/anchor-sync.ts). */
  anchors?: AnchorStore;
}

const log = logger('wall');

export class WallLatentStage implements Stage {
  readonly name = 'latent';
  private readonly anchor: WalkAnchor;
  private anchorFailures = 0;
  /** One glide per picture: per screen in a gallery, one for the whole wall otherwise. */
  private readonly glides = new Map<string, Glide>();
  private lastMode = '';
  /** The epoch-based pass count when the loop was entered, and the passes reported since. */
  private loopEntry: number | null = null;
  private lastPasses = 0;

  constructor(private readonly opts: WallLatentOptions) {
    const anchors = opts.anchors;
    this.anchor = new WalkAnchor(
      anchors &&
        ((mine) => {
          anchors.claim(mine).then(
            (shared) => {
              this.anchorFailures = 0;
              this.anchor.adopt(shared);
            },
            (err: Error) => {
              // Redis away: this node keeps its own anchor (docs/cluster.md); said once per outage.
              if (this.anchorFailures++ === 0) log.warn({ err: err.message }, 'could not share the walk anchor through Redis; using this node\'s own');
            },
          );
        }),
    );
  }

  run(job: FrameJob): void {
    const slot = job.meta.slot;
    if (slot === undefined) throw new Error("stage 'latent' (wall) needs meta.slot; the frame loop sets it on walls");
    const now = slotStart(slot, this.opts.periodMs);
    const { state, version } = job.snapshot;
    if (state.mode !== this.lastMode) {
      this.lastMode = state.mode;
      this.loopEntry = null;
      this.lastPasses = 0;
    }
    const gallery = this.opts.wall.layout === 'gallery';
    const screen = gallery ? need(job, 'screen', this.name) : undefined;
    const { latent: target, position } = this.target(state, now, screen);
    this.steer(target, state.directions);

    const key = screen?.name ?? '';
    const glide = this.glides.get(key);
    let current: Latent;
    if (!glide) current = target;
    else if (slot <= glide.slot) current = glide.current; // a second screen of the same picture in this slot
    else {
      const dt = Math.min(MAX_GLIDE_S, ((slot - glide.slot) * this.opts.periodMs) / 1000);
      current = follow(glide.current, target, dt, state.glide, new Float32Array(this.opts.dim));
    }
    if (!glide || slot > glide.slot) this.glides.set(key, { current, slot });

    job.latent = current;
    job.meta.mode = state.mode;
    job.meta.seeds = position.seeds;
    job.meta.t = position.t;
    job.meta.stateVersion = version;
    if (this.opts.exposeLatent) job.meta.latent = Array.from(current);
  }

  private steer(target: Latent, values: Readonly<Record<string, number>>): void {
    for (const [name, value] of Object.entries(values)) {
      const direction = this.opts.directions?.[name];
      if (!direction || value === 0) continue;
      for (let i = 0; i < target.length; i++) target[i] = target[i]! + value * direction[i]!;
    }
  }

  private target(state: Readonly<LiveState>, now: number, screen: WallScreen | undefined): { latent: Latent; position: Position } {
    const dim = this.opts.dim;
    const offset = screen ? screenIndex(this.opts.wall, screen) : 0;
    switch (state.mode) {
      case 'walk':
        return walkAt(state.walk.seed, this.anchor.phaseAt(state.walk.seed, state.walk.speed, now) + offset, dim);
      case 'loop': {
        const { seeds, period } = state.loop;
        const r = loopAt(seeds, period, now / 1000 + (offset * period) / seeds.length, dim);
        if (offset === 0) this.countPasses(r.wrapped);
        return { latent: r.latent, position: r.position };
      }
      case 'plane':
        return planeAt(state.plane.seed, state.plane.x + (screen?.column ?? 0), state.plane.y + (screen?.row ?? 0), dim);
      case 'seed': {
        const seed = offset === 0 ? state.seed : walkSeedAt(state.seed, offset);
        return { latent: seedToLatent(seed, dim), position: { seeds: [seed, seed], t: 0 } };
      }
    }
  }

  /** OSC feedback counts passes since the loop was entered; on cluster time `wrapped` counts from the epoch. */
  private countPasses(wrapped: number): void {
    this.loopEntry ??= wrapped;
    const passes = wrapped - this.loopEntry;
    // A longer period makes the count drop; only a count that grows is a new pass.
    if (passes > this.lastPasses) this.opts.onLoopWrap?.(passes);
    this.lastPasses = passes;
  }
}
