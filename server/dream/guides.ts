/**
 * The pictures guided dreams are drawn toward (state dream.guideFrom): another seed's
 * portrait, made by this worker's own generator; a visitor's capture; or a picture the
 * VJ/administrator uploaded (PUT /api/guides/NAME, server/inputs/guides.ts). Each comes
 * with a key that changes when the picture does (a file's modification time), so a
 * re-uploaded guide compiles anew and an unchanged one is reused.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { LiveState } from '../../common/state.js';
import { readPlanar } from '../image/planar.js';
import type { PlanarImage } from '../image/planar-image.js';

export type GuideSettings = Pick<LiveState['dream'], 'guideFrom' | 'guideSeed' | 'guideName'>;

export interface GuideFolders {
  capturesDir: string;
  guidesDir: string;
}

export type LocatedGuide = { key: string; load: (size: number) => Promise<PlanarImage> } | { problem: string };

/** Uploaded guides are stored as NAME.png; the name rules are the state's (letters, digits, . _ -). */
export const guideFile = (guidesDir: string, name: string) => join(guidesDir, `${name}.png`);

/**
 * Where `guide` comes from and how to load it at `size` x `size` (a seed's portrait from
 * `portrait`, resized with `resize`; files cropped to a square), or why it cannot be had.
 */
export function locateGuide(
  guide: GuideSettings,
  folders: GuideFolders,
  portrait: (seed: number) => Promise<PlanarImage>,
  resize: (img: PlanarImage, size: number) => Promise<PlanarImage>,
): LocatedGuide {
  if (guide.guideFrom === 'seed') {
    return { key: `seed:${guide.guideSeed}`, load: async (size) => resize(await portrait(guide.guideSeed), size) };
  }
  const file = guideFileOf(guide, folders);
  if ('problem' in file) return file;
  return { key: `${guide.guideFrom}:${guide.guideName}@${Math.round(file.modified)}`, load: (size) => readPlanar(file.path, { width: size, height: size }) };
}

/** Why a guide cannot be had (for the store's refusal of guided mode), or null. */
export function guideProblem(guide: GuideSettings, folders: GuideFolders): string | null {
  if (guide.guideFrom === 'seed') return null;
  const file = guideFileOf(guide, folders);
  return 'problem' in file ? file.problem : null;
}

function guideFileOf(guide: GuideSettings, folders: GuideFolders): { path: string; modified: number } | { problem: string } {
  const what = guide.guideFrom === 'capture' ? 'capture' : 'uploaded guide';
  if (guide.guideName === '') return { problem: `dream.guideFrom is ${guide.guideFrom}: set dream.guideName to the ${what}'s name first` };
  const path = guide.guideFrom === 'capture' ? join(folders.capturesDir, `${guide.guideName}.png`) : guideFile(folders.guidesDir, guide.guideName);
  const modified = modifiedAt(path);
  if (modified === null) return { problem: `no ${what} named '${guide.guideName}'${guide.guideFrom === 'upload' ? ' (upload it with PUT /api/guides/NAME)' : ''}` };
  return { path, modified };
}

/**
 * A file's modification time (null: missing), looked at most once a second per path: guided
 * mode asks every frame, and the store's check every change (the modulation matrix makes 30 a
 * second), and a new upload or capture may wait a second to be seen.
 */
const STAT_MS = 1000;
const stats = new Map<string, { at: number; modified: number | null }>();
function modifiedAt(path: string): number | null {
  const now = Date.now();
  const known = stats.get(path);
  if (known && now - known.at < STAT_MS) return known.modified;
  let modified: number | null;
  try {
    modified = statSync(path).mtimeMs;
  } catch {
    modified = null;
  }
  if (stats.size > 256) stats.clear();
  stats.set(path, { at: now, modified });
  return modified;
}
