/**
 * Where the modulator's tempo comes from (state.modulation.tempoFrom, server/modulation/
 * modulator.ts) on a real store with a driven clock: 'audio' follows onsets fed as the audio
 * input feeds them (a pulse of 1 with the time it was heard) and as an outside analyser sends
 * them over OSC (pulses, or bare triggers), writes the tempo only when it moved by more than
 * half a bpm, and pulls the beat onto the onsets; 'manual' leaves the tempo to the VJ; 'link'
 * follows a Link session (a stand-in here; test/integration/tempo-link.test.ts uses the real
 * one) and sends the tempo set by hand to it.
 */
import { describe, expect, it } from 'vitest';
import { modulationProblem } from '../../common/modulation-targets.js';
import { StateSchema } from '../../common/state.js';
import { Modulator, type TempoLink } from '../../server/modulation/modulator.js';
import { Store } from '../../server/store.js';

function rig(tempoFrom: 'manual' | 'audio' | 'link', opts: { openLink?: (bpm: number) => TempoLink | { unavailable: string } } = {}) {
  let now = 5_000_000;
  const store = new Store({ validate: modulationProblem });
  const modulator = new Modulator(store, { clock: () => now, ...opts });
  expect(store.apply({ modulation: { tempoFrom } }, 'http').ok).toBe(true);
  const bpmWrites: number[] = [];
  store.subscribe((state, _v, _s, origin) => {
    if (origin === 'tempo') bpmWrites.push(state.modulation.bpm);
  });
  /** Runs `seconds` in 1 ms steps, the modulator ticking every 33 ms; `at(t)` is called each ms with the ms since this run's start. */
  const run = (seconds: number, at?: (t: number, now: number) => void) => {
    const start = now;
    for (let t = 0; t < seconds * 1000; t++) {
      now = start + t;
      at?.(t, now);
      if (t % 33 === 0) modulator.tick();
    }
  };
  return { store, modulator, run, bpmWrites, now: () => now };
}

/** The audio input's way: a pulse of 1 heard on each beat (reported a little later), decaying over the next hops; beats from the clock's origin. */
function kicks(bpm: number, heardLateMs = 40) {
  const period = 60_000 / bpm;
  return (modulator: Modulator) => (_t: number, now: number) => {
    const phase = now % period;
    if (phase >= heardLateMs && phase < heardLateMs + 1) modulator.feed('audio.onset', 1, now - heardLateMs);
    else if (phase >= heardLateMs + 23 && phase < heardLateMs + 24) modulator.feed('audio.onset', 0.68, now);
    else if (phase >= heardLateMs + 46 && phase < heardLateMs + 47) modulator.feed('audio.onset', 0.46, now);
  };
}

