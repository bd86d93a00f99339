/**
 * The modulation matrix (issue 20): routes from sources (LFOs synced to a tempo, the beat,
 * audio analysis fed over OSC) to any numeric live parameter, each with an amount, an
 * attack/release smoothing and a curve. This file holds the schemas (part of the live state,
 * common/state.ts) and the arithmetic, shared by the server (server/modulation/) and pages.
 *
 * Every source reads 0..1. A route moves its target from the value the VJ set (the base) by
 * amount x the target's range x curve(smoothed source), and the result is clamped to the
 * target's range: no amount can push a parameter out of bounds.
 */
import { z } from './zod.js';
import { hashSeeds, splitmix32 } from './random.js';

/** Four LFOs, the beat (a pulse on each beat of the tempo) and the audio analysis. */
export const MOD_SOURCES = ['lfo1', 'lfo2', 'lfo3', 'lfo4', 'beat', 'audio.level', 'audio.low', 'audio.mid', 'audio.high', 'audio.onset'] as const;
export type ModSource = (typeof MOD_SOURCES)[number];

export const MOD_CURVES = ['linear', 'exp', 'log', 'smooth'] as const;
export type ModCurve = (typeof MOD_CURVES)[number];

export const LFO_SHAPES = ['sine', 'triangle', 'saw', 'square', 'random'] as const;

/** Where the tempo comes from: set by hand (taps, OSC, HTTP), tracked from the audio's onsets, or an Ableton Link session. */
export const TEMPO_SOURCES = ['manual', 'audio', 'link'] as const;
export type TempoSource = (typeof TEMPO_SOURCES)[number];

export const RouteSchema = z
  .object({
    source: z.enum(MOD_SOURCES),
    /** A numeric live parameter by its dotted path, e.g. "dream.strength" (common/modulation-targets.ts lists them). */
    target: z.string().regex(/^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)?$/, 'a dotted state path such as dream.strength'),
    /** Share of the target's range the source at 1 adds (negative subtracts). */
    amount: z.number().min(-1).max(1),
    /** Seconds the smoothing takes to follow a rising / falling source (0: at once). */
    attack: z.number().min(0).max(10),
    release: z.number().min(0).max(10),
    curve: z.enum(MOD_CURVES),
  })
  .strict();
export type Route = z.infer<typeof RouteSchema>;

export const LfoSchema = z
  .object({
    shape: z.enum(LFO_SHAPES),
    /** Period in beats of the tempo (0.25 = four cycles a beat, 16 = four bars of 4/4). */
    beats: z.number().min(0.25).max(64),
    /** Where in its cycle the LFO is on beat 0, 0..1. */
    phase: z.number().min(0).max(1),
  })
  .strict();
export type Lfo = z.infer<typeof LfoSchema>;

export const ModulationSchema = z.object({
  /** At most 16 routes; several may share a target (their offsets add before the clamp). */
  routes: z.array(RouteSchema).max(16),
  lfos: z.array(LfoSchema).length(4),
  /** The tempo the LFOs and the beat follow, beats per minute (OSC /portraits/tempo, taps). */
  bpm: z.number().min(20).max(300),
  /** Where the tempo comes from (server/modulation/modulator.ts, docs/osc.md "Tempo"). */
  tempoFrom: z
    .enum(TEMPO_SOURCES)
    .describe(
      'modulation.tempoFrom: manual (taps, /portraits/tempo and modulation.bpm set it), audio (the beat tracker follows the onsets of the audio input or of /portraits/audio/onset, and sets bpm and the beat phase when it is sure), or link (an Ableton Link session on the local network; needs the optional abletonlink package)',
    ),
});
export type Modulation = z.infer<typeof ModulationSchema>;

export const DEFAULT_MODULATION: Modulation = {
  routes: [],
  lfos: [
    { shape: 'sine', beats: 4, phase: 0 },
    { shape: 'triangle', beats: 8, phase: 0 },
    { shape: 'saw', beats: 1, phase: 0 },
    { shape: 'random', beats: 2, phase: 0 },
  ],
  bpm: 120,
  tempoFrom: 'manual',
};

/** The matrix at one moment, for the VJ page's meters (sent to the VJ's sockets about 15 times a second). */
export interface ModulationMeters {
  /** Beats since the tempo started (fractional) and the tempo. */
  beat: number;
  bpm: number;
  /** Every source, 0..1. */
  sources: Record<ModSource, number>;
  /** Each route's offset (share of its target's range, amount x curve(smoothed source)), in route order. */
  routes: number[];
  /** The value the VJ set of each routed parameter (the routes move it from there). */
  bases: Record<string, number>;
  /** The beat tracker's reading of the recent onsets (tempoFrom 'audio' follows it when sure), or null without enough onsets. */
  tracked: { bpm: number; confidence: number } | null;
}

/** A curve maps 0..1 onto 0..1: exp slow then fast, log fast then slow, smooth eases both ends. */
export function applyCurve(curve: ModCurve, x: number): number {
  const v = x < 0 ? 0 : x > 1 ? 1 : x;
  switch (curve) {
    case 'exp':
      return v * v;
    case 'log':
      return Math.sqrt(v);
    case 'smooth':
      return v * v * (3 - 2 * v);
    default:
      return v;
  }
}

/** One step of a route's attack/release follower toward `input` over `dt` seconds. */
export function follow(previous: number, input: number, dt: number, attack: number, release: number): number {
  const time = input > previous ? attack : release;
  if (time <= 0 || dt >= 10 * time) return input;
  return previous + (input - previous) * (1 - Math.exp(-dt / time));
}

/** An LFO's value (0..1) at `beat` (beats since the tempo's origin, fractional). `seed` varies the random shape. */
export function lfoValue(lfo: Lfo, beat: number, seed = 0): number {
  const t = beat / lfo.beats + lfo.phase;
  const p = t - Math.floor(t);
  switch (lfo.shape) {
    case 'sine':
      return 0.5 - 0.5 * Math.cos(2 * Math.PI * p);
    case 'triangle':
      return p < 0.5 ? 2 * p : 2 - 2 * p;
    case 'saw':
      return p;
    case 'square':
      return p < 0.5 ? 1 : 0;
    default: {
      // Random-smooth: a new random level each cycle, eased from the last one.
      const cycle = Math.floor(t);
      const a = splitmix32(hashSeeds(seed, cycle))();
      const b = splitmix32(hashSeeds(seed, cycle + 1))();
      const e = p * p * (3 - 2 * p);
      return a + (b - a) * e;
    }
  }
}

/** The beat source: 1 on each beat, decaying to 0 by the next (an envelope a route can smooth further). */
export function beatPulse(beat: number): number {
  const p = beat - Math.floor(beat);
  return Math.exp(-6 * p);
}

/** The target's new value: base + amount x range x curve(x), clamped to [min, max]. Non-finite input keeps the base. */
export function modulatedValue(base: number, range: { min: number; max: number }, offsets: number): number {
  const v = base + offsets * (range.max - range.min);
  if (!Number.isFinite(v)) return Math.min(range.max, Math.max(range.min, Number.isFinite(base) ? base : range.min));
  return Math.min(range.max, Math.max(range.min, v));
}
