/**
 * The semantic sliders: one per named direction in the generator's manifest (age from
 * UTKFace labels, the rest found by GANSpace), -1..1 with the direction's own words at
 * the ends, and a button that lets the face go back to rest.
 */
import type { TabletSetup } from '../../common/protocol.js';
import { bindSlider } from '../slider.js';
import type { Steering } from '../steer.js';

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function directionSliders(steer: Steering, container: HTMLElement, reset: HTMLButtonElement, directions: TabletSetup['directions']): void {
  container.replaceChildren();
  if (directions.length === 0) {
    const note = document.createElement('p');
    note.className = 'empty';
    note.textContent = 'This model has no named features yet.';
    container.append(note);
    reset.hidden = true;
    return;
  }
  for (const direction of directions) {
    const id = `direction-${direction.name}`;
    const row = document.createElement('div');
    row.className = 'slider';
    const label = document.createElement('label');
    label.htmlFor = id;
    label.className = 'control-label';
    const name = document.createElement('span');
    name.textContent = capitalise(direction.name);
    if (direction.description) label.title = direction.description;
    const output = document.createElement('output');
    output.htmlFor.add(id);
    label.append(name, output);
    const input = document.createElement('input');
    input.type = 'range';
    input.id = id;
    input.min = '-1';
    input.max = '1';
    input.step = '0.01';
    input.value = '0';
    input.dataset.direction = direction.name;
    const ends = document.createElement('div');
    ends.className = 'scale';
    ends.setAttribute('aria-hidden', 'true');
    const [low, high] = direction.ends ?? ['less', 'more'];
    ends.append(Object.assign(document.createElement('span'), { textContent: low }), Object.assign(document.createElement('span'), { textContent: high }));
    row.append(label, input, ends);
    container.append(row);
    bindSlider(steer, input, output, {
      what: capitalise(direction.name),
      read: (state) => state.directions[direction.name] ?? 0,
      patch: (value) => ({ directions: { [direction.name]: value } }),
      format: (value) => (Math.abs(value) < 0.005 ? '0' : value > 0 ? `+${value.toFixed(2)}` : value.toFixed(2)),
    });
  }
  reset.addEventListener('click', () => {
    void steer.send({ directions: Object.fromEntries(directions.map((d) => [d.name, 0])) }, 'Reset');
  });
  steer.onAvailability(() => (reset.disabled = steer.blocked));
}
