import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { messageLine } from '../../controller/widgets/message.js';

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
