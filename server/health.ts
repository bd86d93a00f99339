/**
 * Is the installation well? Displays send heartbeats (common/protocol.ts); this file
 * keeps the newest one per display and judges the whole: a display that went quiet,
 * a display drawn by a software GPU adapter, or generation falling well below its
 * target frame rate makes /health 'degraded', with one readable reason each.
 */
import { HeartbeatSchema, type Heartbeat } from '../common/protocol.js';
import { describeError } from '../common/state.js';
import type { PortraitServer } from './inputs/socket.js';
import { logger } from './log.js';

const log = logger('health');

/** WebGL renderer names of adapters that draw on the CPU. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|lavapipe|software rasterizer|microsoft basic render/i;

/** Generation must have run this long before a low frame rate counts (warm-up, first frames). */
export const FPS_GRACE_MS = 10_000;

export function isSoftwareRenderer(renderer: string | undefined): boolean {
  return renderer !== undefined && SOFTWARE_RENDERER.test(renderer);
}

export interface DisplayReport {
  id: string;
  address: string;
  /** Seconds since the last heartbeat (or since connecting, before the first). */
  silentFor: number;
  stale: boolean;
  fps: number | null;
  frames: number | null;
  renderer: string | null;
  software: boolean;
  /** The display's screen in device pixels, from its heartbeat (null before the first, or from an older page). */
  screen: { width: number; height: number } | null;
}

interface Entry {
  address: string;
  since: number;
  beat: Heartbeat | null;
  at: number;
}

/** The newest heartbeat of every connected display. */
export class DisplayHeartbeats {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  attach(io: PortraitServer): void {
    io.on('connection', (socket) => {
      if (socket.data.role !== 'display') return;
      const entry: Entry = { address: socket.handshake.address, since: this.now(), beat: null, at: this.now() };
      this.entries.set(socket.id, entry);
      let refused = 0;
      socket.on('heartbeat', (beat: unknown) => {
        const parsed = HeartbeatSchema.safeParse(beat);
        if (!parsed.success) {
          if (refused++ < 3) log.warn({ id: socket.id, error: describeError(parsed.error) }, 'invalid heartbeat ignored');
          return;
        }
        const first = entry.beat === null;
        entry.beat = parsed.data;
        entry.at = this.now();
        if (first) log.info({ id: socket.id, renderer: parsed.data.renderer, software: isSoftwareRenderer(parsed.data.renderer) }, 'display heartbeat');
      });
      socket.on('disconnect', () => this.entries.delete(socket.id));
    });
  }

  report(staleAfterMs: number): DisplayReport[] {
    const now = this.now();
    return [...this.entries].map(([id, e]) => {
      const silentMs = now - e.at;
      const renderer = e.beat?.renderer ?? null;
      return {
        id,
        address: e.address,
        silentFor: Math.round(silentMs / 100) / 10,
        stale: silentMs > staleAfterMs,
        fps: e.beat?.fps ?? null,
        frames: e.beat?.frames ?? null,
        renderer,
        software: isSoftwareRenderer(renderer ?? undefined),
        screen: e.beat?.screen ?? null,
      };
    });
  }
}

export interface HealthInput {
  displays: readonly DisplayReport[];
  /** Frames per second generated now, and the configured target. */
  fps: number;
  targetFps: number;
  /** Below this fraction of the target the frame rate counts as falling; 0 disables. */
  degradedFpsRatio: number;
  /** How long generation has been running without a pause, in ms; null while it idles. */
  generatingForMs: number | null;
}

export interface HealthVerdict {
  status: 'ok' | 'degraded';
  reasons: string[];
}

export function assessHealth(input: HealthInput): HealthVerdict {
  const reasons: string[] = [];
  for (const d of input.displays) {
    if (d.stale) reasons.push(`display ${d.id} (${d.address}) has sent no heartbeat for ${Math.round(d.silentFor)} s`);
    if (d.software) reasons.push(`display ${d.id} (${d.address}) draws with a software GPU adapter (${d.renderer}); check the GPU driver and Chromium's GPU flags`);
  }
  const floor = input.targetFps * input.degradedFpsRatio;
  if (input.generatingForMs !== null && input.generatingForMs >= FPS_GRACE_MS && floor > 0 && input.fps < floor) {
    reasons.push(`generating ${input.fps.toFixed(1)} fps, below ${Math.round(input.degradedFpsRatio * 100)}% of the ${input.targetFps} fps target`);
  }
  return { status: reasons.length ? 'degraded' : 'ok', reasons };
}
