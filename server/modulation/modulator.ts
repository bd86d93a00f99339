/**
 * Runs the modulation matrix (state.modulation, common/modulation.ts) about 30 times a
 * second: reads the sources (the LFOs and the beat from the tempo, the audio values fed over
 * OSC), smooths each route, and writes the routed parameters into the store like any other
 * change (source 'system', origin 'modulation'), so the frames, the displays, OSC feedback
 * and OSCQuery listeners all see the modulated values.
 *
 * The VJ's own setting of a routed parameter is its base: a change to it from anyone else
 * (OSC, HTTP, a preset) becomes the new base, and the routes move the parameter from there.
 * When a route goes, its parameter returns to its base.
 *
 * The tempo (state.modulation.bpm) drives the beat counter the LFOs and the beat source read.
 * It is set by hand (taps, OSC, HTTP) or, with modulation.tempoFrom, followed: 'audio' runs a
 * beat tracker (server/audio/beat-tracker.ts) on the onsets of the audio input and of
 * /portraits/audio/onset, writes the tempo when it moves by more than BPM_STEP and pulls the
 * beat's phase onto the onsets; 'link' follows an Ableton Link session (server/modulation/link.ts)
 * and sends the tempo set here to it.
 */
import { applyCurve, beatPulse, follow, lfoValue, type ModSource, type ModulationMeters, type Route } from '../../common/modulation.js';
import { modulatedValue } from '../../common/modulation.js';
import { BeatTracker, beatFraction, type BeatEstimate } from '../audio/beat-tracker.js';
import type { BeatClock, StateSnapshot } from '../stages/stage.js';
import { modulationTarget, readTarget } from '../../common/modulation-targets.js';
import { parameterPatch } from '../../common/parameters.js';
import { mergeState, type LiveState, type StatePatch } from '../../common/state.js';
import { logger } from '../log.js';
import type { Source, Store } from '../store.js';

const log = logger('modulation');
export const MODULATION_ORIGIN = 'modulation';
/** An audio value fed over OSC counts for this long; then the source falls back to 0 (the analyser stopped). */
const EXTERNAL_TTL_MS = 2000;
/** Taps further apart than this start a new tempo. */
const TAP_GAP_MS = 3000;
/** Changes smaller than this are not written (no state version for a value that did not move). */
const EPSILON = 1e-5;
/** The origin of tempo changes the modulator makes itself (tracked from audio, or from Link). */
export const TEMPO_ORIGIN = 'tempo';
/** A tracked tempo is written when it is this far from the state's (no flood of state versions for jitter). */
const BPM_STEP = 0.5;
/** The beat tracker's confidence (0..1, above chance) from which its tempo and phase are followed. */
const MIN_CONFIDENCE = 0.3;
/** Seconds over which the beat's phase is pulled onto the tracked (or Link's) beat: no jumps in the LFOs. */
const PHASE_TAU_S = 0.25;
/** An onset fed over OSC is a value reaching ONSET_LEVEL after one below it, or after no value for ONSET_GAP_MS. */
const ONSET_LEVEL = 0.5;
const ONSET_GAP_MS = 150;

/** An Ableton Link session as the modulator uses it (server/modulation/link.ts). */
export interface TempoLink {
  /** The session's tempo and beat (quantum 4) at a wall-clock time, or null before the first reading. */
  reading(): { bpm: number; beat: number; at: number; peers: number } | null;
  setTempo(bpm: number): void;
  close(): void;
}

export interface ModulatorOptions {
  /** Milliseconds between updates (default 33: the frame rate). */
  periodMs?: number;
  clock?: () => number;
  /** Joins an Ableton Link session (starting one at `bpm` if it is the first peer) when tempoFrom becomes 'link', or says why it cannot. */
  openLink?: (bpm: number) => TempoLink | { unavailable: string };
}

