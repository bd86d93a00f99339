/**
 * Which live parameters a modulation route may drive: every number in the state schema with a
 * finite range that is not an integer (seeds, counts and octaves would jump, not breathe), and
 * not inside the matrix itself. Derived from the schema, so a new numeric parameter is
 * modulatable by itself.
 */
import { liveParameters, readParameter } from './parameters.js';
import type { LiveState } from './state.js';

export interface ModTarget {
  path: string;
  min: number;
  max: number;
}

let cached: ModTarget[] | null = null;

export function modulationTargets(): ModTarget[] {
  cached ??= liveParameters().flatMap((p) => (p.kind === 'float' ? [{ path: p.path, min: p.min, max: p.max }] : []));
  return cached;
}

export function modulationTarget(path: string): ModTarget | undefined {
  return modulationTargets().find((t) => t.path === path);
}

/** A target's value in a state. */
export function readTarget(state: Readonly<LiveState>, path: string): number {
  return Number(readParameter(state, path));
}

/** Why the matrix names a target it cannot drive (with the valid ones), or null. */
export function modulationProblem(state: Readonly<LiveState>): string | null {
  for (const route of state.modulation.routes) {
    if (!modulationTarget(route.target)) return `modulation: '${route.target}' is not a modulatable parameter; they are: ${modulationTargets().map((t) => t.path).join(', ')}`;
  }
  return null;
}
