/**
 * MIDI learn (issue 20 item 4): the VJ's knobs, faders and pads mapped to live parameters.
 * The mappings are part of the live state (VJ-only, saved with presets); this file holds
 * their schema, the decoding of raw MIDI bytes, and the mapper the VJ page runs on every
 * message from Web MIDI (vj/midi-input.ts). Tests feed it the same byte arrays a device sends.
 *
 * Soft takeover: a knob that was somewhere else when its parameter changed (a preset load, a
 * tablet, OSC) does nothing until it reaches the parameter's value, so nothing jumps.
 */
import { z } from './zod.js';

/** Control changes (knobs, faders), notes (pads, keys) and the pitch-bend wheel. */
export const MIDI_KINDS = ['cc', 'note', 'pitch'] as const;
export type MidiKind = (typeof MIDI_KINDS)[number];

export const MidiMappingSchema = z
  .object({
    kind: z.enum(MIDI_KINDS),
    /** 0-15 (MIDI channels 1-16). */
    channel: z.number().int().min(0).max(15),
    /** The controller or note number, 0-127 (0 for pitch bend). */
    number: z.number().int().min(0).max(127),
    /** The live parameter by its dotted path, e.g. "dream.strength" (midiTargets lists them). */
    target: z.string().regex(/^[a-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9_-]{0,31})?$/, 'a dotted state path such as dream.strength or directions.age'),
  })
  .strict();
export type MidiMapping = z.infer<typeof MidiMappingSchema>;

export const MidiSchema = z.object({
  /** At most 64 mappings; one control drives one parameter, one parameter has one control. */
  mappings: z.array(MidiMappingSchema).max(64),
});
export type MidiState = z.infer<typeof MidiSchema>;

export const DEFAULT_MIDI: MidiState = { mappings: [] };

/** One decoded message: which control, and where it is (0..1). */
export interface MidiEvent {
  kind: MidiKind;
  channel: number;
  number: number;
  /** 0..1: a CC's value / 127, a note-on's velocity / 127 (note-off: 0), pitch bend's 14 bits / 16383. */
  value: number;
  /** Note-on with velocity > 0 (pads toggle booleans on a press, not on the release). */
  press: boolean;
}

/**
 * Decodes one complete MIDI message (what Web MIDI's `midimessage` event carries). Only channel
 * messages the mapper can use are returned; clock, sysex, aftertouch and the rest give null.
 */
export function decodeMidi(bytes: ArrayLike<number>): MidiEvent | null {
  if (bytes.length < 3) return null;
  const status = bytes[0]!;
  const d1 = bytes[1]!;
  const d2 = bytes[2]!;
  if (status < 0x80 || status >= 0xf0 || d1 > 0x7f || d2 > 0x7f) return null;
  const type = status & 0xf0;
  const channel = status & 0x0f;
  switch (type) {
    case 0xb0:
      return { kind: 'cc', channel, number: d1, value: d2 / 127, press: false };
    case 0x90:
      // A note-on with velocity 0 is a note-off by the standard (running-status keyboards send it).
      return d2 > 0 ? { kind: 'note', channel, number: d1, value: d2 / 127, press: true } : { kind: 'note', channel, number: d1, value: 0, press: false };
    case 0x80:
      return { kind: 'note', channel, number: d1, value: 0, press: false };
    case 0xe0:
      return { kind: 'pitch', channel, number: 0, value: (d1 | (d2 << 7)) / 16383, press: false };
    default:
      return null;
  }
}

/** "CC 7 ch 1", "note 36 ch 10", "pitch ch 1": how the VJ page labels a control (channels 1-based, as on devices). */
export function controlLabel(c: Pick<MidiMapping, 'kind' | 'channel' | 'number'>): string {
  return c.kind === 'pitch' ? `pitch ch ${c.channel + 1}` : `${c.kind === 'cc' ? 'CC' : 'note'} ${c.number} ch ${c.channel + 1}`;
}

const sameControl = (a: Pick<MidiMapping, 'kind' | 'channel' | 'number'>, b: Pick<MidiMapping, 'kind' | 'channel' | 'number'>) =>
  a.kind === b.kind && a.channel === b.channel && a.number === b.number;

/** A parameter a control can drive: a number in a range (integers are rounded) or a switch. */
export type MidiTarget = { path: string; kind: 'float' | 'int'; min: number; max: number } | { path: string; kind: 'bool' };

/** A parameter's current value in the units the mapper compares: numbers as they are, switches 0/1. */
export type ReadParameter = (path: string) => number | boolean | undefined;

/** What the mapper asks for: a state patch to send, and why (for the page's log line). */
export type MidiAction = { kind: 'learned'; mappings: MidiMapping[]; mapping: MidiMapping } | { kind: 'set'; path: string; value: number | boolean } | { kind: 'waiting'; path: string; knob: number; value: number };

