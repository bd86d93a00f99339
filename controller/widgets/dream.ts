/**
 * Dreaming, for visitors: how strongly (0 = off) and in which style. Styles are the dream
 * network's friendly layer names, listed by the server (GET /api/tablet); a tap on a style
 * while dreaming is off starts a gentle dream in it. The performer's zoom and guided modes are kept.
 */
import type { TabletSetup } from '../../common/protocol.js';
import type { PageState, StatePatch } from '../../common/state.js';
import { bindSlider } from '../slider.js';
import type { Steering } from '../steer.js';

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
/** The strength a style tap starts with when dreaming was off. */
const START_STRENGTH = 0.5;

export function dreamControls(steer: Steering, tab: HTMLElement, intensity: HTMLInputElement, output: HTMLOutputElement, chips: HTMLElement, styles: TabletSetup['dreamStyles']): void {
  if (styles.length === 0) {
    // No dream network installed: the store would refuse every dream patch, so offer none.
    tab.hidden = true;
    return;
  }
  const dreaming = (state: Readonly<PageState>) => state.dream.mode !== 'off';
  bindSlider(steer, intensity, output, {
    what: 'Dream',
    read: (state) => (dreaming(state) ? state.dream.strength : 0),
    patch: (value, state): StatePatch => (value <= 0.01 ? { dream: { mode: 'off' } } : { dream: { mode: state.dream.mode === 'off' ? 'gentle' : state.dream.mode, strength: value } }),
    format: (value) => (value <= 0.01 ? 'off' : `${Math.round(value * 100)}%`),
  });

  const buttons = styles.map((style, k) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'chip';
    button.textContent = capitalise(style.name);
    if (style.description) button.title = style.description;
    button.dataset.style = style.name;
    button.addEventListener('click', () => {
      const state = steer.state;
      if (!state) return;
      const patch: StatePatch = { dream: { style: style.name, ...(dreaming(state) ? {} : { mode: 'gentle', strength: START_STRENGTH }) } };
      void steer.send(patch, 'Dream style');
    });
    chips.append(button);
    return { button, name: style.name, first: k === 0 };
  });
  const show = () => {
    const state = steer.state;
    for (const b of buttons) {
      // '' means the network's first layer.
      const current = state ? state.dream.style === b.name || (state.dream.style === '' && b.first) : false;
      b.button.classList.toggle('chosen', current && !!state && dreaming(state));
      b.button.disabled = steer.blocked;
    }
  };
  steer.onState(show);
  steer.onAvailability(show);
}
