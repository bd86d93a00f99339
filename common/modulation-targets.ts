/**
 * Which live parameters a modulation route may drive: every number in the state schema with a
 * finite range that is not an integer (seeds, counts and octaves would jump, not breathe), and
 * not inside the matrix itself. Derived from the schema, so a new numeric parameter is
 * modulatable by itself.
 */
import { z } from './zod.js';
import { StateSchema, type LiveState } from './state.js';

export interface ModTarget {
  path: string;
  min: number;
  max: number;
}

interface JsonNode {
  type?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonNode>;
}

let cached: ModTarget[] | null = null;

export function modulationTargets(): ModTarget[] {
  if (cached) return cached;
  const root = z.toJSONSchema(StateSchema, { unrepresentable: 'any' }) as JsonNode;
  const out: ModTarget[] = [];
  const walk = (node: JsonNode, path: string[]) => {
    if (node.type === 'number' && Number.isFinite(node.minimum) && Number.isFinite(node.maximum)) out.push({ path: path.join('.'), min: node.minimum!, max: node.maximum! });
    for (const [key, child] of Object.entries(node.properties ?? {})) if (key !== 'modulation') walk(child, [...path, key]);
  };
  walk(root, []);
  cached = out;
  return out;
}

export function modulationTarget(path: string): ModTarget | undefined {
  return modulationTargets().find((t) => t.path === path);
}

/** A target's value in a state. */
export function readTarget(state: Readonly<LiveState>, path: string): number {
  const [a, b] = path.split('.') as [string, string | undefined];
  const top = (state as Record<string, unknown>)[a];
  return Number(b === undefined ? top : (top as Record<string, unknown>)[b]);
}

/** The patch that sets targets to values (one level deep, as patches are). */
export function targetPatch(values: ReadonlyMap<string, number>): Record<string, unknown> {
  const patch: Record<string, Record<string, number> | number> = {};
  for (const [path, value] of values) {
    const [a, b] = path.split('.') as [string, string | undefined];
    if (b === undefined) patch[a] = value;
    else patch[a] = { ...((patch[a] as Record<string, number> | undefined) ?? {}), [b]: value };
  }
  return patch;
}

/** Why the matrix names a target it cannot drive (with the valid ones), or null. */
export function modulationProblem(state: Readonly<LiveState>): string | null {
  for (const route of state.modulation.routes) {
    if (!modulationTarget(route.target)) return `modulation: '${route.target}' is not a modulatable parameter; they are: ${modulationTargets().map((t) => t.path).join(', ')}`;
  }
  return null;
}