export class Modulator {
  private readonly bases = new Map<string, number>();
  private readonly written = new Map<string, number>();
  private readonly envelopes = new Map<string, number>();
  private readonly external = new Map<ModSource, { value: number; at: number }>();
  private beat = 0;
  /** Each route's offset at the last tick (amount x curve(smoothed source)), for the VJ page's meters. */
  private effects: number[] = [];
  private readonly taps: number[] = [];
  private readonly tracker = new BeatTracker();
  private onsetLevel = 0;
  private onsetFedAt = -Infinity;
  private link: TempoLink | null = null;
  private linkProblem: string | null = null;
  /** The tempo last written from Link or sent to it (a change from anyone else goes to the session). */
  private linkBpm: number | null = null;
  private lastTick: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;
  private readonly clock: () => number;

  constructor(
    private readonly store: Store,
    private readonly opts: ModulatorOptions = {},
  ) {
    this.clock = opts.clock ?? Date.now;
    this.unsubscribe = store.subscribe((state, _version, _source, origin) => {
      if (origin !== MODULATION_ORIGIN) this.noteBases(state);
      if (origin !== TEMPO_ORIGIN) this.noteTempo(state);
    });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.periodMs ?? 33);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  close(): void {
    this.stop();
    this.unsubscribe();
    this.leaveLink();
  }

  /**
   * A source value from the audio input or an outside analyser (OSC), 0..1; non-numbers are
   * ignored. `at` (ms on the modulator's clock, default now) is when it was heard. An onset
   * pulse ('audio.onset' reaching ONSET_LEVEL) also goes to the beat tracker.
   */
  feed(source: ModSource, value: number, at = this.clock()): void {
    if (!Number.isFinite(value)) return;
    const v = Math.min(1, Math.max(0, value));
    this.external.set(source, { value: v, at: this.clock() });
    if (source !== 'audio.onset') return;
    if (v >= ONSET_LEVEL && (this.onsetLevel < ONSET_LEVEL || at - this.onsetFedAt > ONSET_GAP_MS)) this.tracker.onset(at);
    this.onsetLevel = v;
    this.onsetFedAt = at;
  }

  /** The beat tracker's view of the recent onsets (what tempoFrom 'audio' follows when it is sure). */
  trackedTempo(now = this.clock()): BeatEstimate | null {
    return this.tracker.estimate(now);
  }

  /** Where the beat is now, for the frames (the latent stage's keyframes on the beat): StateSnapshot.tempo. */
  beatClock(now = this.clock()): BeatClock {
    const bpm = this.store.state.modulation.bpm;
    const since = this.lastTick === null ? 0 : Math.max(0, now - this.lastTick);
    return { beat: this.beat + (since * bpm) / 60_000, at: now, bpm };
  }

  /** A frame's snapshot with the beat (StateSnapshot.tempo). */
  withBeat(snapshot: StateSnapshot, now = this.clock()): StateSnapshot {
    return Object.freeze({ ...snapshot, tempo: Object.freeze(this.beatClock(now)) });
  }

  /**
   * Tap tempo: the tempo becomes the mean interval of the taps in a run (taps less than
   * TAP_GAP_MS apart; a longer pause starts a new run), from the second tap on. Returns the
   * new tempo, or null for a run's first tap.
   */
  tap(source: Source = 'osc', origin?: string): number | null {
    const now = this.clock();
    const last = this.taps.at(-1);
    if (last === undefined || now - last > TAP_GAP_MS) this.taps.length = 0;
    this.taps.push(now);
    if (this.taps.length > 8) this.taps.shift();
    if (this.taps.length < 2) return null;
    const bpm = Math.min(300, Math.max(20, (60_000 * (this.taps.length - 1)) / (now - this.taps[0]!)));
    const ack = this.store.apply({ modulation: { bpm } }, source, origin);
    if (!ack.ok) return null;
    this.beat = Math.round(this.beat); // the tap is on the beat
    return bpm;
  }

  /** `state` with every routed parameter at the value the VJ set (its base): what a preset saves. */
  unmodulated(state: Readonly<LiveState>): Readonly<LiveState> {
    if (this.bases.size === 0) return state;
    return mergeState(state as LiveState, parameterPatch(this.bases) as StatePatch);
  }

