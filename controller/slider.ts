/**
 * A range input bound to one number in the live state. The first movement of a gesture is
 * an acknowledged patch (it may be refused: another visitor's turn); the rest streams
 * volatile updates (steer.ts). Every 'state' from the server moves the slider, except
 * while a finger is on it or just after, so an in-flight echo cannot snap it back.
 */
import type { PageState, StatePatch } from '../common/state.js';
import type { Steering } from './steer.js';

const HOLD_MS = 600;

export interface SliderBinding {
  read(state: Readonly<PageState>): number;
  patch(value: number, state: Readonly<PageState>): StatePatch;
  /** The visible value, e.g. "0.50" or "off". */
  format?(value: number): string;
  /** Names the control in a refusal. */
  what: string;
}

export function bindSlider(steer: Steering, input: HTMLInputElement, output: HTMLOutputElement | null, binding: SliderBinding): void {
  let touching = false;
  let gestureSent = false;
  let lastLocal = -Infinity;

  const show = (value: number) => {
    input.value = String(value);
    if (output) output.value = binding.format ? binding.format(value) : value.toFixed(2);
  };
  const follow = () => {
    const state = steer.state;
    if (!state || touching || performance.now() - lastLocal < HOLD_MS) return;
    show(binding.read(state));
  };
  steer.onState(follow);
  steer.onAvailability(() => (input.disabled = steer.blocked));

  input.addEventListener('input', () => {
    const state = steer.state;
    if (!state) return;
    lastLocal = performance.now();
    const value = Number(input.value);
    if (output) output.value = binding.format ? binding.format(value) : value.toFixed(2);
    const patch = binding.patch(value, state);
    if (!gestureSent) {
      gestureSent = true;
      void steer.send(patch, binding.what).then((ok) => {
        if (!ok) {
          lastLocal = -Infinity;
          follow();
        }
      });
    } else steer.stream(patch);
  });
  input.addEventListener('pointerdown', () => {
    touching = true;
    gestureSent = false;
  });
  for (const end of ['pointerup', 'pointercancel', 'change'] as const) {
    input.addEventListener(end, () => {
      touching = false;
      gestureSent = false;
      lastLocal = performance.now();
      setTimeout(follow, HOLD_MS);
    });
  }
  input.disabled = steer.blocked;
}
