import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { refusal, type RefusalCode } from '../../common/protocol.js';
import { ask, oneAtATime } from '../../controller/widgets/ask.js';
import { explainRefusal, messageLine, type MessageLine } from '../../controller/widgets/message.js';

/** The two things the message line touches on its element. */
function fakeLine() {
  const classes = new Set<string>();
  const element = {
    textContent: '',
    classList: {
      toggle: (name: string, on: boolean) => void (on ? classes.add(name) : classes.delete(name)),
      remove: (name: string) => void classes.delete(name),
    },
  };
  return { element, classes };
}

describe('the tablet message line', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('says when the server did not answer, as an error that outlasts a note, then clears', () => {
    const { element, classes } = fakeLine();
    const line = messageLine(element as unknown as HTMLElement);
    line.info('A new face is on its way');
    expect(classes.has('error')).toBe(false);
    line.noAnswer();
    expect(element.textContent).toBe('The server did not answer. Try again in a moment.');
    expect(classes.has('error')).toBe(true);
    vi.advanceTimersByTime(2600);
    expect(element.textContent).not.toBe('');
    vi.advanceTimersByTime(6000);
    expect(element.textContent).toBe('');
    expect(classes.has('error')).toBe(false);
  });
});

describe('refusals on the tablet', () => {
  it('are explained by their code, whatever the message says', () => {
    expect(explainRefusal(refusal('not-your-turn', 'x'), 'Face refused')).toMatch(/^Another visitor is steering/);
    expect(explainRefusal(refusal('locked', 'x'), 'Face refused')).toBe('The performer has the controls right now.');
    expect(explainRefusal(refusal('rate-limited', 'x'), 'Face refused')).toMatch(/^Gently!/);
    // The old prefixes mean nothing any more: a message that reads like a lock is still what its code says.
    expect(explainRefusal(refusal('invalid', 'locked: wait for your turn, slow down'), 'Face refused')).toBe('Face refused: locked: wait for your turn, slow down');
    expect(explainRefusal(refusal('needs-admin', 'display: only the VJ/administrator may change this'), 'Reset refused')).toBe('Reset refused: display: only the VJ/administrator may change this');
    // A code from a newer server reads like one without words of its own.
    expect(explainRefusal({ ok: false, code: 'brand-new' as RefusalCode, error: 'why' }, 'New face refused')).toBe('New face refused: why');
  });

  it('ask: shows a refusal, says when no answer came, and hands back the answer', async () => {
    const said: string[] = [];
    const line: MessageLine = {
      info: (text) => said.push(`info ${text}`),
      error: (text) => said.push(`error ${text}`),
      refused: (r, lead) => said.push(`refused ${explainRefusal(r, lead)}`),
      noAnswer: () => said.push('no answer'),
    };
    expect(await ask(line, 'New face refused', async () => ({ ok: true as const, version: 3 }))).toEqual({ ok: true, version: 3 });
    expect(await ask(line, 'New face refused', async () => refusal('locked', 'locked: the performer has the controls right now'))).toMatchObject({ code: 'locked' });
    expect(await ask(line, 'New face refused', () => Promise.reject(new Error('operation has timed out')))).toBeNull();
    expect(said).toEqual(['refused The performer has the controls right now.', 'no answer']);
  });

  it('oneAtATime: drops a click while the last one runs, and marks the button busy around it', async () => {
    const marks: boolean[] = [];
    let runs = 0;
    let finish = () => {};
    const click = oneAtATime(
      (on) => marks.push(on),
      () => {
        runs++;
        return new Promise<void>((resolve) => (finish = resolve));
      },
    );
    const first = click();
    await click();
    expect(runs).toBe(1);
    expect(marks).toEqual([true]);
    finish();
    await first;
    expect(marks).toEqual([true, false]);
    const failing = oneAtATime((on) => marks.push(on), () => Promise.reject(new Error('boom')));
    await expect(failing()).rejects.toThrow('boom');
    expect(marks).toEqual([true, false, true, false]);
  });
});