  /** The beat position (beats since start), for the VJ page and tests. */
  get beats(): number {
    return this.beat;
  }

  /** What the VJ page's meters show: every source, each route's effect, and the VJ's values under the routes. */
  meters(now = this.clock()): ModulationMeters {
    const state = this.store.state;
    const tracked = this.trackedTempo(now);
    return {
      beat: this.beat,
      bpm: state.modulation.bpm,
      sources: this.sources(state, now),
      routes: [...this.effects],
      bases: Object.fromEntries(this.bases),
      tracked: tracked ? { bpm: tracked.bpm, confidence: tracked.confidence } : null,
    };
  }

  /** Each source's current value, 0..1. */
  sources(state: Readonly<LiveState> = this.store.state, now = this.clock()): Record<ModSource, number> {
    const m = state.modulation;
    const outside = (s: ModSource) => {
      const fed = this.external.get(s);
      return fed && now - fed.at <= EXTERNAL_TTL_MS ? fed.value : 0;
    };
    return {
      lfo1: lfoValue(m.lfos[0]!, this.beat, 1),
      lfo2: lfoValue(m.lfos[1]!, this.beat, 2),
      lfo3: lfoValue(m.lfos[2]!, this.beat, 3),
      lfo4: lfoValue(m.lfos[3]!, this.beat, 4),
      beat: beatPulse(this.beat),
      'audio.level': outside('audio.level'),
      'audio.low': outside('audio.low'),
      'audio.mid': outside('audio.mid'),
      'audio.high': outside('audio.high'),
      'audio.onset': outside('audio.onset'),
    };
  }

  /** One update: advance the tempo, follow the sources, write what moved. */
  tick(now = this.clock()): void {
    const dt = this.lastTick === null ? 0 : Math.min(1, Math.max(0, (now - this.lastTick) / 1000));
    this.lastTick = now;
    this.beat += (dt * this.store.state.modulation.bpm) / 60;
    this.followTempo(now, dt);
    const state = this.store.state;
    const routes = state.modulation.routes;
    const values = this.sources(state, now);
    const offsets = new Map<string, number>();
    const live = new Set<string>();
    this.effects = routes.map((route, i) => {
      if (!modulationTarget(route.target)) return 0; // the store refuses these; an old preset may still hold one
      const key = routeKey(route, i);
      live.add(key);
      const env = follow(this.envelopes.get(key) ?? 0, values[route.source], dt, route.attack, route.release);
      this.envelopes.set(key, env);
      const effect = route.amount * applyCurve(route.curve, env);
      offsets.set(route.target, (offsets.get(route.target) ?? 0) + effect);
      return effect;
    });
    for (const key of [...this.envelopes.keys()]) if (!live.has(key)) this.envelopes.delete(key);

    const patch = new Map<string, number>();
    for (const [path, offset] of offsets) {
      const target = modulationTarget(path)!;
      if (!this.bases.has(path)) this.bases.set(path, readTarget(state, path));
      const value = modulatedValue(this.bases.get(path)!, target, offset);
      if (Math.abs(value - readTarget(state, path)) > EPSILON) patch.set(path, value);
    }
    // A parameter no route drives any more goes back to the VJ's value.
    for (const [path, base] of [...this.bases]) {
      if (offsets.has(path)) continue;
      this.bases.delete(path);
      this.written.delete(path);
      if (Math.abs(base - readTarget(state, path)) > EPSILON) patch.set(path, base);
    }
    if (patch.size === 0) return;
    const ack = this.store.apply(parameterPatch(patch), 'system', MODULATION_ORIGIN);
    if (ack.ok) for (const [path, value] of patch) this.written.set(path, value);
    else log.warn({ error: ack.error }, 'modulated values refused');
  }

