/**
 * The controller page, for a tablet beside the display (docs/tablet.md): the seed plane,
 * candidate faces rendered on the tablet, semantic sliders, variety and style mixing (style
 * generators), dreaming, walk speed, and "keep this portrait". Wiring only; each control is a widget that talks to the typed
 * socket (through steer.ts) and never to another widget. The socket (and its
 * reconnection policy) is the one the display uses.
 */
import { openSocket } from '../common/socket-client.js';
import { exposeControllerDebug, recordShown } from './debug.js';
import { byId } from '../common/dom.js';
import { FaceRenderer } from './faces.js';
import { loadSetup } from '../common/tablet-setup.js';
import { steering } from './steer.js';
import { candidateStrip } from './widgets/candidates.js';
import { captureWidget } from './widgets/capture.js';
import { connectionWidget } from '../common/connection-status.js';
import { directionSliders } from './widgets/directions.js';
import { dreamControls } from './widgets/dream.js';
import { lockNotice } from './widgets/lock.js';
import { messageLine } from './widgets/message.js';
import { newFaceWidget } from './widgets/new-face.js';
import { nowShowing } from './widgets/now.js';
import { mixControls } from './widgets/mix.js';
import { seedPad } from './widgets/seed-pad.js';
import { tabs } from './widgets/tabs.js';
import { turnBanner } from './widgets/turn.js';
import { walkSpeedWidget } from './widgets/walk-speed.js';

const socket = openSocket('controller');
const message = messageLine(byId('message', HTMLParagraphElement));
const steer = steering(socket, message);

connectionWidget(socket, byId('connection', HTMLElement));
lockNotice(socket, byId('lock', HTMLElement));
turnBanner(steer, byId('turn', HTMLElement), byId('controls', HTMLElement));
newFaceWidget(socket, byId('new-face', HTMLButtonElement), message);
nowShowing(byId('now', HTMLElement), byId('now-img', HTMLImageElement));
walkSpeedWidget(socket, byId('walk-speed', HTMLInputElement), byId('walk-speed-value', HTMLOutputElement), message);
tabs([byId('tab-faces', HTMLButtonElement), byId('tab-features', HTMLButtonElement), byId('tab-mix', HTMLButtonElement), byId('tab-dream', HTMLButtonElement)]);
const capture = captureWidget(
  socket,
  {
    button: byId('capture', HTMLButtonElement),
    dialog: byId('capture-dialog', HTMLDialogElement),
    qr: byId('capture-qr', HTMLImageElement),
    link: byId('capture-link', HTMLAnchorElement),
    close: byId('capture-close', HTMLButtonElement),
  },
  message,
);

let renderError: string | null = null;
const setup = loadSetup();
// Faces are a bonus on slow tablets: if the model cannot run here, everything else still works.
const faces: Promise<FaceRenderer | null> = setup
  .then((s) => FaceRenderer.open(s.model))
  .catch((error: Error) => {
    renderError = error.message;
    console.warn('controller: faces cannot be rendered on this tablet', error);
    message.error('Face previews are unavailable on this tablet; the controls still work.');
    return null;
  });
const pad = seedPad(steer, byId('pad', HTMLElement), byId('pad-canvas', HTMLCanvasElement), byId('pad-puck', HTMLElement), faces);
const strip = candidateStrip(steer, byId('candidates', HTMLElement), faces);
void setup.then((s) => {
  directionSliders(steer, byId('directions', HTMLElement), byId('directions-reset', HTMLButtonElement), s.directions);
  dreamControls(steer, byId('tab-dream', HTMLElement), byId('dream-intensity', HTMLInputElement), byId('dream-intensity-value', HTMLOutputElement), byId('dream-styles', HTMLElement), s.dreamStyles);
  mixControls(
    steer,
    { tab: byId('tab-mix', HTMLElement), variety: byId('variety', HTMLInputElement), varietyValue: byId('variety-value', HTMLOutputElement), chips: byId('mix-parts', HTMLElement), other: byId('mix-face', HTMLButtonElement) },
    s.model.style,
    faces,
  );
});

const shown = recordShown(byId('turn', HTMLElement), byId('message', HTMLElement));
exposeControllerDebug({
  shown,
  candidates: () => strip.shown().map((c) => ({ seed: c.seed, raw: Array.from(c.raw) })),
  rendered: async () => {
    const renderer = await faces;
    if (!renderer) return false;
    await strip.drawn;
    await pad.ready;
    return true;
  },
  get status() {
    return steer.status;
  },
  get lastCapture() {
    return capture.last();
  },
  get renderError() {
    return renderError;
  },
});

// Safari ignores user-scalable=no; its own pinch events are the way to stop the zoom.
document.addEventListener('gesturestart', (event) => event.preventDefault());
