/**
 * The walk speed slider, bound to state.walk.speed. Its range comes from the state
 * schema, so it can never offer a value the server refuses. Other tablets change the
 * same value: every 'state' from the server moves the slider, except while a finger
 * is on it (the server's echo would otherwise fight the drag).
 */
import { StateSchema } from '../../common/state.js';
import type { PageSocket } from '../../common/socket-client.js';
import { ask } from './ask.js';
import { ANSWER_TIMEOUT_MS, type MessageLine } from './message.js';

const SPEED = StateSchema.shape.walk.shape.speed;
/** After a local change, server echoes are ignored this long, so an in-flight older value cannot snap the slider back. */
const HOLD_MS = 600;

export function formatSpeed(speed: number): string {
  return speed === 0 ? 'hold' : `${speed.toFixed(2)} faces/s`;
}

export function walkSpeedWidget(socket: PageSocket, input: HTMLInputElement, label: HTMLOutputElement, message: MessageLine): void {
  if (SPEED.minValue === null || SPEED.maxValue === null) throw new Error('controller: state.walk.speed needs a min and max in common/state.ts');
  input.min = String(SPEED.minValue);
  input.max = String(SPEED.maxValue);

  let serverSpeed: number | null = null;
  let locked = false;
  let touching = false;
  let lastLocalChange = -Infinity;
  let sendQueued = false;

  const refresh = () => {
    input.disabled = serverSpeed === null || locked || !socket.connected;
  };
  const showValue = (speed: number) => {
    input.value = String(speed);
    label.value = formatSpeed(speed);
  };
  const followServer = () => {
    if (serverSpeed === null || touching || performance.now() - lastLocalChange < HOLD_MS) return;
    showValue(serverSpeed);
  };

  socket.on('state', (state) => {
    serverSpeed = state.walk.speed;
    locked = state.visitorLock;
    refresh();
    followServer();
  });
  socket.on('connect', refresh);
  socket.on('disconnect', refresh);

  const send = async () => {
    sendQueued = false;
    const speed = Number(input.value);
    const ack = await ask(message, 'Walk speed refused', () => socket.timeout(ANSWER_TIMEOUT_MS).emitWithAck('patch', { walk: { speed } }));
    if (ack && !ack.ok) {
      lastLocalChange = -Infinity;
      followServer();
    }
  };

  input.addEventListener('input', () => {
    lastLocalChange = performance.now();
    label.value = formatSpeed(Number(input.value));
    // One patch per screen refresh at most, carrying the newest value: a drag is a stream, not a flood.
    if (sendQueued) return;
    sendQueued = true;
    requestAnimationFrame(() => void send());
  });
  input.addEventListener('pointerdown', () => (touching = true));
  for (const end of ['pointerup', 'pointercancel'] as const) {
    input.addEventListener(end, () => {
      touching = false;
      lastLocalChange = performance.now();
      setTimeout(followServer, HOLD_MS);
    });
  }
  refresh();
}
