/**
 * Where the random walk is at a given cluster time, the same on every node of a wall.
 * A single node integrates phase += speed x dt frame by frame; two nodes doing that
 * drift apart (different start times, different skipped frames). Here the phase is a
 * function of cluster time and an anchor: phase = phase0 + speed x (t - t0).
 *
 * - With no change of speed since the walk's seed was set, the anchor is the epoch
 *   (phase = speed x cluster seconds): every node, however late it joined, agrees exactly.
 *   A new seed is a new random sequence, so starting it mid-way costs nothing; the glide
 *   morphs to it as it does on one node.
 * - A speed change moves the anchor to the first slot rendered with the new speed, keeping
 *   the face where it was (no jump). Nodes that see the change in the same slot agree
 *   exactly; one slot apart they differ by (old - new speed) x one period (0.15 faces/s at
 *   30 fps: 0.005 faces, invisible after the glide). A node started after a speed change
 *   cannot know the old anchor and agrees again at the next seed change (docs/cluster.md).
 */
/** phase = phase0 + speed x (t - t0) / 1000, for the walk from `seed`. */
export interface Anchor {
  seed: number;
  speed: number;
  phase0: number;
  t0: number;
}

export class WalkAnchor {
  private anchor: Anchor | null = null;

  /** `onChange`: a new anchor was set here (the seed or the speed changed); the cluster offers it to the others. */
  constructor(private readonly onChange?: (anchor: Anchor) => void) {}

  /** The walk's phase (faces travelled) at cluster time `ms`, for the live seed and speed. */
  phaseAt(seed: number, speed: number, ms: number): number {
    const a = this.anchor;
    if (!a || seed !== a.seed) this.set({ seed, speed, phase0: 0, t0: 0 });
    else if (speed !== a.speed) this.set({ seed, speed, phase0: a.phase0 + (a.speed * (ms - a.t0)) / 1000, t0: ms });
    const now = this.anchor!;
    return now.phase0 + (now.speed * (ms - now.t0)) / 1000;
  }

  /** Takes the cluster's anchor, if it is still for the walk in use here. */
  adopt(anchor: Anchor): void {
    if (this.anchor && anchor.seed === this.anchor.seed && anchor.speed === this.anchor.speed) this.anchor = { ...anchor };
  }

  private set(anchor: Anchor): void {
    this.anchor = anchor;
    this.onChange?.({ ...anchor });
  }
}
