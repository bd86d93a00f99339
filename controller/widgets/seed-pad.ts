/**
 * The seed plane as an XY pad. The pad shows a 5 x 5 window of the plane's grid faces,
 * each drawn where it lies, rendered on the tablet; a finger anywhere between them is a
 * bilinear blend of the four nearest (common/latent.ts planeAt), so a drag morphs the
 * face continuously. The touch-down is an acknowledged patch (it may be refused: another
 * visitor's turn); the drag after it streams volatile updates (steer.ts).
 */
import { planeSeedAt, seedToLatent } from '../../common/latent.js';
import { StateSchema } from '../../common/state.js';
import type { FaceRenderer } from '../faces.js';
import type { Steering } from '../steer.js';

/** Grid faces across the pad; the window is centred on the middle of the plane. */
export const PAD_FACES = 5;
const PLANE = StateSchema.shape.plane.shape;
const CENTRE = ((PLANE.x.minValue ?? 0) + (PLANE.x.maxValue ?? 16)) / 2;
/** Plane coordinate of the pad's left/top edge: each face's tile is centred on its grid point. */
export const PAD_ORIGIN = Math.round(CENTRE) - (PAD_FACES - 1) / 2 - 0.5;

/** Pad fraction (0..1) -> plane coordinate, and back. */
export const toPlane = (f: number) => PAD_ORIGIN + Math.min(1, Math.max(0, f)) * PAD_FACES;
export const fromPlane = (p: number) => (p - PAD_ORIGIN) / PAD_FACES;

export interface SeedPad {
  /** Renders (or re-renders for a new plane seed) the grid faces; resolves when all are drawn. */
  readonly ready: Promise<void>;
}

export function seedPad(steer: Steering, pad: HTMLElement, canvas: HTMLCanvasElement, puck: HTMLElement, faces: Promise<FaceRenderer | null>): SeedPad {
  const tiles = new Map<string, ImageBitmap>();
  let planeSeed: number | null = null;
  let dragging: number | null = null;
  let local: { x: number; y: number } | null = null;
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));

  const draw = () => {
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const w = canvas.width;
    const h = canvas.height;
    ctx.fillStyle = '#141418';
    ctx.fillRect(0, 0, w, h);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    for (let j = 0; j < PAD_FACES; j++) {
      for (let i = 0; i < PAD_FACES; i++) {
        const tile = tiles.get(`${i},${j}`);
        if (!tile) continue;
        const x0 = Math.round((i * w) / PAD_FACES);
        const y0 = Math.round((j * h) / PAD_FACES);
        ctx.drawImage(tile, x0, y0, Math.round(((i + 1) * w) / PAD_FACES) - x0, Math.round(((j + 1) * h) / PAD_FACES) - y0);
      }
    }
  };

  const resize = () => {
    const ratio = Math.min(2, window.devicePixelRatio || 1);
    const w = Math.max(1, Math.round(pad.clientWidth * ratio));
    const h = Math.max(1, Math.round(pad.clientHeight * ratio));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      draw();
    }
  };
  new ResizeObserver(resize).observe(pad);

  const renderGrid = async (seed: number) => {
    const renderer = await faces;
    if (!renderer) return;
    tiles.clear();
    draw();
    const first = PAD_ORIGIN + 0.5;
    // Row by row, so the mosaic fills in visibly instead of all at once after a pause.
    for (let j = 0; j < PAD_FACES; j++) {
      const cells = Array.from({ length: PAD_FACES }, (_, i) => ({ i, seed: planeSeedAt(seed, first + i, first + j) }));
      const rendered = await renderer.render(cells.map((c) => seedToLatent(c.seed, renderer.latentSize)));
      if (planeSeed !== seed) return; // the plane changed meanwhile
      for (const [k, face] of rendered.entries()) tiles.set(`${cells[k]!.i},${j}`, await createImageBitmap(face.image));
      draw();
    }
    resolveReady();
  };

  const place = (x: number, y: number, visible: boolean) => {
    puck.hidden = !visible;
    puck.style.left = `${fromPlane(x) * 100}%`;
    puck.style.top = `${fromPlane(y) * 100}%`;
  };

  steer.onState((state) => {
    if (state.plane.seed !== planeSeed) {
      planeSeed = state.plane.seed;
      void renderGrid(planeSeed).catch((err: Error) => console.warn('controller: could not render the seed plane', err));
    }
    if (dragging !== null) return;
    const inWindow = (p: number) => fromPlane(p) >= 0 && fromPlane(p) <= 1;
    const onPad = state.mode === 'plane' && inWindow(state.plane.x) && inWindow(state.plane.y);
    place(state.plane.x, state.plane.y, onPad);
    pad.classList.toggle('active', onPad);
  });
  const refresh = () => pad.classList.toggle('disabled', steer.blocked);
  steer.onAvailability(refresh);

  const at = (event: PointerEvent) => {
    const box = pad.getBoundingClientRect();
    const x = toPlane((event.clientX - box.left) / box.width);
    const y = toPlane((event.clientY - box.top) / box.height);
    return { x: Math.round(x * 1000) / 1000, y: Math.round(y * 1000) / 1000 };
  };

  pad.addEventListener('pointerdown', (event) => {
    if (dragging !== null || steer.blocked) return;
    dragging = event.pointerId;
    pad.setPointerCapture(event.pointerId);
    local = at(event);
    place(local.x, local.y, true);
    pad.classList.add('active', 'touching');
    void steer.send({ mode: 'plane', plane: local }, 'Seed plane');
  });
  pad.addEventListener('pointermove', (event) => {
    if (event.pointerId !== dragging) return;
    local = at(event);
    place(local.x, local.y, true);
    steer.stream({ mode: 'plane', plane: local });
  });
  const end = (event: PointerEvent) => {
    if (event.pointerId !== dragging) return;
    dragging = null;
    pad.classList.remove('touching');
    if (local) steer.stream({ mode: 'plane', plane: local });
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  resize();
  return { ready };
}
