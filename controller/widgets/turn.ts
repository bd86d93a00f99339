/**
 * Whose turn it is, in one calm line above the controls: free, yours (with the time left
 * while others wait), waiting (your place in the queue and about how long), or watching.
 * While nobody is around the installation wanders, and the line invites a touch.
 */
import type { TabletStatus } from '../../common/protocol.js';
import type { Steering } from '../steer.js';

/** `dreaming`: a dream pass is on, so the wandering faces are also being dreamed over (the line says only what is true). */
export function describeTurn(status: TabletStatus, dreaming = false): { text: string; tone: 'free' | 'yours' | 'wait' } {
  if (status.turn === 'yours') {
    const left = status.seconds !== null ? ` ${status.seconds} s left: ${status.queue === 1 ? 'someone is' : `${status.queue} people are`} waiting.` : '';
    return { text: `Your turn: the face is yours.${left}`, tone: 'yours' };
  }
  if (status.turn === 'waiting') {
    const place = status.position === 1 ? 'You are next' : `You are number ${status.position} in the queue`;
    const when = status.seconds !== null ? `, in ${status.seconds <= 5 ? 'a moment' : `about ${status.seconds} s`}` : '';
    return { text: `Another visitor is steering. ${place}${when}.`, tone: 'wait' };
  }
  if (status.turn === 'watching') return { text: 'Another visitor is steering. Touch any control to join the queue.', tone: 'wait' };
  if (status.attract) return { text: `The portraits are ${dreaming ? 'dreaming' : 'wandering'} by themselves. Touch anything to take over.`, tone: 'free' };
  return { text: 'Touch the faces to steer the portrait.', tone: 'free' };
}

export function turnBanner(steer: Steering, element: HTMLElement, panel: HTMLElement): void {
  const show = () => {
    const status = steer.status;
    const locked = steer.state?.visitorLock ?? false;
    element.hidden = locked || status === null;
    if (!status) return;
    const { text, tone } = describeTurn(status, (steer.state?.dream.mode ?? 'off') !== 'off');
    if (element.textContent !== text) element.textContent = text;
    element.dataset.tone = tone;
    // Controls stay usable while waiting (a touch keeps your place), but look it.
    panel.classList.toggle('waiting', tone === 'wait' && !locked);
  };
  steer.onAvailability(show);
  steer.onState(show);
}
