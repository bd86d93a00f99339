/**
 * The OSC address space, derived from the live-state schema (common/state.ts) and the
 * command schema (common/protocol.ts): every state leaf becomes /portraits/<path>, so a
 * key added to the schema gets an address, a row in docs/osc.md and an OSCQuery node
 * without anyone listing it here. Ranges are only described here; the store validates.
 */
import { z } from 'zod';
import { CommandSchema } from '../../common/protocol.js';
import { StateSchema, type LiveState, type StatePatch } from '../../common/state.js';

export const OSC_ROOT = '/portraits';

/** The OSC type tags this server sends. */
export type OutTag = 'i' | 'f' | 's' | 'T' | 'F';
export interface TypedArg {
  type: OutTag;
  value: number | string | boolean;
}

export type ScalarKind = 'float' | 'int' | 'string' | 'bool';
export interface Scalar {
  kind: ScalarKind;
  min?: number;
  max?: number;
  /** The allowed strings of an enum. */
  values?: readonly string[];
}

/**
 * One address that reads and writes state. `leaf`: one key, one argument. `list`: one
 * key holding an array, one argument per element. `pair`: several sibling keys written
 * together, one argument each (an XY pad's /plane/xy). `map`: a key holding named values
 * (the semantic directions, whose names come from the model), written as name/value
 * argument pairs: `/portraits/directions s f` ("age" 0.4).
 */
export interface OscParam {
  address: string;
  shape: 'leaf' | 'list' | 'pair' | 'map';
  /** The state path each argument writes; a list writes all its arguments to paths[0]. */
  paths: readonly (readonly string[])[];
  /** The type of each argument (a list: of every element). */
  args: readonly Scalar[];
  /** Element count bounds of a list. */
  count?: { min: number; max: number };
  description: string;
}

/** An address that triggers a command taking no arguments, e.g. /portraits/newFace. */
export interface OscCommand {
  address: string;
  command: { type: string };
  description: string;
}

/** Addresses that are part of the OSC service rather than of the state (presets, feedback, replies). */
export interface OscService {
  address: string;
  /** Argument type tags it accepts ('' none) or, for outgoing messages, sends. */
  types: string;
  direction: 'in' | 'out';
  description: string;
}

/** A container address (an OSCQuery node with CONTENTS), e.g. /portraits/walk, and what it holds. */
export interface OscGroup {
  address: string;
  description: string;
}

export interface AddressSpace {
  params: readonly OscParam[];
  commands: readonly OscCommand[];
  services: readonly OscService[];
  /** The containers: /portraits, one per state object (its schema description, or its keys), and the services' folders. */
  groups: readonly OscGroup[];
  /** State paths the derivation could not map, with why; empty for a supported schema. */
  unmapped: readonly string[];
  param(address: string): OscParam | undefined;
  command(address: string): OscCommand | undefined;
  group(address: string): OscGroup | undefined;
}

export const SERVICE = {
  presetSave: `${OSC_ROOT}/preset/save`,
  presetLoad: `${OSC_ROOT}/preset/load`,
  presetDelete: `${OSC_ROOT}/preset/delete`,
  presetList: `${OSC_ROOT}/preset/list`,
  register: `${OSC_ROOT}/feedback/register`,
  unregister: `${OSC_ROOT}/feedback/unregister`,
  error: `${OSC_ROOT}/error`,
  loopWrapped: `${OSC_ROOT}/loop/wrapped`,
  recordStart: `${OSC_ROOT}/record/start`,
  recordStop: `${OSC_ROOT}/record/stop`,
  recordStatus: `${OSC_ROOT}/record/status`,
  audioLevel: `${OSC_ROOT}/audio/level`,
  audioLow: `${OSC_ROOT}/audio/low`,
  audioMid: `${OSC_ROOT}/audio/mid`,
  audioHigh: `${OSC_ROOT}/audio/high`,
  audioOnset: `${OSC_ROOT}/audio/onset`,
  tempo: `${OSC_ROOT}/tempo`,
  tempoTap: `${OSC_ROOT}/tap`,
  routeSet: `${OSC_ROOT}/mod/route`,
  routeClear: `${OSC_ROOT}/mod/clear`,
  lfoSet: `${OSC_ROOT}/mod/lfo`,
  midiClear: `${OSC_ROOT}/midi/clear`,
} as const;

