/** The three panels under the pad (faces, features, dream): one visible at a time, so nothing scrolls. */
export function tabs(buttons: HTMLButtonElement[]): void {
  const select = (chosen: HTMLButtonElement) => {
    for (const button of buttons) {
      const on = button === chosen;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(button.getAttribute('aria-controls') ?? '');
      if (panel) panel.hidden = !on;
    }
  };
  for (const button of buttons) button.addEventListener('click', () => select(button));
  select(buttons.find((b) => b.getAttribute('aria-selected') === 'true') ?? buttons[0]!);
}
