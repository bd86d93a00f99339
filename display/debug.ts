/**
 * Test and operations instrumentation, not an API: `window.__display` lets an e2e
 * test or a person at the devtools console see what the display received, without
 * reaching into its internals. It is read-only: getters only, and `lastMeta` is a
 * copy, so poking at it cannot change what is shown.
 */
import type { FrameMeta } from '../common/frame.js';

export interface DisplayDebug {
  /** Frames decoded and handed to the screen since the page loaded. */
  readonly framesReceived: number;
  /** The metadata of the newest frame shown, or null before the first. */
  readonly lastMeta: FrameMeta | null;
  /** Whether the socket is connected right now. */
  readonly connected: boolean;
  /** How many times the canvas was drawn (draw-on-demand check). */
  readonly draws: number;
  /** Textures alive on the GPU (three.js renderer.info); stays small unless something leaks. */
  readonly textures: number;
  /** Video walls: the estimate of the node's cluster clock (offset = cluster - performance.now(), its round trip), or null before one. */
  readonly clock: { offset: number; rtt: number } | null;
}

export interface RenderCounters {
  draws(): number;
  textures(): number;
  clock(): { offset: number; rtt: number } | null;
}

declare global {
  interface Window {
    __display?: DisplayDebug;
  }
}

export interface DebugRecorder {
  frame(meta: FrameMeta): void;
  connection(connected: boolean): void;
}

export function exposeDebugHook(counters: RenderCounters): DebugRecorder {
  let framesReceived = 0;
  let lastMeta: FrameMeta | null = null;
  let connected = false;
  const hook: DisplayDebug = Object.freeze({
    get framesReceived() {
      return framesReceived;
    },
    get lastMeta() {
      return lastMeta ? structuredClone(lastMeta) : null;
    },
    get connected() {
      return connected;
    },
    get draws() {
      return counters.draws();
    },
    get textures() {
      return counters.textures();
    },
    get clock() {
      const c = counters.clock();
      return c ? { offset: c.offset, rtt: c.rtt } : null;
    },
  });
  Object.defineProperty(window, '__display', { value: hook, writable: false, configurable: false, enumerable: false });
  return {
    frame(meta) {
      framesReceived++;
      lastMeta = meta;
    },
    connection(value) {
      connected = value;
    },
  };
}