  /** tempoFrom 'audio' or 'link': the tempo and the beat's phase follow the tracker or the Link session. */
  private followTempo(now: number, dt: number): void {
    const from = this.store.state.modulation.tempoFrom;
    if (from === 'link') return this.followLink(now, dt);
    if (this.link) this.leaveLink();
    if (from !== 'audio') return;
    const estimate = this.tracker.estimate(now);
    if (!estimate || estimate.confidence < MIN_CONFIDENCE) return;
    if (Math.abs(estimate.bpm - this.store.state.modulation.bpm) > BPM_STEP) {
      const ack = this.store.apply({ modulation: { bpm: Math.round(estimate.bpm * 100) / 100 } }, 'system', TEMPO_ORIGIN);
      if (ack.ok) log.info({ bpm: Math.round(estimate.bpm * 10) / 10, confidence: Math.round(estimate.confidence * 100) / 100 }, 'tempo from the audio');
    }
    this.pullPhase(beatFraction(estimate, now), 1, dt);
  }

  private followLink(now: number, dt: number): void {
    if (!this.link) {
      if (this.linkProblem !== null) return;
      const opened = this.opts.openLink?.(this.store.state.modulation.bpm) ?? { unavailable: 'this server runs without Ableton Link' };
      if ('unavailable' in opened) {
        this.linkProblem = opened.unavailable;
        log.warn({ problem: opened.unavailable }, 'tempoFrom link: Ableton Link is unavailable; the tempo stays as set by hand');
        return;
      }
      // Alone, the session starts at this tempo; with peers, it keeps theirs.
      this.link = opened;
      this.linkBpm = this.store.state.modulation.bpm;
      log.info('tempoFrom link: joining the Ableton Link session');
    }
    const reading = this.link.reading();
    if (!reading) return;
    const bpm = Math.min(300, Math.max(20, Math.round(reading.bpm * 1000) / 1000));
    if (Math.abs(bpm - this.store.state.modulation.bpm) > 0.005) {
      this.linkBpm = bpm;
      this.store.apply({ modulation: { bpm } }, 'system', TEMPO_ORIGIN);
    }
    // Link's beat now, within its bar of 4: LFOs of 1, 2 and 4 beats line up with the session's bars.
    const linkBeat = reading.beat + ((now - reading.at) * reading.bpm) / 60_000;
    this.pullPhase(((linkBeat % 4) + 4) % 4, 4, dt);
  }

  private leaveLink(): void {
    this.link?.close();
    this.link = null;
    this.linkBpm = null;
  }

  /**
   * Moves the beat counter toward `target` modulo `cycle` beats (the tracked beat's fraction, or
   * Link's place in the bar) the shorter way, a share of the gap each tick: the LFOs bend, they
   * do not jump. A gap of more than a beat (joining a Link session) is closed at once.
   */
  private pullPhase(target: number, cycle: number, dt: number): void {
    const here = ((this.beat % cycle) + cycle) % cycle;
    let gap = target - here;
    gap -= cycle * Math.round(gap / cycle);
    if (Math.abs(gap) < 1e-6) return;
    this.beat += Math.abs(gap) > 1 ? gap : gap * (1 - Math.exp(-dt / PHASE_TAU_S));
  }

  /** A tempo set by hand (tap, OSC, HTTP, a preset) goes to the Link session; choosing tempoFrom again retries Link. */
  private noteTempo(state: Readonly<LiveState>): void {
    if (state.modulation.tempoFrom !== 'link') this.linkProblem = null;
    if (this.link && state.modulation.tempoFrom === 'link' && state.modulation.bpm !== this.linkBpm) {
      this.linkBpm = state.modulation.bpm;
      this.link.setTempo(state.modulation.bpm);
    }
  }

  /** Someone other than the matrix changed the state: a routed parameter that moved has a new base. */
  private noteBases(state: Readonly<LiveState>): void {
    for (const path of this.bases.keys()) {
      const value = readTarget(state, path);
      const mine = this.written.get(path);
      if (mine === undefined || Math.abs(value - mine) > EPSILON) {
        this.bases.set(path, value);
        this.written.delete(path);
      }
    }
  }
}

/** A route's smoothing state survives edits to its amount or curve, not a change of what it connects. */
const routeKey = (route: Route, i: number) => `${i}:${route.source}>${route.target}`;
