/**
 * The wall label beside the portrait: which face this is, and that nobody has it.
 * Two short lines, so on a wide screen it fits in the black bar next to the picture.
 */
import type { FrameMeta } from '../common/frame.js';

/** The face a frame is closest to: the walk lies between two seeds, `t` of the way along. */
export function nearestSeed(meta: FrameMeta): number {
  return meta.t < 0.5 ? meta.seeds[0] : meta.seeds[1];
}

export function wallCaption(element: HTMLElement): { update(meta: FrameMeta): void; show(visible: boolean): void } {
  const title = document.createElement('span');
  title.className = 'caption-title';
  const note = document.createElement('span');
  note.className = 'caption-note';
  note.textContent = 'this person does not exist';
  element.replaceChildren(title, note);
  return {
    update(meta) {
      const text = `Portrait #${nearestSeed(meta)}`;
      if (title.textContent !== text) title.textContent = text;
    },
    show(visible) {
      element.classList.toggle('visible', visible);
    },
  };
}
