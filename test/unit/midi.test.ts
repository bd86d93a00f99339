/**
 * MIDI learn (common/midi.ts) with the byte messages a device sends through Web MIDI: decoding
 * (CC, note on/off and running-status note-off, pitch bend, what is ignored), learning a
 * control, soft takeover (a knob does nothing until it reaches the parameter, then follows;
 * it has to be picked up again after the parameter changed elsewhere), pads toggling
 * switches, integers rounding, and a fuzz run that no byte sequence sets a value out of range.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MidiMapper, decodeMidi, type MidiAction, type MidiMapping } from '../../common/midi.js';
import { midiProblem, midiTarget, liveParameters } from '../../common/parameters.js';
import { DEFAULT_STATE, StateSchema } from '../../common/state.js';

const cc = (number: number, value: number, channel = 0) => [0xb0 | channel, number, value];
const noteOn = (number: number, velocity = 100, channel = 9) => [0x90 | channel, number, velocity];
const noteOff = (number: number, channel = 9) => [0x80 | channel, number, 64];

/** A parameter table the mapper reads and the 'set' actions write, as the VJ page does through the server. */
function rig(initial: Record<string, number | boolean> = {}) {
  const values = new Map<string, number | boolean>(Object.entries({ 'dream.strength': 0.5, 'dream.octaves': 2, visitorLock: false, 'display.blackout': 0, ...initial }));
  let mappings: MidiMapping[] = [];
  const mapper = new MidiMapper(midiTarget);
  const send = (bytes: number[]): MidiAction | null => {
    const action = mapper.handle(bytes, mappings, (p) => values.get(p));
    if (action?.kind === 'learned') mappings = action.mappings;
    if (action?.kind === 'set') values.set(action.path, action.value);
    return action;
  };
  return { values, mapper, send, mappings: () => mappings };
}

describe('decodeMidi', () => {
  it('reads control changes, notes and pitch bend as a device sends them', () => {
    expect(decodeMidi([0xb3, 7, 127])).toEqual({ kind: 'cc', channel: 3, number: 7, value: 1, press: false });
    expect(decodeMidi([0x99, 36, 127])).toMatchObject({ kind: 'note', channel: 9, number: 36, value: 1, press: true });
    // velocity 0 note-on is a note-off (running-status keyboards)
    expect(decodeMidi([0x99, 36, 0])).toMatchObject({ kind: 'note', press: false, value: 0 });
    expect(decodeMidi([0x89, 36, 64])).toMatchObject({ kind: 'note', press: false });
    expect(decodeMidi([0xe0, 0x00, 0x40])!.value).toBeCloseTo(8192 / 16383, 6); // centre
    expect(decodeMidi([0xe0, 0x7f, 0x7f])!.value).toBe(1);
  });
  it('ignores what it cannot map: clock, sysex, aftertouch, program change, short or malformed messages', () => {
    for (const bytes of [[0xf8], [0xf0, 0x7e, 0xf7], [0xa0, 60, 10], [0xc0, 5], [0xb0, 7], [0xb0, 0x80, 1], [0x40, 1, 2], []]) expect(decodeMidi(bytes), JSON.stringify(bytes)).toBeNull();
  });
});

