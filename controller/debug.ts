/**
 * Test and operations instrumentation, not an API: `window.__controller` lets an e2e test
 * (or a person at the console) see what the tablet rendered and whether it is ready,
 * without reaching into the widgets. Read-only; arrays are copies.
 */
import type { CaptureAck, TabletStatus } from '../common/protocol.js';

export interface ControllerDebug {
  /** Candidate faces on show, with the generator's raw output as plain numbers. */
  candidates(): { seed: number; raw: number[] }[];
  /** Resolves once the candidates and the pad's faces have been drawn (or rendering failed). */
  rendered(): Promise<boolean>;
  readonly status: TabletStatus | null;
  readonly lastCapture: CaptureAck | null;
  /** Why faces could not be rendered on this tablet, if they could not. */
  readonly renderError: string | null;
}

declare global {
  interface Window {
    __controller?: ControllerDebug;
  }
}

export function exposeControllerDebug(hook: ControllerDebug): void {
  Object.defineProperty(window, '__controller', { value: Object.freeze(hook), writable: false, configurable: false, enumerable: false });
}
