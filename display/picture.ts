/**
 * What the screen shows: a blend from the picture that was visible to the newest
 * frame. When a frame arrives, even halfway through a blend, the visible picture is
 * first frozen into a snapshot, which becomes the new starting picture; so nothing
 * ever pops, whatever the timing. Only the newest frame's texture is kept; every
 * older one is released the moment it has been snapshotted. Brightness is separate
 * from the blend: it dims the whole screen (waiting, blackout) and never enters a snapshot.
 */
import type { Texture } from 'three';
import type { Stage } from './scene.js';
import { Tween } from './tween.js';
import { blackTexture, releaseFrameTexture, Snapshots } from './texture.js';

export class Picture {
  private readonly blend = new Tween(1);
  private readonly brightness = new Tween(1);
  private readonly snapshots = new Snapshots();
  private readonly black: Texture = blackTexture();
  private newest: Texture | null = null;

  constructor(private readonly stage: Stage) {
    stage.uniforms.uFrom.value = this.black;
    stage.uniforms.uTo.value = this.black;
  }

  /** Starts a blend from what is on screen at `now` to `texture`, lasting `durationMs`. Takes ownership of the texture. */
  show(texture: Texture, width: number, height: number, durationMs: number, now: number): void {
    const { uniforms } = this.stage;
    this.advance(now);
    const snapshot = this.snapshots.take(width, height);
    this.stage.renderInto(snapshot);
    uniforms.uFrom.value = snapshot.texture;

    if (this.newest) releaseFrameTexture(this.newest);
    this.newest = texture;
    this.stage.upload(texture);
    uniforms.uTo.value = texture;
    this.stage.setPictureSize(width, height);

    this.blend.set(0);
    this.blend.go(1, durationMs, now);
    this.apply();
  }

  /** Moves the brightness to `level` (1 = as sent, 0 = black) over `durationMs`, from wherever it is now. */
  fadeTo(level: number, durationMs: number, now: number): void {
    if (this.brightness.target !== level) this.brightness.go(level, durationMs, now);
  }

  /** Moves the blend and the brightness to `now`; returns true while either is still moving. */
  advance(now: number): boolean {
    const blending = this.blend.update(now);
    const dimming = this.brightness.update(now);
    this.apply();
    return blending || dimming;
  }

  get hasPicture(): boolean {
    return this.newest !== null;
  }

  dispose(): void {
    if (this.newest) releaseFrameTexture(this.newest);
    this.newest = null;
    this.snapshots.dispose();
    this.black.dispose();
  }

  private apply(): void {
    this.stage.uniforms.uMix.value = this.blend.value;
    this.stage.uniforms.uDim.value = this.brightness.value;
  }
}
