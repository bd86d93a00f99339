/**
 * The Mix tab, for generators with a W space (TabletSetup.model.style): how varied the faces
 * may be (state.face.truncation, shown as "variety") and style mixing, which borrows one
 * group of styles from a second face (face.mix, face.mixSeed). The second face is
 * drawn on the tablet; a tap on it picks another. Without a W space the tab stays hidden:
 * the server refuses mixing there, and truncation changes little on such generators.
 */
import { seedToLatent } from '../../common/latent.js';
import type { TabletSetup } from '../../common/protocol.js';
import { randomSeed } from '../../common/random.js';
import { StateSchema, type LiveState } from '../../common/state.js';
import type { FaceRenderer } from '../faces.js';
import { bindSlider } from '../slider.js';
import type { Steering } from '../steer.js';

type Mix = LiveState['face']['mix'];

/** The mix modes in visitors' words (common/generator-inputs.ts says what each feeds the generator). */
export const MIX_CHOICES: readonly { mix: Mix; label: string; title: string }[] = [
  { mix: 'off', label: 'Nothing', title: 'The portrait is all its own' },
  { mix: 'coarse', label: 'Head & hair', title: 'Take the other face’s head shape, pose, hair and skin tone' },
  { mix: 'middle', label: 'Eyes & mouth', title: 'Take the other face’s eyes, nose, mouth and colouring' },
  { mix: 'fine', label: 'Colouring', title: 'Take the other face’s fine colours and texture' },
];

/** The mix a tap on the other face starts with when mixing was off. */
const START_MIX: Mix = 'middle';

const TRUNCATION = StateSchema.shape.face.shape.truncation;

/** Truncation as visitors see it: 0 % is the average face, 100 % the model's full variety. */
export function formatVariety(truncation: number): string {
  return `${Math.round(truncation * 100)}%`;
}

export interface MixControls {
  tab: HTMLElement;
  variety: HTMLInputElement;
  varietyValue: HTMLOutputElement;
  chips: HTMLElement;
  /** A button holding a canvas: the other face, tapped for another. */
  other: HTMLButtonElement;
}

export function mixControls(steer: Steering, ui: MixControls, style: TabletSetup['model']['style'], faces: Promise<FaceRenderer | null>): void {
  if (!style) {
    ui.tab.hidden = true;
    return;
  }
  ui.tab.hidden = false;
  ui.variety.min = String(TRUNCATION.minValue ?? 0);
  ui.variety.max = String(TRUNCATION.maxValue ?? 1);
  bindSlider(steer, ui.variety, ui.varietyValue, {
    what: 'Variety',
    read: (state) => state.face.truncation,
    patch: (value) => ({ face: { truncation: value } }),
    format: formatVariety,
  });

  const buttons = MIX_CHOICES.map((choice) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'chip';
    button.textContent = choice.label;
    button.title = choice.title;
    button.dataset.mix = choice.mix;
    button.addEventListener('click', () => void steer.send({ face: { mix: choice.mix } }, 'Mixing'));
    ui.chips.append(button);
    return { button, mix: choice.mix };
  });

  const canvas = ui.other.querySelector('canvas');
  let drawnSeed: number | null = null;
  const drawOther = async (seed: number) => {
    if (!canvas || seed === drawnSeed) return;
    drawnSeed = seed;
    const renderer = await faces;
    if (!renderer) {
      ui.other.classList.add('unavailable');
      return;
    }
    const [face] = await renderer.render([seedToLatent(seed, renderer.latentSize)]);
    if (!face || seed !== drawnSeed) return;
    canvas.width = face.image.width;
    canvas.height = face.image.height;
    canvas.getContext('2d')?.putImageData(face.image, 0, 0);
  };
  ui.other.addEventListener('click', () => {
    const state = steer.state;
    if (!state) return;
    void steer.send({ face: { mixSeed: randomSeed(), ...(state.face.mix === 'off' ? { mix: START_MIX } : {}) } }, 'Mixing');
  });

  const show = () => {
    const state = steer.state;
    for (const b of buttons) {
      b.button.classList.toggle('chosen', state?.face.mix === b.mix);
      b.button.disabled = steer.blocked;
    }
    ui.other.disabled = steer.blocked;
    if (state) {
      ui.other.classList.toggle('chosen', state.face.mix !== 'off');
      void drawOther(state.face.mixSeed).catch((err: Error) => console.warn('controller: could not draw the other face', err));
    }
  };
  steer.onState(show);
  steer.onAvailability(show);
}