/** Lists of records in the state that OSC edits one record at a time, through a service address instead of a parameter. */
const SERVICED_LISTS: Readonly<Record<string, string>> = {
  'modulation.routes': SERVICE.routeSet,
  'modulation.lfos': SERVICE.lfoSet,
  // Mappings are learned on the VJ page (a control has to be moved); OSC can remove them.
  'midi.mappings': SERVICE.midiClear,
};

/** The audio sources an outside analyser may feed, by address. */
export const AUDIO_FEEDS = {
  [SERVICE.audioLevel]: 'audio.level',
  [SERVICE.audioLow]: 'audio.low',
  [SERVICE.audioMid]: 'audio.mid',
  [SERVICE.audioHigh]: 'audio.high',
  [SERVICE.audioOnset]: 'audio.onset',
} as const;

const SERVICES: readonly OscService[] = [
  { address: SERVICE.presetSave, types: 's', direction: 'in', description: 'save the current look (everything but visitorLock) under a name' },
  { address: SERVICE.presetLoad, types: 's', direction: 'in', description: 'load a preset by name (atomic, like a bundle)' },
  { address: SERVICE.presetDelete, types: 's', direction: 'in', description: 'delete a preset by name' },
  { address: SERVICE.presetList, types: '', direction: 'in', description: `ask for the preset names; the reply is ${SERVICE.presetList} s... (also sent to feedback clients when presets change)` },
  { address: SERVICE.register, types: 'i', direction: 'in', description: 'send state changes to this host at port i (no argument: the sending port); replies with the whole state' },
  { address: SERVICE.unregister, types: 'i', direction: 'in', description: 'stop sending state changes to this host at port i (no argument: the sending port)' },
  { address: SERVICE.error, types: 's', direction: 'out', description: 'sent to the sender of a refused message: the address and the reason' },
  { address: SERVICE.loopWrapped, types: 'i', direction: 'out', description: 'sent to feedback clients each time the keyframe loop starts over; i counts the passes since the loop started' },
  { address: SERVICE.recordStart, types: '', direction: 'in', description: 'start recording what the displays show to a new file in recordingsDir (docs/recording.md); a button: 0 or F is ignored' },
  { address: SERVICE.recordStop, types: '', direction: 'in', description: 'stop recording and finish the file; a button: 0 or F is ignored' },
  { address: SERVICE.recordStatus, types: 'Ts', direction: 'out', description: 'after a start or stop: T/F recording, and the file' },
  ...Object.entries(AUDIO_FEEDS).map(([address, source]): OscService => ({
    address,
    types: 'f',
    direction: 'in',
    description: `feed the modulation source ${source} from your own audio analyser, 0 to 1 (it falls back to 0 two seconds after the last value)`,
  })),
  { address: SERVICE.tempo, types: 'f', direction: 'in', description: 'set the tempo the LFOs and the beat follow, beats per minute 20-300 (the same as /portraits/modulation/bpm)' },
  { address: SERVICE.tempoTap, types: '', direction: 'in', description: 'tap tempo: the tempo follows the last taps (two or more, less than 3 s apart); a button: 0 or F is ignored' },
  {
    address: SERVICE.routeSet,
    types: 'issfffs',
    direction: 'in',
    description: 'set modulation route i (0-15, or the next free one): source, target parameter (e.g. dream.strength), amount -1..1, attack s, release s, curve (linear, exp, log, smooth)',
  },
  { address: SERVICE.routeClear, types: 'i', direction: 'in', description: 'remove modulation route i (no argument: all routes); its parameter returns to its set value' },
  { address: SERVICE.midiClear, types: 'i', direction: 'in', description: 'remove MIDI mapping i (no argument: all mappings); mappings are learned on the VJ page (/vj/)' },
  { address: SERVICE.lfoSet, types: 'isff', direction: 'in', description: 'set LFO i (0-3, the sources lfo1-lfo4): shape (sine, triangle, saw, square, random), period in beats 0.25-64, phase 0-1' },
];

/** The folders of the service addresses, and the root; state objects describe themselves. */
const SERVICE_GROUPS: readonly OscGroup[] = [
  { address: OSC_ROOT, description: 'Imaginary Portraits: the live state (read and write), commands, presets, feedback and recording' },
  { address: `${OSC_ROOT}/preset`, description: 'presets: save, load, delete and list saved looks' },
  { address: `${OSC_ROOT}/feedback`, description: 'feedback: have state changes sent to your OSC surface over UDP' },
  { address: `${OSC_ROOT}/record`, description: 'recording what the displays show to a video file' },
  { address: `${OSC_ROOT}/audio`, description: 'audio analysis fed from outside, as modulation sources' },
  { address: `${OSC_ROOT}/mod`, description: 'the modulation matrix: set and clear routes' },
  { address: `${OSC_ROOT}/midi`, description: 'the MIDI mappings learned on the VJ page' },
];

