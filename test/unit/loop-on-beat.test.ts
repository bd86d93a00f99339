/**
 * Keyframes on the beat (state.loop.onBeat, server/stages/latent.ts): frames made at 30 fps
 * from the store's snapshots with the modulator's beat (Modulator.withBeat, as the server's
 * frame loop takes them) change from one keyframe to the next within one frame of a beat, at
 * 120 and at 97 bpm; each keyframe lasts loop.period / seeds rounded to whole beats; the beat
 * is looked ahead by the glide; a tempo change mid-loop keeps the changes on the beat; without
 * onBeat the loop runs on seconds as before.
 */
import { describe, expect, it } from 'vitest';
import { modulationProblem } from '../../common/modulation-targets.js';
import type { StatePatch } from '../../common/state.js';
import { Modulator } from '../../server/modulation/modulator.js';
import { LatentStage } from '../../server/stages/latent.js';
import { newJob } from '../../server/stages/stage.js';
import { Store } from '../../server/store.js';

const FPS = 30;
const FRAME_MS = 1000 / FPS;

/** Frames for `seconds`: the modulator ticks at ~30 Hz on its own timer phase, frames at 30 fps; returns each frame's time, beat and keyframe pair. */
function film(patch: StatePatch, seconds: number, during?: (t: number, store: Store) => void) {
  let now = 1_000_000;
  const store = new Store({ validate: modulationProblem });
  const ack = store.apply(patch, 'http');
  expect(ack.ok, ack.ok ? '' : ack.error).toBe(true);
  const modulator = new Modulator(store, { clock: () => now });
  const stage = new LatentStage({ dim: 16, clock: () => now });
  const frames: { t: number; beat: number; pair: string }[] = [];
  let nextTick = now;
  let frame = 0;
  const start = now;
  for (let t = 0; t <= seconds * 1000; t += 1) {
    now = start + t;
    during?.(t, store);
    if (now >= nextTick) {
      modulator.tick();
      nextTick += 33; // the modulator's own period, not the frames'
    }
    if (t >= frame * FRAME_MS) {
      frame++;
      const job = newJob(frame, modulator.withBeat(store.snapshot()));
      stage.run(job);
      frames.push({ t, beat: job.snapshot.tempo!.beat, pair: job.meta.seeds.join('>') });
    }
  }
  return { frames, store, modulator };
}

/**
 * The frames where the keyframe pair changed: each one's beat (plus `lead`), how far past a whole
 * beat it is, and whether it is the first frame after that beat (the frame before it came before
 * the beat): a change within one frame of the beat.
 */
function changes(frames: { t: number; beat: number; pair: string }[], lead = 0) {
  const out: { t: number; beat: number; after: number; firstAfterBeat: boolean }[] = [];
  for (let i = 1; i < frames.length; i++) {
    if (frames[i]!.pair === frames[i - 1]!.pair) continue;
    const beat = frames[i]!.beat + lead;
    const before = frames[i - 1]!.beat + lead;
    out.push({ t: frames[i]!.t, beat, after: beat - Math.floor(beat), firstAfterBeat: Math.floor(beat) > before });
  }
  return out;
}

describe('keyframes on the beat (loop.onBeat)', () => {
  for (const bpm of [120, 97]) {
    it(`at ${bpm} bpm each keyframe change lands within one frame after a beat, and lasts whole beats`, () => {
      // 4 keyframes in 8 s: 2 s each = 4 beats at 120, 3.23 -> 3 beats at 97.
      const { frames } = film({ mode: 'loop', glide: 0, loop: { seeds: [11, 12, 13, 14], period: 8, onBeat: true }, modulation: { bpm } }, 20);
      const found = changes(frames);
      const frameBeats = (FRAME_MS / 1000) * (bpm / 60);
      const beatsPerKey = Math.max(1, Math.round(8 / 4 / (60 / bpm)));
      console.log(`${bpm} bpm: ${found.length} keyframe changes, ${beatsPerKey} beats each; latest after its beat ${Math.max(...found.map((c) => c.after)).toFixed(3)} beat (one frame = ${frameBeats.toFixed(3)} beat)`);
      expect(found.length).toBeGreaterThanOrEqual(Math.floor((20 * bpm) / 60 / beatsPerKey) - 1);
      for (const c of found) {
        expect(c.firstAfterBeat, `change at ${c.t} ms, beat ${c.beat.toFixed(3)}`).toBe(true);
        expect(c.after).toBeLessThan(1.05 * frameBeats);
      }
      // Whole beats between changes: beatsPerKey each.
      const gaps = found.slice(1).map((c, i) => Math.round(c.beat - found[i]!.beat));
      expect(new Set(gaps)).toEqual(new Set([beatsPerKey]));
      // And the keyframes come in order, round the loop.
      expect(frames.at(-1)!.pair).toMatch(/^1[1-4]>1[1-4]$/);
    });
  }

  it('the beat is looked ahead by the glide, so the gliding face arrives on the beat', () => {
    const bpm = 120;
    const { frames } = film({ mode: 'loop', glide: 0.6, loop: { seeds: [1, 2, 3], period: 3, onBeat: true }, modulation: { bpm } }, 12);
    const lead = (0.6 * bpm) / 60;
    const found = changes(frames, lead);
    expect(found.length).toBeGreaterThan(8);
    for (const c of found) expect(c.firstAfterBeat).toBe(true);
  });

  it('a tempo change mid-loop: the keyframe in progress finishes, the next ones last the new whole beats, all on the beat', () => {
    const { frames } = film({ mode: 'loop', glide: 0, loop: { seeds: [5, 6, 7, 8], period: 8, onBeat: true }, modulation: { bpm: 120 } }, 24, (t, store) => {
      if (t === 7000) store.apply({ modulation: { bpm: 97 } }, 'osc');
    });
    const found = changes(frames);
    for (const c of found) expect(c.firstAfterBeat).toBe(true);
    const gaps = found.slice(1).map((c, i) => Math.round(c.beat - found[i]!.beat));
    expect(gaps.slice(0, 2)).toEqual([4, 4]);
    expect(gaps.slice(-3)).toEqual([3, 3, 3]);
  });

  it('without onBeat the loop runs on seconds: changes every period / seeds seconds from the start', () => {
    const { frames } = film({ mode: 'loop', glide: 0, loop: { seeds: [1, 2, 3, 4], period: 4.4, onBeat: false }, modulation: { bpm: 120 } }, 9);
    const times = changes(frames).map((c) => c.t);
    expect(times.length).toBe(8);
    times.forEach((t, i) => expect(Math.abs(t - (i + 1) * 1100)).toBeLessThanOrEqual(FRAME_MS + 1));
  });

  it('switching onBeat on and off mid-loop carries on from the keyframe reached', () => {
    const seen: string[] = [];
    const { frames } = film({ mode: 'loop', glide: 0, loop: { seeds: [1, 2, 3, 4, 5, 6], period: 6, onBeat: false }, modulation: { bpm: 120 } }, 9, (t, store) => {
      if (t === 2500) store.apply({ loop: { onBeat: true } }, 'osc');
      if (t === 6000) store.apply({ loop: { onBeat: false } }, 'osc');
    });
    for (const f of frames) if (seen.at(-1) !== f.pair) seen.push(f.pair);
    // Never backwards or skipping: each pair follows the last.
    for (let i = 1; i < seen.length; i++) expect(Number(seen[i]!.split('>')[0])).toBe(Number(seen[i - 1]!.split('>')[1]));
  });
});
