/**
 * Every live parameter a surface can set one value at a time (the VJ page's list, MIDI learn,
 * modulation routes), derived from the state schema: a new parameter appears by itself.
 * The VJ's own machinery (the modulation matrix and the MIDI mappings) is not a parameter.
 */
import { z } from './zod.js';
import { INSTRUMENT_KEYS, StateSchema, type LiveState } from './state.js';

export type LiveParameter =
  | { path: string; kind: 'float' | 'int'; min: number; max: number; description?: string }
  | { path: string; kind: 'bool'; description?: string }
  | { path: string; kind: 'enum'; values: string[]; description?: string };

interface JsonNode {
  type?: string;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  description?: string;
  properties?: Record<string, JsonNode>;
}

let cached: LiveParameter[] | null = null;

/** In schema order. Numbers without a finite range, text, lists and maps are left out. */
export function liveParameters(): LiveParameter[] {
  if (cached) return cached;
  const root = z.toJSONSchema(StateSchema, { unrepresentable: 'any' }) as JsonNode;
  const out: LiveParameter[] = [];
  const walk = (node: JsonNode, path: string[]) => {
    const at = path.join('.');
    const description = node.description ? { description: node.description } : {};
    if ((node.type === 'number' || node.type === 'integer') && Number.isFinite(node.minimum) && Number.isFinite(node.maximum)) {
      out.push({ path: at, kind: node.type === 'number' ? 'float' : 'int', min: node.minimum!, max: node.maximum!, ...description });
    } else if (node.type === 'boolean') out.push({ path: at, kind: 'bool', ...description });
    else if (node.type === 'string' && node.enum) out.push({ path: at, kind: 'enum', values: node.enum.map(String), ...description });
    for (const [key, child] of Object.entries(node.properties ?? {})) if (path.length > 0 || !(INSTRUMENT_KEYS as readonly string[]).includes(key)) walk(child, [...path, key]);
  };
  walk(root, []);
  cached = out;
  return out;
}

export function liveParameter(path: string): LiveParameter | undefined {
  return liveParameters().find((p) => p.path === path);
}

/** A parameter's value in a state. */
export function readParameter(state: Readonly<LiveState>, path: string): unknown {
  const [a, b] = path.split('.') as [string, string | undefined];
  const top = (state as Record<string, unknown>)[a];
  return b === undefined ? top : (top as Record<string, unknown> | undefined)?.[b];
}

/** The patch that sets parameters to values (one level deep, as patches are). */
export function parameterPatch(values: ReadonlyMap<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [path, value] of values) {
    const [a, b] = path.split('.') as [string, string | undefined];
    if (b === undefined) patch[a] = value;
    else patch[a] = { ...((patch[a] as Record<string, unknown> | undefined) ?? {}), [b]: value };
  }
  return patch;
}

/** A semantic slider of the running model (its manifest's directions: /api/tablet), -1..1 like state.directions. */
export function directionParameter(name: string): LiveParameter {
  return { path: `directions.${name}`, kind: 'float', min: -1, max: 1, description: `the '${name}' direction of the face, -1 to 1` };
}

/** Direction names as state.directions takes them. */
const DIRECTION_PATH = /^directions\.([a-z][a-z0-9_-]{0,31})$/i;

/**
 * A parameter a MIDI control can drive: a number in a range or a switch (common/midi.ts
 * MidiTarget), or a direction (the store refuses a name the running model lacks).
 */
export function midiTarget(path: string): Exclude<LiveParameter, { kind: 'enum' }> | undefined {
  const direction = DIRECTION_PATH.exec(path);
  if (direction) return directionParameter(direction[1]!) as Exclude<LiveParameter, { kind: 'enum' }>;
  const p = liveParameter(path);
  return p && p.kind !== 'enum' ? p : undefined;
}

/** Why the MIDI mappings name a parameter no control can drive (with the valid ones), or null. */
export function midiProblem(state: Readonly<LiveState>): string | null {
  for (const m of state.midi.mappings) {
    if (!midiTarget(m.target)) {
      const valid = liveParameters().filter((p) => p.kind !== 'enum').map((p) => p.path);
      return `midi: '${m.target}' cannot be mapped; numeric and on/off parameters can: ${valid.join(', ')}`;
    }
  }
  return null;
}
