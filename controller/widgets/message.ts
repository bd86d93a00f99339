/** One line under the controls for what just happened: a short note, or an error that says why. */
import type { Refusal, RefusalCode } from '../../common/protocol.js';

export interface MessageLine {
  info(text: string): void;
  error(text: string): void;
  /** The server refused a request: in a visitor's words by its code, else `lead` and the server's reason. */
  refused(refusal: Refusal, lead: string): void;
  /** A request's answer did not come within its timeout (the server is busy, restarting or out of reach). */
  noAnswer(): void;
}

/** How long a tablet waits for the server to answer a request before telling the visitor it did not come. */
export const ANSWER_TIMEOUT_MS = 5000;

/**
 * What a visitor reads for a refusal, by its code; null: `lead` and the server's own reason
 * (for what a visitor cannot fix by waiting, which staff may want to read).
 */
const REFUSAL_WORDS: Readonly<Record<RefusalCode, string | null>> = {
  'not-your-turn': 'Another visitor is steering. You are in the queue; your turn comes soon.',
  locked: 'The performer has the controls right now.',
  'rate-limited': 'Gently! Too many touches at once. Wait a moment.',
  invalid: null,
  'needs-admin': null,
  forbidden: null,
  'not-found': null,
  full: null,
  'too-large': null,
  unavailable: null,
  failed: null,
};

/** A refusal in words a visitor understands; a code this page does not know (a newer server) reads like one without words. */
export function explainRefusal(refusal: Refusal, lead: string): string {
  return (Object.hasOwn(REFUSAL_WORDS, refusal.code) ? REFUSAL_WORDS[refusal.code] : null) ?? `${lead}: ${refusal.error}`;
}

const INFO_MS = 2500;
const ERROR_MS = 8000;

export function messageLine(element: HTMLElement): MessageLine {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const show = (text: string, isError: boolean, ms: number) => {
    clearTimeout(timer);
    element.textContent = text;
    element.classList.toggle('error', isError);
    timer = setTimeout(() => {
      element.textContent = '';
      element.classList.remove('error');
    }, ms);
  };
  return {
    info: (text) => show(text, false, INFO_MS),
    error: (text) => show(text, true, ERROR_MS),
    refused: (refusal, lead) => show(explainRefusal(refusal, lead), true, ERROR_MS),
    noAnswer: () => show('The server did not answer. Try again in a moment.', true, ERROR_MS),
  };
}
