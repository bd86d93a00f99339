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
 */
import { applyCurve, beatPulse, follow, lfoValue, type ModSource, type ModulationMeters, type Route } from '../../common/modulation.js';
import { modulatedValue } from '../../common/modulation.js';
import { modulationTarget, readTarget, targetPatch } from '../../common/modulation-targets.js';
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

export interface ModulatorOptions {
  /** Milliseconds between updates (default 33: the frame rate). */
  periodMs?: number;
  clock?: () => number;
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
  }

  /** A source value from outside (an audio analyser over OSC), 0..1; non-numbers are ignored. */
  feed(source: ModSource, value: number): void {
    if (!Number.isFinite(value)) return;
    this.external.set(source, { value: Math.min(1, Math.max(0, value)), at: this.clock() });
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
    return mergeState(state as LiveState, targetPatch(this.bases) as StatePatch);
  }

  /** The beat position (beats since start), for the VJ page and tests. */
  get beats(): number {
    return this.beat;
  }

  /** What the VJ page's meters show: every source, each route's effect, and the VJ's values under the routes. */
  meters(now = this.clock()): ModulationMeters {
    const state = this.store.state;
    return { beat: this.beat, bpm: state.modulation.bpm, sources: this.sources(state, now), routes: [...this.effects], bases: Object.fromEntries(this.bases) };
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
    const state = this.store.state;
    const dt = this.lastTick === null ? 0 : Math.min(1, Math.max(0, (now - this.lastTick) / 1000));
    this.lastTick = now;
    this.beat += (dt * state.modulation.bpm) / 60;
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
    const ack = this.store.apply(targetPatch(patch), 'system', MODULATION_ORIGIN);
    if (ack.ok) for (const [path, value] of patch) this.written.set(path, value);
    else log.warn({ error: ack.error }, 'modulated values refused');
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