describe('MIDI learn and soft takeover', () => {
  it('learns the next control for the armed parameter, replacing older mappings of that control or parameter', () => {
    const r = rig();
    r.mapper.arm('dream.strength');
    expect(r.send(cc(21, 10))).toMatchObject({ kind: 'learned', mapping: { kind: 'cc', channel: 0, number: 21, target: 'dream.strength' } });
    expect(r.mapper.learning).toBeNull();
    r.mapper.arm('display.blackout');
    r.send(cc(21, 0)); // the same knob now drives the blackout
    r.mapper.arm('display.blackout');
    r.send(cc(22, 0)); // and a second knob replaces it for the blackout
    expect(r.mappings()).toEqual([{ kind: 'cc', channel: 0, number: 22, target: 'display.blackout' }]);
    expect(() => r.mapper.arm('dream.mode')).toThrow(/cannot be mapped/);
    expect(() => r.mapper.arm('nope')).toThrow(/cannot be mapped/);
  });

  it('a knob does nothing until it reaches the parameter, then follows it', () => {
    const r = rig({ 'dream.strength': 0.5 });
    r.mapper.arm('dream.strength');
    r.send(cc(21, 10)); // learned with the knob at 10/127, far below 0.5
    for (const v of [15, 30, 50]) expect(r.send(cc(21, v))).toMatchObject({ kind: 'waiting', path: 'dream.strength' });
    expect(r.values.get('dream.strength')).toBe(0.5);
    expect(r.send(cc(21, 70))).toMatchObject({ kind: 'set', value: 70 / 127 }); // crossed 0.5 (63.5/127)
    for (const v of [90, 127, 3]) expect(r.send(cc(21, v))).toMatchObject({ kind: 'set', value: v / 127 });
    expect(r.values.get('dream.strength')).toBeCloseTo(3 / 127, 9);
  });

  it('after the parameter changed elsewhere (a preset, a tablet), the knob must pick it up again', () => {
    const r = rig({ 'dream.strength': 0.5 });
    r.mapper.arm('dream.strength');
    r.send(cc(21, 64));
    r.send(cc(21, 64));
    expect(r.values.get('dream.strength')).toBeCloseTo(64 / 127, 9);
    r.values.set('dream.strength', 0.9); // a preset loads
    expect(r.send(cc(21, 66))).toMatchObject({ kind: 'waiting' });
    expect(r.values.get('dream.strength')).toBe(0.9);
    expect(r.send(cc(21, 114))).toMatchObject({ kind: 'set' }); // within 2 % of 0.9
    // coming from above works too
    r.values.set('dream.strength', 0.1);
    expect(r.send(cc(21, 100))).toMatchObject({ kind: 'waiting' });
    expect(r.send(cc(21, 5))).toMatchObject({ kind: 'set', value: 5 / 127 }); // crossed 0.1 on the way down
  });

  it('pads toggle switches on the press, CCs set them at the middle; integers round; pitch bend drives a range', () => {
    const r = rig();
    r.mapper.arm('visitorLock');
    r.send(noteOn(36));
    expect(r.send(noteOff(36))).toBeNull();
    expect(r.send(noteOn(36))).toMatchObject({ kind: 'set', path: 'visitorLock', value: true });
    r.send(noteOff(36));
    expect(r.send(noteOn(36))).toMatchObject({ value: false });
    r.mapper.arm('visitorLock');
    r.send(cc(64, 0)); // a sustain pedal
    expect(r.send(cc(64, 127))).toMatchObject({ value: true });
    expect(r.send(cc(64, 0))).toMatchObject({ value: false });

    r.mapper.arm('dream.octaves'); // 1..6
    r.send(cc(23, 26)); // 1 + 26/127*5 = 2.02: at the parameter (2) already
    expect(r.send(cc(23, 127))).toMatchObject({ kind: 'set', value: 6 });
    expect(r.send(cc(23, 60))).toMatchObject({ kind: 'set', value: 3 });

    r.mapper.arm('display.blackout');
    r.send([0xe0, 0, 0]); // the wheel, at the bottom = 0 = the blackout's value
    expect(r.send([0xe0, 0x7f, 0x7f])).toMatchObject({ kind: 'set', path: 'display.blackout', value: 1 });
  });

  it('no byte sequence sets a value outside its parameter\'s range or of the wrong type (fuzz)', () => {
    const numeric = liveParameters().filter((p) => p.kind === 'float' || p.kind === 'int');
    fc.assert(
      fc.property(
        fc.constantFrom(...numeric.map((p) => p.path), 'visitorLock'),
        fc.array(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 0, maxLength: 4 }), { maxLength: 60 }),
        (path, messages) => {
          const r = rig();
          r.mapper.arm(path);
          for (const bytes of messages) {
            const action = r.send(bytes);
            if (action?.kind !== 'set') continue;
            const target = midiTarget(action.path)!;
            if (target.kind === 'bool') expect(typeof action.value).toBe('boolean');
            else {
              expect(action.value).toBeGreaterThanOrEqual(target.min);
              expect(action.value).toBeLessThanOrEqual(target.max);
              if (target.kind === 'int') expect(Number.isInteger(action.value)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('mappings in the state', () => {
  it('are part of the schema and the store refuses a mapping to a parameter no control can drive', () => {
    const state = structuredClone(DEFAULT_STATE);
    state.midi.mappings = [{ kind: 'cc', channel: 0, number: 1, target: 'dream.strength' }];
    expect(StateSchema.safeParse(state).success).toBe(true);
    expect(midiProblem(state)).toBeNull();
    state.midi.mappings = [{ kind: 'cc', channel: 0, number: 1, target: 'dream.mode' }];
    expect(midiProblem(state)).toMatch(/'dream.mode' cannot be mapped; .*dream.strength/);
    expect(StateSchema.safeParse({ ...state, midi: { mappings: [{ kind: 'cc', channel: 16, number: 1, target: 'seed' }] } }).success).toBe(false);
    // the model's directions are mappable (the store refuses a name the model lacks, as for any patch)
    expect(midiTarget('directions.age')).toMatchObject({ kind: 'float', min: -1, max: 1 });
    state.midi.mappings = [{ kind: 'cc', channel: 0, number: 1, target: 'directions.smile_wide' }];
    expect(StateSchema.safeParse(state).success).toBe(true);
    expect(midiProblem(state)).toBeNull();
    expect(midiTarget('directions.')).toBeUndefined();
  });
});

describe('MIDI learn with a lagging state', () => {
  it('a fast fader keeps control while the state it reads still shows its earlier values', () => {
    const values = new Map<string, number>([['walk.speed', 0.15]]);
    const mapper = new MidiMapper(midiTarget);
    let mappings: MidiMapping[] = [];
    const learned = mapper.handle(cc(21, 9), mappings, (p) => values.get(p));
    expect(learned).toBeNull(); // not armed
    mapper.arm('walk.speed');
    mappings = (mapper.handle(cc(21, 9), mappings, (p) => values.get(p)) as Extract<MidiAction, { kind: 'learned' }>).mappings;
    const sent: number[] = [];
    for (let v = 10; v <= 120; v += 10) {
      // the page's state catches up three messages late
      if (sent.length >= 3) values.set('walk.speed', sent[sent.length - 3]!);
      const action = mapper.handle(cc(21, v), mappings, (p) => values.get(p));
      expect(action, `CC ${v}`).toMatchObject({ kind: 'set' });
      sent.push((action as { value: number }).value);
    }
    // a change from elsewhere is still noticed: the knob must pick it up again
    values.set('walk.speed', 0.3);
    expect(mapper.handle(cc(21, 110), mappings, (p) => values.get(p))).toMatchObject({ kind: 'waiting' });
  });
});
