/**
 * The frame loop's view of the wall (server/pipeline/loop.ts WallTiming): the cluster
 * clock, the presentation delay, and which screens need a frame this slot. A mirror
 * makes one frame for all its displays; tile and gallery make one per screen that has
 * a display connected to this node (usually one: each screen's own PC).
 */
import { findScreen, type WallScreen } from '../../common/wall.js';
import type { ResolvedConfig } from '../config.js';
import type { DisplayHub } from '../displays.js';
import type { WallTiming } from '../pipeline/loop.js';
import type { ClusterClock } from './clock.js';

export function wallTiming(config: ResolvedConfig, clock: ClusterClock, displays: DisplayHub): WallTiming | null {
  const wall = config.wall;
  if (wall.layout === 'single') return null;
  const targets =
    wall.layout === 'mirror'
      ? () => [undefined]
      : () => displays.screens().map((name) => findScreen(wall, name)).filter((s): s is WallScreen => s !== undefined);
  return { now: () => clock.now(), presentDelayMs: wall.presentDelayMs, targets };
}
