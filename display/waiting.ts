/** The calm waiting state: a soft breathing light (CSS-animated) over the dimmed last picture. */
export function waitingLight(element: HTMLElement): { show(visible: boolean): void } {
  return {
    show(visible) {
      element.classList.toggle('visible', visible);
    },
  };
}
