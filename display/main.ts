/**
 * The display page: a fullscreen portrait that moves smoothly at the screen's refresh
 * rate, fed by frames from the server. Wiring only; each part lives in its own file:
 * net.ts (socket, decode), picture.ts (blend), scene.ts (WebGL), loop.ts (draw on demand).
 * On a video wall (`/?screen=NAME`), present.ts holds each frame until its presentation
 * time on the cluster clock, which sync.ts estimates, so all screens change together.
 */
import { DEFAULT_STATE, type LiveState } from '../common/state.js';
import { wallCaption } from './caption.js';
import { exposeDebugHook } from './debug.js';
import { burnInDrift } from './drift.js';
import { sendHeartbeats } from './heartbeat.js';
import { createDrawLoop } from './loop.js';
import { connectDisplay } from './net.js';
import { FramePace } from './pace.js';
import { Picture } from './picture.js';
import { Presenter } from './present.js';
import { ClusterClockSync } from './sync.js';
import { Stage } from './scene.js';
import { frameTexture } from './texture.js';
import { waitingLight } from './waiting.js';

/** The first picture, and the first after a wait, rises from the dark this slowly. */
const RISE_MS = 1500;
/** While the server is away the last picture sinks to black this slowly. */
const SINK_MS = 8000;
/** A blackout change from the VJ or a tablet fades in over this long. */
const BLACKOUT_FADE_MS = 1200;
/** An unattended screen must recover from a failed start (e.g. a GPU hiccup) by itself. */
const RETRY_BOOT_MS = 60_000;

function element<T extends HTMLElement>(id: string, type: abstract new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`display: #${id} is missing from index.html`);
  return found;
}

function boot(): void {
  const waiting = waitingLight(element('waiting', HTMLElement));
  waiting.show(true);
  try {
    start(element('stage', HTMLCanvasElement), waiting);
  } catch (error) {
    // Never an error page on a gallery wall: log for whoever opens the console, keep breathing, retry.
    console.error('display: could not start, retrying in a minute', error);
    setTimeout(() => location.reload(), RETRY_BOOT_MS);
  }
}

function start(canvas: HTMLCanvasElement, waiting: ReturnType<typeof waitingLight>): void {
  const params = new URLSearchParams(location.search);
  // ?upscale=bilinear: plain filtering instead of the edge-aware passes, to compare them.
  const stage = new Stage(canvas, { edgeAware: params.get('upscale') !== 'bilinear' });
  const picture = new Picture(stage);
  const pace = new FramePace();
  const captionElement = element('caption', HTMLElement);
  const notice = element('notice', HTMLElement);
  const screen = params.get('screen') ?? undefined;
  const caption = wallCaption(captionElement);
  // Burn-in care: picture and label wander a few pixels, slowly, while a picture is up.
  const drift = burnInDrift();
  const loop = createDrawLoop((now) => {
    const moving = picture.advance(now);
    const offset = drift.take(now);
    stage.setOffset(offset.x, offset.y);
    captionElement.style.transform = `translate(${offset.x.toFixed(2)}px, ${offset.y.toFixed(2)}px)`;
    stage.render();
    return moving;
  });
  const debug = exposeDebugHook({ draws: () => loop.draws, textures: () => stage.renderer.info.memory.textures, clock: () => sync?.sample ?? null });

  let sync: ClusterClockSync | null = null;
  let connected = false;
  // True once a frame has arrived on the current connection; until then the screen is "waiting".
  let live = false;
  let look: LiveState['display'] = DEFAULT_STATE.display;

  /** Brightness follows the situation: dark while waiting, otherwise as bright as the blackout allows. */
  const relight = (durationMs: number) => {
    picture.fadeTo(connected && live ? 1 - look.blackout : 0, durationMs, performance.now());
    // No picture, nothing to protect: the waiting screen stays idle (draw on demand).
    if (connected && live) drift.start(() => loop.request(), () => Math.min(window.devicePixelRatio || 1, 2));
    else drift.stop();
    caption.show(live && look.caption);
    loop.request();
  };
  relight(0);

  const presenter = new Presenter<ImageBitmap>({
    clusterNow: (now) => sync?.clusterAt(now) ?? null,
    requestFrame: (callback) => requestAnimationFrame(callback),
    release: (bitmap) => bitmap.close(),
    show(meta, bitmap, now) {
      const measured = pace.arrive(now);
      const interval = look.crossfade > 0 ? look.crossfade * 1000 : measured;
      const rising = !live;
      live = true;
      picture.show(frameTexture(bitmap), bitmap.width, bitmap.height, rising ? Math.max(interval, RISE_MS) : interval, now);
      caption.update(meta);
      if (rising) {
        waiting.show(false);
        relight(RISE_MS);
      }
      debug.frame(meta);
      loop.request();
    },
  });

  const socket = connectDisplay(
    {
      frame(meta, bitmap) {
        presenter.offer(meta, bitmap, performance.now());
      },
      connection(isConnected) {
        connected = isConnected;
        debug.connection(isConnected);
        if (isConnected) return;
        presenter.clear();
        live = false;
        waiting.show(true);
        relight(SINK_MS);
      },
      look(next) {
        look = next;
        relight(BLACKOUT_FADE_MS);
      },
      refused(reason) {
        notice.textContent = reason ?? '';
        notice.classList.toggle('visible', reason !== null);
      },
    },
    screen,
  );
  sync = new ClusterClockSync(socket);
  sendHeartbeats(socket, stage.renderer.getContext(), () => loop.draws);

  window.addEventListener('resize', () => {
    stage.resize();
    loop.request();
  });
  // three.js restores its resources after a lost context; the screen just needs redrawing.
  canvas.addEventListener('webglcontextrestored', () => loop.request());
}

boot();