describe('tempo from the audio (tempoFrom audio)', () => {
  for (const bpm of [120, 97]) {
    it(`onsets at ${bpm} bpm set the tempo within 2 % in a few seconds, with few state versions, and the beat lands on the onsets`, () => {
      const { store, modulator, run, bpmWrites } = rig('audio');
      expect(store.state.modulation.bpm).toBe(120);
      const feed = kicks(bpm)(modulator);
      let settled: number | null = null;
      run(10, (t, now) => {
        feed(t, now);
        if (settled === null && Math.abs(store.state.modulation.bpm - bpm) / bpm < 0.02 && modulator.trackedTempo(now)) settled = t;
      });
      console.log(`tempoFrom audio, ${bpm} bpm: ${store.state.modulation.bpm} after 10 s (first within 2 % at ${settled} ms), ${bpmWrites.length} tempo writes`);
      expect(Math.abs(store.state.modulation.bpm - bpm) / bpm).toBeLessThan(0.02);
      expect(settled).not.toBeNull();
      expect(settled!).toBeLessThan(6000);
      expect(bpmWrites.length).toBeLessThanOrEqual(3);
      // The beat counter sits on the onsets: at an onset's time the beat is (nearly) whole.
      const period = 60_000 / bpm;
      const samples: number[] = [];
      run(4, (t, now) => {
        feed(t, now);
        if (now % period < 1) {
          const beat = modulator.beatClock(now).beat;
          samples.push(Math.abs(beat - Math.round(beat)));
        }
      });
      expect(Math.max(...samples)).toBeLessThan(0.05);
    });
  }

  it('manual: onsets are tracked but the tempo stays where the VJ set it', () => {
    const { store, modulator, run, bpmWrites } = rig('manual');
    store.apply({ modulation: { bpm: 133 } }, 'osc');
    const feed = kicks(97)(modulator);
    run(8, feed);
    expect(store.state.modulation.bpm).toBe(133);
    expect(bpmWrites).toEqual([]);
    expect(Math.abs(modulator.trackedTempo()!.bpm - 97)).toBeLessThan(1.94);
  });

  it('OSC onset pulses (1 then 0) and bare triggers (only 1s) both count as onsets; a held envelope counts once', () => {
    for (const style of ['pulse', 'trigger'] as const) {
      const { store, modulator, run } = rig('audio');
      const period = 60_000 / 97;
      run(9, (t) => {
        const phase = t % period;
        if (phase < 1) modulator.feed('audio.onset', 1);
        if (style === 'pulse' && phase >= 100 && phase < 101) modulator.feed('audio.onset', 0);
      });
      expect(Math.abs(store.state.modulation.bpm - 97), style).toBeLessThan(1.94);
    }
    // An analyser streaming its envelope at 60 Hz: the hit stays above 0.5 for 200 ms, one onset.
    const { modulator, run } = rig('audio');
    run(1, (t) => {
      if (t % 16 === 0) modulator.feed('audio.onset', t >= 100 && t < 300 ? 0.9 : 0.1);
    });
    expect(modulator.trackedTempo()).toBeNull();
  });

  it('random hits leave the tempo alone', () => {
    const { store, modulator, run, bpmWrites } = rig('audio');
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let next = 0;
    run(10, (t) => {
      if (t >= next) {
        modulator.feed('audio.onset', 1);
        modulator.feed('audio.onset', 0);
        next = t + 150 + random() * 700;
      }
    });
    expect(store.state.modulation.bpm).toBe(120);
    expect(bpmWrites).toEqual([]);
  });
});

describe('tempo from Ableton Link (tempoFrom link), with a stand-in session', () => {
  /** A session on the rig's clock: `origin` is when its beat 0 was. */
  function standIn(bpm: number, clock: () => number) {
    const session = { bpm, origin: 0, sent: [] as number[], closed: false };
    const link: TempoLink = {
      reading: () => ({ bpm: session.bpm, beat: ((clock() - session.origin) * session.bpm) / 60_000, at: clock(), peers: 1 }),
      setTempo: (b) => {
        session.sent.push(b);
        session.bpm = b;
      },
      close: () => void (session.closed = true),
    };
    return { session, link };
  }

  it("follows the session's tempo and bar, sends the tempo set by hand, and leaves when tempoFrom changes", () => {
    let clock = () => 0;
    const { session, link } = standIn(97, () => clock());
    const opened: number[] = [];
    const { store, modulator, run, now } = rig('manual', { openLink: (bpm) => (opened.push(bpm), link) });
    clock = now;
    session.origin = now() - 1234;
    store.apply({ modulation: { tempoFrom: 'link' } }, 'osc');
    run(2);
    expect(opened).toEqual([120]);
    expect(store.state.modulation.bpm).toBe(97);
    // The beat counter is on the session's beat within its bar of 4.
    const gap = (((modulator.beatClock().beat - link.reading()!.beat) % 4) + 4) % 4;
    expect(Math.min(gap, 4 - gap)).toBeLessThan(0.02);
    store.apply({ modulation: { bpm: 133 } }, 'osc');
    expect(session.sent).toEqual([133]);
    run(0.5);
    expect(store.state.modulation.bpm).toBe(133);
    store.apply({ modulation: { tempoFrom: 'manual' } }, 'osc');
    run(0.1);
    expect(session.closed).toBe(true);
  });

  it('without the abletonlink package: the tempo stays as set, and the schema still takes link', () => {
    const { store, run } = rig('manual', { openLink: () => ({ unavailable: 'not installed' }) });
    expect(store.apply({ modulation: { tempoFrom: 'link', bpm: 111 } }, 'osc').ok).toBe(true);
    run(1);
    expect(store.state.modulation.bpm).toBe(111);
    expect(StateSchema.shape.modulation.shape.tempoFrom.options).toEqual(['manual', 'audio', 'link']);
  });
});