/** Within this share of the range a knob counts as having reached its parameter. */
export const TAKEOVER_WINDOW = 0.02;
/** Values a control set that still count as its own: a fader sends up to ~100 a second, a round trip is well under half a second. */
const RECENT = 48;

/**
 * Turns MIDI messages into parameter changes and learned mappings. It keeps no copy of the
 * mappings or values: each call is given the newest (from the state broadcasts), so a mapping
 * learned on one VJ page or loaded with a preset takes effect at once.
 */
export class MidiMapper {
  private armed: string | null = null;
  /**
   * Per mapped control: the values it set lately, newest last, and the knob's last position
   * (normalised 0..1). Lately, not last: the state the page reads lags its own changes by a
   * round trip, so a parameter at any of the control's recent values is still the control's.
   */
  private readonly held = new Map<string, { sent: number[]; knob: number | null }>();

  constructor(private readonly targets: (path: string) => MidiTarget | undefined) {}

  /** The next message maps its control to `path` (null: stop learning). */
  arm(path: string | null): void {
    if (path !== null && !this.targets(path)) throw new Error(`'${path}' cannot be mapped: not a numeric or on/off live parameter`);
    this.armed = path;
  }

  get learning(): string | null {
    return this.armed;
  }

  /**
   * One MIDI message. `mappings` are the current ones; `read` gives a parameter's current value.
   * Returns what to do, or null when the message maps to nothing (or is not a usable message).
   */
  handle(bytes: ArrayLike<number>, mappings: readonly MidiMapping[], read: ReadParameter): MidiAction | null {
    const event = decodeMidi(bytes);
    if (!event) return null;
    if (this.armed) {
      // A pad's release after the press that was learned must not count as a first move.
      if (event.kind === 'note' && !event.press) return null;
      const mapping: MidiMapping = { kind: event.kind, channel: event.channel, number: event.number, target: this.armed };
      this.armed = null;
      const kept = mappings.filter((m) => !sameControl(m, mapping) && m.target !== mapping.target);
      // The knob is wherever it is: it must still reach the parameter before it drives it.
      this.held.set(key(mapping), { sent: [], knob: event.value });
      return { kind: 'learned', mappings: [...kept, mapping], mapping };
    }
    const mapping = mappings.find((m) => sameControl(m, event));
    if (!mapping) return null;
    const target = this.targets(mapping.target);
    if (!target) return null;
    const current = read(mapping.target);
    if (target.kind === 'bool') {
      if (event.kind === 'note') return event.press ? { kind: 'set', path: target.path, value: !current } : null;
      return { kind: 'set', path: target.path, value: event.value >= 0.5 };
    }
    const toValue = (x: number) => {
      const v = target.min + x * (target.max - target.min);
      return target.kind === 'int' ? Math.round(v) : v;
    };
    const value = toValue(event.value);
    // A pad sets its value at once (no position to take over); a release does nothing.
    if (event.kind === 'note') return event.press ? { kind: 'set', path: target.path, value } : null;
    const span = target.max - target.min || 1;
    const now = typeof current === 'number' ? (current - target.min) / span : null;
    const k = key(mapping);
    const held = this.held.get(k) ?? { sent: [], knob: null };
    // Held: the parameter is where this control lately put it (integers compare after rounding).
    const holding = typeof current === 'number' && held.sent.some((v) => Math.abs(current - v) <= (target.kind === 'int' ? 0.5 : 1e-6 * span));
    // Reached: the knob is (or last was) at the parameter, or it has just passed it. An integer's window is half a step.
    const window = target.kind === 'int' ? Math.max(TAKEOVER_WINDOW, 0.5 / span) : TAKEOVER_WINDOW;
    const near = (x: number) => now !== null && Math.abs(x - now) <= window;
    const reached = now === null || near(event.value) || (held.knob !== null && (near(held.knob) || (held.knob - now) * (event.value - now) <= 0));
    held.knob = event.value;
    if (!holding && !reached) {
      held.sent = [];
      this.held.set(k, held);
      return { kind: 'waiting', path: target.path, knob: event.value, value: now ?? 0 };
    }
    // On pick-up the value it took over from counts as the control's too: the state may still show it for a round trip.
    if (!holding && typeof current === 'number') held.sent.push(current);
    held.sent.push(value);
    while (held.sent.length > RECENT) held.sent.shift();
    this.held.set(k, held);
    return { kind: 'set', path: target.path, value };
  }
}

const key = (m: Pick<MidiMapping, 'kind' | 'channel' | 'number'>) => `${m.kind}:${m.channel}:${m.number}`;
