/**
 * A strip of candidate faces, rendered on the tablet from random seeds. A tap asks the
 * installation to travel to that face (mode 'seed'); the server's glide makes the journey
 * smooth. The last tile deals a fresh hand.
 */
import { seedToLatent } from '../../common/latent.js';
import { randomSeed } from '../../common/random.js';
import type { FaceRenderer, RenderedFace } from '../faces.js';
import type { Steering } from '../steer.js';

export const CANDIDATES = 5;

export interface CandidateStrip {
  /** The faces on show, with the generator's raw output (for the tests' "same face as the server" check). */
  shown(): { seed: number; raw: Float32Array }[];
  /** Resolves after the current hand has been drawn. */
  readonly drawn: Promise<void>;
}

export function candidateStrip(steer: Steering, strip: HTMLElement, faces: Promise<FaceRenderer | null>): CandidateStrip {
  const tiles: { seed: number; button: HTMLButtonElement; canvas: HTMLCanvasElement; face: RenderedFace | null }[] = [];
  for (let k = 0; k < CANDIDATES; k++) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'candidate loading';
    const canvas = document.createElement('canvas');
    button.append(canvas);
    strip.append(button);
    tiles.push({ seed: 0, button, canvas, face: null });
  }
  const more = document.createElement('button');
  more.type = 'button';
  more.className = 'candidate more';
  more.setAttribute('aria-label', 'Show other faces');
  more.textContent = '↻';
  strip.append(more);

  let hand = 0;
  let drawn: Promise<void> = Promise.resolve();

  const deal = () => {
    const mine = ++hand;
    for (const tile of tiles) {
      tile.seed = randomSeed();
      tile.face = null;
      tile.button.classList.add('loading');
      tile.button.dataset.seed = String(tile.seed);
      tile.button.setAttribute('aria-label', `Travel to portrait #${tile.seed}`);
    }
    highlight();
    drawn = (async () => {
      const renderer = await faces;
      if (!renderer) return;
      const rendered = await renderer.render(tiles.map((t) => seedToLatent(t.seed, renderer.latentSize)));
      if (mine !== hand) return;
      rendered.forEach((face, k) => {
        const tile = tiles[k]!;
        tile.face = face;
        tile.canvas.width = face.image.width;
        tile.canvas.height = face.image.height;
        tile.canvas.getContext('2d')?.putImageData(face.image, 0, 0);
        tile.button.classList.remove('loading');
      });
    })().catch((err: Error) => console.warn('controller: could not render candidate faces', err));
  };

  const highlight = () => {
    const state = steer.state;
    for (const tile of tiles) tile.button.classList.toggle('chosen', state?.mode === 'seed' && state.seed === tile.seed);
  };
  const refresh = () => {
    for (const tile of tiles) tile.button.disabled = steer.blocked;
    more.disabled = !steer.state;
  };

  for (const tile of tiles) {
    tile.button.addEventListener('click', () => {
      if (tile.button.classList.contains('loading')) return;
      void steer.send({ mode: 'seed', seed: tile.seed }, 'Face');
    });
  }
  more.addEventListener('click', deal);
  steer.onState(() => {
    highlight();
    refresh();
  });
  steer.onAvailability(refresh);
  void faces.then((renderer) => {
    if (!renderer) strip.classList.add('unavailable');
  });
  deal();
  refresh();
  return {
    shown: () => tiles.filter((t) => t.face).map((t) => ({ seed: t.seed, raw: t.face!.raw })),
    get drawn() {
      return drawn;
    },
  };
}
