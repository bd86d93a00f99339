/**
 * Which screen a connecting display shows. Screens belong to displays, not to nodes:
 * the page says `/?screen=NAME` and keeps saying it when it fails over to another
 * node, so it keeps its place on the wall. A name the wall does not list is refused
 * with a message the page shows, never silently given some other picture.
 */
import { ScreenNameSchema, type WallConfig } from '../../common/wall.js';

export function screenRefusal(wall: WallConfig, requested: unknown): { name: string | undefined } | { error: string } {
  if (wall.layout === 'single') return { name: undefined };
  const names = wall.screens.map((s) => s.name);
  const listed = `this wall's screens: ${names.join(', ')}`;
  if (requested === undefined || requested === null || requested === '') {
    // A mirror shows the same picture everywhere, so a display may join it without a place.
    if (wall.layout === 'mirror') return { name: undefined };
    return { error: `this wall (layout '${wall.layout}') needs each display opened as /?screen=NAME; ${listed}` };
  }
  const parsed = ScreenNameSchema.safeParse(requested);
  if (!parsed.success || !names.includes(parsed.data)) return { error: `unknown screen ${JSON.stringify(String(requested)).slice(0, 40)}; ${listed}` };
  return { name: parsed.data };
}
