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
export class WalkAnchor {
  private seed: number | null = null;
  private speed = 0;
  private phase0 = 0;
  private t0 = 0;

  /** The walk's phase (faces travelled) at cluster time `ms`, for the live seed and speed. */
  phaseAt(seed: number, speed: number, ms: number): number {
    if (seed !== this.seed) {
      this.seed = seed;
      this.speed = speed;
      this.phase0 = 0;
      this.t0 = 0;
    } else if (speed !== this.speed) {
      this.phase0 += (this.speed * (ms - this.t0)) / 1000;
      this.t0 = ms;
      this.speed = speed;
    }
    return this.phase0 + (this.speed * (ms - this.t0)) / 1000;
  }
}
