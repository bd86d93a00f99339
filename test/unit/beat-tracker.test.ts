/**
 * The beat tracker (server/audio/beat-tracker.ts) on synthetic onset times: beats at 120 and
 * 97 bpm with timing jitter, missing beats and extra hits between beats give the tempo within
 * 2 % and the beat phase within a few hundredths of a beat; a new tempo takes over within one
 * window; too few onsets give no estimate; the tempo folds into 60-180.
 */
import { describe, expect, it } from 'vitest';
import { BeatTracker, beatFraction, type BeatEstimate } from '../../server/audio/beat-tracker.js';
import { splitmix32 } from '../../common/random.js';

interface Beats {
  bpm: number;
  seconds: number;
  /** Standard deviation of each onset's timing error, ms. */
  jitterMs?: number;
  /** Share of beats with no onset. */
  missing?: number;
  /** Extra onsets at random times, as a share of the beats. */
  extra?: number;
  /** Where the first beat falls, ms. */
  start?: number;
  seed?: number;
}

/** Onset times (ms, sorted) for beats at `bpm`, roughened as asked. */
function onsets({ bpm, seconds, jitterMs = 0, missing = 0, extra = 0, start = 1_000_000, seed = 1 }: Beats): number[] {
  const random = splitmix32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const period = 60_000 / bpm;
  const out: number[] = [];
  const count = Math.floor((seconds * 1000) / period);
  for (let k = 0; k < count; k++) if (random() >= missing) out.push(start + k * period + jitterMs * normal());
  for (let k = 0; k < Math.round(count * extra); k++) out.push(start + random() * seconds * 1000);
  return out.sort((a, b) => a - b);
}

function track(times: number[], tracker = new BeatTracker()): BeatEstimate | null {
  for (const t of times) tracker.onset(t);
  return tracker.estimate(times.at(-1)! + 1);
}

/** Distance from `estimate`'s beat grid to the true grid, in beats (0..0.5). */
function phaseError(estimate: BeatEstimate, bpm: number, start: number, at: number): number {
  const truth = beatFraction({ bpm, anchor: start }, at);
  const mine = beatFraction(estimate, at);
  const d = Math.abs(truth - mine);
  return Math.min(d, 1 - d);
}

describe('beat tracker: tempo and phase from onset times', () => {
  const cases = [
    { bpm: 120, label: 'clean', jitterMs: 0, missing: 0, extra: 0 },
    { bpm: 120, label: 'jitter 15 ms, 15 % missing, 20 % extra', jitterMs: 15, missing: 0.15, extra: 0.2 },
    { bpm: 97, label: 'clean', jitterMs: 0, missing: 0, extra: 0 },
    { bpm: 97, label: 'jitter 15 ms, 15 % missing, 20 % extra', jitterMs: 15, missing: 0.15, extra: 0.2 },
  ];
  for (const c of cases) {
    it(`${c.bpm} bpm, ${c.label}: within 2 % over eight seeds, on the beat`, () => {
      const errors: number[] = [];
      const phases: number[] = [];
      const confidences: number[] = [];
      for (let seed = 1; seed <= 8; seed++) {
        const start = 1_000_000 + seed * 37;
        const times = onsets({ ...c, seconds: 10, start, seed });
        const e = track(times);
        expect(e, `seed ${seed}`).not.toBeNull();
        errors.push(Math.abs(e!.bpm - c.bpm) / c.bpm);
        phases.push(phaseError(e!, c.bpm, start, times.at(-1)!));
        confidences.push(e!.confidence);
      }
      const worst = Math.max(...errors);
      console.log(`beat tracker ${c.bpm} bpm ${c.label}: lowest confidence ${Math.min(...confidences).toFixed(2)}; worst tempo error ${(100 * worst).toFixed(2)} %, mean ${((100 * errors.reduce((a, b) => a + b, 0)) / errors.length).toFixed(2)} %; worst phase error ${Math.max(...phases).toFixed(3)} beat`);
      expect(worst).toBeLessThan(0.02);
      expect(Math.max(...phases)).toBeLessThan(0.08);
      expect(Math.min(...confidences)).toBeGreaterThan(0.3);
    });
  }

  it('hi-hats on every half beat as well as the kicks: still 120, not 240 folded down or 60', () => {
    const kicks = onsets({ bpm: 120, seconds: 10, jitterMs: 5 });
    const hats = onsets({ bpm: 240, seconds: 10, jitterMs: 5, seed: 2 });
    const e = track([...kicks, ...hats].sort((a, b) => a - b));
    expect(Math.abs(e!.bpm - 120)).toBeLessThan(2.4);
  });

  it('folds tempos outside 60-180: 200 bpm reads as 100, 300 as 150; 60 and 180 stay', () => {
    expect(Math.abs(track(onsets({ bpm: 200, seconds: 8 }))!.bpm - 100)).toBeLessThan(2);
    expect(Math.abs(track(onsets({ bpm: 300, seconds: 8 }))!.bpm - 150)).toBeLessThan(3);
    expect(Math.abs(track(onsets({ bpm: 60, seconds: 10 }))!.bpm - 60)).toBeLessThan(1.2);
    expect(Math.abs(track(onsets({ bpm: 180, seconds: 8 }))!.bpm - 180)).toBeLessThan(3.6);
  });

  it('a new tempo takes over within one window (8 s)', () => {
    const tracker = new BeatTracker();
    const first = onsets({ bpm: 120, seconds: 10, jitterMs: 10 });
    const second = onsets({ bpm: 97, seconds: 10, jitterMs: 10, start: first.at(-1)! + 500, seed: 3 });
    for (const t of first) tracker.onset(t);
    expect(Math.abs(tracker.estimate(first.at(-1)!)!.bpm - 120)).toBeLessThan(2.4);
    for (const t of second) tracker.onset(t);
    expect(Math.abs(tracker.estimate(second.at(-1)!)!.bpm - 97)).toBeLessThan(1.94);
  });

  it('too few onsets, or none lately, give no estimate; random hits give a low confidence', () => {
    const tracker = new BeatTracker();
    const times = onsets({ bpm: 120, seconds: 3 });
    for (const t of times) tracker.onset(t);
    expect(tracker.estimate(times.at(-1)!)).toBeNull();
    const full = onsets({ bpm: 120, seconds: 8 });
    for (const t of full) tracker.onset(t);
    expect(tracker.estimate(full.at(-1)!)).not.toBeNull();
    expect(tracker.estimate(full.at(-1)! + 9000)).toBeNull();
    // Hits at random times: no grid fits them better than chance.
    const confidences = [8, 16, 32].flatMap((count) =>
      [1, 2, 3, 4, 5].map((seed) => {
        const random = splitmix32(seed * 100 + count);
        return track(Array.from({ length: count }, () => 1_000_000 + random() * 8000).sort((a, b) => a - b))!.confidence;
      }),
    );
    expect(Math.max(...confidences)).toBeLessThan(0.2);
  });

  it('a double trigger (two onsets 20 ms apart) counts once', () => {
    const tracker = new BeatTracker();
    tracker.onset(1000);
    tracker.onset(1020);
    tracker.onset(1500);
    expect(tracker.recent).toEqual([1000, 1500]);
  });
});