/** A JSON-schema node, as much of it as this derivation reads. */
interface JsonNode {
  type?: string;
  description?: string;
  properties?: Record<string, JsonNode>;
  items?: JsonNode;
  additionalProperties?: JsonNode | boolean;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
}

/** Lists longer than this are refused anyway by the UDP packet size; it bounds the description. */
const MAX_LIST = 1024;

function scalarOf(node: JsonNode): Scalar | null {
  const min = node.minimum ?? node.exclusiveMinimum;
  const max = node.maximum ?? node.exclusiveMaximum;
  const bounds = { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
  switch (node.type) {
    case 'number':
      return { kind: 'float', ...bounds };
    case 'integer':
      return { kind: 'int', ...bounds };
    case 'boolean':
      return { kind: 'bool' };
    case 'string': {
      const values = node.enum ?? (node.const !== undefined ? [node.const] : undefined);
      return values ? { kind: 'string', values: values.map(String) } : { kind: 'string' };
    }
    default:
      return null;
  }
}

/** The schema's own description (zod .describe()/.meta()) when it has one, else what the type says. */
function describe(path: readonly string[], node: JsonNode, scalar: Scalar, extra = ''): string {
  if (node.description) return node.description;
  const bounds = scalar.min !== undefined && scalar.max !== undefined ? ` ${scalar.min} to ${scalar.max}` : '';
  const what = scalar.values
    ? `one of ${scalar.values.map((v) => (v === '' ? '""' : v)).join(', ')}`
    : { float: `a number${bounds}`, int: `an integer${bounds}`, string: 'text', bool: 'true or false (T/F, or 1/0)' }[scalar.kind];
  return `${path.join('.')}: ${extra}${what}`;
}

/** Derives the address space; the schemas are parameters so tests can show that new keys appear by themselves. */
export function buildAddressSpace(stateSchema: z.ZodObject = StateSchema, commandSchema: z.ZodType = CommandSchema): AddressSpace {
  const params: OscParam[] = [];
  const unmapped: string[] = [];
  const groups: OscGroup[] = SERVICE_GROUPS.map((g) => ({ ...g }));
  const root = z.toJSONSchema(stateSchema, { unrepresentable: 'any' }) as JsonNode;

  const visit = (node: JsonNode, path: string[]) => {
    const address = `${OSC_ROOT}/${path.join('/')}`;
    if (node.type === 'object' && node.properties) {
      const props = node.properties;
      const keys = Object.keys(props).join(', ');
      const groupDescription = node.description ?? `${path.join('.')} settings: ${keys}`;
      const known = groups.find((g) => g.address === address);
      if (known) known.description = `${known.description}; ${groupDescription}`;
      else groups.push({ address, description: groupDescription });
      for (const [key, child] of Object.entries(props)) visit(child, [...path, key]);
      // XY pads send both coordinates in one message; give every x/y pair an address for that.
      const x = props.x ? scalarOf(props.x) : null;
      const y = props.y ? scalarOf(props.y) : null;
      if (x && y && !props.xy && (x.kind === 'float' || x.kind === 'int') && (y.kind === 'float' || y.kind === 'int')) {
        params.push({ address: `${address}/xy`, shape: 'pair', paths: [[...path, 'x'], [...path, 'y']], args: [x, y], description: `${path.join('.')}.x and .y together (an XY pad)` });
      }
      return;
    }
    if (node.type === 'object' && typeof node.additionalProperties === 'object') {
      const value = scalarOf(node.additionalProperties);
      if (value) {
        const name: Scalar = { kind: 'string' };
        params.push({ address, shape: 'map', paths: [path], args: [name, value], description: describe(path, node, value, 'name/value pairs, each value ') });
        return;
      }
    }
    const scalar = scalarOf(node);
    if (scalar) {
      params.push({ address, shape: 'leaf', paths: [path], args: [scalar], description: describe(path, node, scalar) });
      return;
    }
    if (node.type === 'array' && node.items) {
      const element = scalarOf(node.items);
      if (element) {
        const count = { min: node.minItems ?? 0, max: Math.min(node.maxItems ?? MAX_LIST, MAX_LIST) };
        params.push({ address, shape: 'list', paths: [path], args: [element], count, description: describe(path, node, element, `${count.min}-${count.max} arguments, each `) });
        return;
      }
    }
    if (SERVICED_LISTS[path.join('.')]) return; // edited record by record at its service address
    unmapped.push(`${path.join('.')}: JSON type ${JSON.stringify(node.type ?? node)} has no OSC mapping yet (extend server/osc/address-space.ts)`);
  };
  for (const [key, child] of Object.entries(root.properties ?? {})) visit(child, [key]);

  const commands: OscCommand[] = [];
  const options = commandSchema instanceof z.ZodDiscriminatedUnion ? (commandSchema.options as z.ZodObject[]) : [];
  for (const option of options) {
    const typeField = option.shape.type;
    const type = typeField instanceof z.ZodLiteral ? String(typeField.value) : null;
    const others = Object.keys(option.shape).filter((k) => k !== 'type');
    if (!type || others.length > 0) {
      unmapped.push(`command ${type ?? '?'}: commands with arguments (${others.join(', ')}) have no OSC mapping yet`);
      continue;
    }
    commands.push({ address: `${OSC_ROOT}/${type}`, command: { type }, description: option.description ?? `the ${type} command (a button: 0 or F, sent on release, is ignored)` });
  }

  const byAddress = new Map(params.map((p) => [p.address, p]));
  const byCommand = new Map(commands.map((c) => [c.address, c]));
  const byGroup = new Map(groups.map((g) => [g.address, g]));
  const taken = new Set(SERVICES.map((s) => s.address));
  for (const address of [...byAddress.keys(), ...byCommand.keys()]) {
    if (taken.has(address)) unmapped.push(`${address} collides with a service address`);
  }
  return {
    params,
    commands,
    services: SERVICES,
    groups,
    unmapped,
    param: (address) => byAddress.get(address),
    command: (address) => byCommand.get(address),
    group: (address) => byGroup.get(address),
  };
}

// ---- values in and out -----------------------------------------------------------

/** A decoded OSC argument: osc-js gives numbers, bigints (h, t), strings, booleans (T/F), null (N), bytes (b). */
export type InArg = number | bigint | string | boolean | null | Uint8Array | undefined;

function tagName(kind: ScalarKind): string {
  return { float: 'f', int: 'i', string: 's', bool: 'T/F' }[kind];
}

/**
 * The shortest decimal that is the same float32: a fader's `f 0.7` arrives as
 * 0.699999988..., and the state (and presets, and the tablet) should say 0.7.
 */
export function shortestFloat32(value: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

/** One argument as the scalar wants it, or why not. Numbers of any OSC type are accepted where they make sense. */
export function coerceArg(scalar: Scalar, value: InArg, tag: string | undefined): { ok: true; value: number | string | boolean } | { ok: false; error: string } {
  const asNumber = typeof value === 'bigint' ? Number(value) : value;
  const bad = (why = `expects ${tagName(scalar.kind)}, got ${tag ?? 'nothing'}`) => ({ ok: false as const, error: why });
  switch (scalar.kind) {
    case 'float':
      if (typeof asNumber !== 'number' || !Number.isFinite(asNumber)) return bad();
      return { ok: true, value: tag === 'f' ? shortestFloat32(asNumber) : asNumber };
    case 'int':
      if (typeof asNumber !== 'number' || !Number.isFinite(asNumber)) return bad();
      return Number.isInteger(asNumber) ? { ok: true, value: asNumber } : bad(`expects an integer, got ${asNumber}`);
    case 'string':
      return typeof value === 'string' ? { ok: true, value } : bad();
    case 'bool':
      if (typeof value === 'boolean') return { ok: true, value };
      // Toggle buttons send 1 and 0 as numbers.
      if (asNumber === 0 || asNumber === 1) return { ok: true, value: asNumber === 1 };
      return typeof asNumber === 'number' ? bad(`expects T, F, 1 or 0, got ${asNumber}`) : bad();
  }
}

function getPath(state: unknown, path: readonly string[]): unknown {
  let v: unknown = state;
  for (const key of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/**
 * Writes `value` at `path` into a patch. The store merges patches one level deep, so a key
 * nested deeper carries its current siblings along from `state`.
 */
function setPath(patch: Record<string, unknown>, path: readonly string[], value: unknown, state: unknown): void {
  let target = patch;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    if (!target[key] || typeof target[key] !== 'object') {
      const current = i >= 1 ? getPath(state, path.slice(0, i + 1)) : undefined;
      target[key] = current && typeof current === 'object' ? structuredClone(current) : {};
    }
    target = target[key] as Record<string, unknown>;
  }
  target[path[path.length - 1]!] = value;
}

/** Turns a message's arguments into a state patch for `param`, or says what is wrong with them. */
export function argsToPatch(param: OscParam, args: readonly InArg[], types: string, state: Readonly<LiveState>): { ok: true; patch: StatePatch } | { ok: false; error: string } {
  const patch: Record<string, unknown> = {};
  const expected = param.shape === 'list' ? `${param.count!.min}-${param.count!.max} x ${tagName(param.args[0]!.kind)}` : param.args.map((a) => tagName(a.kind)).join('');
  if (param.shape === 'map') {
    if (args.length === 0 || args.length % 2) return { ok: false, error: `expects name/value pairs (${expected} ...), got ${types || 'no arguments'}` };
    for (let i = 0; i < args.length; i += 2) {
      const name = coerceArg(param.args[0]!, args[i], types[i]);
      if (!name.ok) return { ok: false, error: `argument ${i + 1} ${name.error}` };
      const value = coerceArg(param.args[1]!, args[i + 1], types[i + 1]);
      if (!value.ok) return { ok: false, error: `argument ${i + 2} ${value.error}` };
      setPath(patch, [...param.paths[0]!, String(name.value)], value.value, state);
    }
    return { ok: true, patch: patch as StatePatch };
  }
  if (param.shape === 'list') {
    const { min, max } = param.count!;
    if (args.length < min || args.length > max) return { ok: false, error: `expects ${expected}, got ${args.length} arguments` };
    const values: unknown[] = [];
    for (let i = 0; i < args.length; i++) {
      const r = coerceArg(param.args[0]!, args[i], types[i]);
      if (!r.ok) return { ok: false, error: `argument ${i + 1} ${r.error}` };
      values.push(r.value);
    }
    setPath(patch, param.paths[0]!, values, state);
    return { ok: true, patch: patch as StatePatch };
  }
  if (args.length !== param.args.length) return { ok: false, error: `expects ${expected}, got ${types || 'no arguments'}` };
  for (let i = 0; i < param.args.length; i++) {
    const r = coerceArg(param.args[i]!, args[i], types[i]);
    if (!r.ok) return { ok: false, error: param.args.length > 1 ? `argument ${i + 1} ${r.error}` : r.error };
    setPath(patch, param.paths[i]!, r.value, state);
  }
  return { ok: true, patch: patch as StatePatch };
}

function typed(scalar: Scalar, value: unknown): TypedArg {
  switch (scalar.kind) {
    case 'float':
      return { type: 'f', value: Number(value) };
    case 'int':
      return { type: 'i', value: Number(value) };
    case 'string':
      return { type: 's', value: String(value) };
    case 'bool':
      return value ? { type: 'T', value: true } : { type: 'F', value: false };
  }
}

/** The current value of `param` as OSC arguments (what feedback and queries send). */
export function paramArgs(param: OscParam, state: Readonly<LiveState>): TypedArg[] {
  if (param.shape === 'map') {
    const map = getPath(state, param.paths[0]!);
    return map && typeof map === 'object' ? Object.entries(map).flatMap(([k, v]) => [typed(param.args[0]!, k), typed(param.args[1]!, v)]) : [];
  }
  if (param.shape === 'list') {
    const list = getPath(state, param.paths[0]!);
    return Array.isArray(list) ? list.map((v) => typed(param.args[0]!, v)) : [];
  }
  return param.paths.map((path, i) => typed(param.args[i]!, getPath(state, path)));
}

/** The OSCQuery-style type tag string of a param (a list: one tag per current element). */
export function typeTags(param: OscParam, state: Readonly<LiveState>): string {
  const tag = (s: Scalar) => ({ float: 'f', int: 'i', string: 's', bool: 'T' })[s.kind];
  if (param.shape === 'list') return paramArgs(param, state).map(() => tag(param.args[0]!)).join('');
  // a map's tags follow its current entries (none: empty), like a list's
  if (param.shape === 'map') return paramArgs(param, state).map((a) => a.type).join('');
  return param.args.map(tag).join('');
}
