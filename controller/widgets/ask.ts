/**
 * A widget's request to the server, in one place: the answer or its absence on the message
 * line, and (for buttons) one request at a time.
 */
import type { Refusal } from '../../common/protocol.js';
import type { MessageLine } from './message.js';

/**
 * Awaits `request` (an `emitWithAck` under `socket.timeout`): a refusal is shown on the
 * message line (`lead` names what was refused), a missing answer is said so. Resolves to the
 * answer, or null when none came.
 */
export async function ask<A extends { ok: true } | Refusal>(message: MessageLine, lead: string, request: () => Promise<A>): Promise<A | null> {
  let answer: A;
  try {
    answer = await request();
  } catch {
    message.noAnswer();
    return null;
  }
  if (!answer.ok) message.refused(answer as Refusal, lead);
  return answer;
}

/**
 * A click handler that runs `task` one at a time: a click while it runs is dropped, and
 * `busy(true)` / `busy(false)` are called around it (to disable and mark the button).
 */
export function oneAtATime(busy: (on: boolean) => void, task: () => Promise<void>): () => Promise<void> {
  let running = false;
  return async () => {
    if (running) return;
    running = true;
    busy(true);
    try {
      await task();
    } finally {
      running = false;
      busy(false);
    }
  };
}
