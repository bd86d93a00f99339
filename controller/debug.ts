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
  /**
   * The turn line and message line as they changed, oldest first (the last 100): a test can
   * check what a visitor was shown even when it lasted less than a busy browser's poll.
   */
  shown(): Shown[];
}

export interface Shown {
  turn: string;
  tone: string;
  message: string;
}

/** Records every change of the turn and message lines (text or tone) for `shown()`. */
export function recordShown(turn: HTMLElement, message: HTMLElement, keep = 100): () => Shown[] {
  const log: Shown[] = [];
  const note = () => {
    const now = { turn: turn.textContent ?? '', tone: turn.dataset.tone ?? '', message: message.textContent ?? '' };
    const last = log.at(-1);
    if (last && last.turn === now.turn && last.tone === now.tone && last.message === now.message) return;
    log.push(now);
    if (log.length > keep) log.shift();
  };
  const observer = new MutationObserver(note);
  for (const element of [turn, message]) observer.observe(element, { childList: true, characterData: true, subtree: true, attributes: true, attributeFilter: ['data-tone'] });
  note();
  return () => log.map((s) => ({ ...s }));
}

declare global {
  interface Window {
    __controller?: ControllerDebug;
  }
}

export function exposeControllerDebug(hook: ControllerDebug): void {
  Object.defineProperty(window, '__controller', { value: Object.freeze(hook), writable: false, configurable: false, enumerable: false });
}
