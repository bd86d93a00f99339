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
  try {
    return { path, modified: statSync(path).mtimeMs };
  } catch {
    return { problem: `no ${what} named '${guide.guideName}'${guide.guideFrom === 'upload' ? ' (upload it with PUT /api/guides/NAME)' : ''}` };
  }
}
