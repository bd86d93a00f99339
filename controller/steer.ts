/**
 * How the widgets change the face. A tap or the start of a drag is `send`: a patch with
 * an acknowledgement, whose refusal (another visitor's turn, the performer's lock) is
 * shown on the message line. The rest of a drag is `stream`: volatile emits without an
 * acknowledgement, at most one per STREAM_MS and always the newest, so a finger that moves
 * faster than the network is coalesced instead of queued, and a lost packet is simply
 * superseded by the next one. A stream only flows after its drag's first `send` succeeded.
 */
import type { TabletStatus } from '../common/protocol.js';
import type { PageState, StatePatch } from '../common/state.js';
import type { PageSocket } from '../common/socket-client.js';
import { ask } from './widgets/ask.js';
import { ANSWER_TIMEOUT_MS, type MessageLine } from './widgets/message.js';

/** About 30 updates a second: smooth at the server's frame rate, well inside the socket's event budget. */
export const STREAM_MS = 33;

export interface Steering {
  /** Sends a patch and waits for the answer; true when the server took it. `what` names it in a refusal. */
  send(patch: StatePatch, what: string): Promise<boolean>;
  /** Queues the newest value of a drag; dropped unless the drag's first send was accepted. */
  stream(patch: StatePatch): void;
  /** The latest state and this tablet's status. */
  readonly state: PageState | null;
  readonly status: TabletStatus | null;
  /** True when a touch would be refused anyway (not connected, or the performer's lock). */
  readonly blocked: boolean;
  onState(listener: (state: PageState) => void): void;
  /** Called on connect, disconnect, lock and turn changes. */
  onAvailability(listener: () => void): void;
}

export function steering(socket: PageSocket, message: MessageLine): Steering {
  let state: PageState | null = null;
  let status: TabletStatus | null = null;
  const stateListeners: ((state: PageState) => void)[] = [];
  const availability: (() => void)[] = [];
  const changed = () => availability.forEach((f) => f());
  let pending: StatePatch | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastStream = 0;
  let streamAllowed = false;

  socket.on('state', (next) => {
    const lockChanged = state?.visitorLock !== next.visitorLock;
    state = next;
    stateListeners.forEach((f) => f(next));
    if (lockChanged) changed();
  });
  socket.on('tablet', (next) => {
    status = next;
    if (next.turn !== 'yours' && next.turn !== 'free') streamAllowed = false;
    changed();
  });
  socket.on('connect', changed);
  socket.on('disconnect', changed);

  const flush = () => {
    timer = null;
    if (!pending || !streamAllowed || !socket.connected) return;
    lastStream = performance.now();
    socket.volatile.emit('patch', pending);
    pending = null;
  };

  return {
    async send(patch, what) {
      const ack = await ask(message, `${what} refused`, () => socket.timeout(ANSWER_TIMEOUT_MS).emitWithAck('patch', patch));
      streamAllowed = ack?.ok ?? false;
      return streamAllowed;
    },
    stream(patch) {
      pending = pending ? merge(pending, patch) : patch;
      if (timer) return;
      timer = setTimeout(flush, Math.max(0, lastStream + STREAM_MS - performance.now()));
    },
    get state() {
      return state;
    },
    get status() {
      return status;
    },
    get blocked() {
      return !socket.connected || state === null || state.visitorLock;
    },
    onState(listener) {
      stateListeners.push(listener);
      if (state) listener(state);
    },
    onAvailability(listener) {
      availability.push(listener);
    },
  };
}

/** Newest values win, nested sections merge: two streamed slider moves become one patch. */
function merge(a: StatePatch, b: StatePatch): StatePatch {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const prev = out[key];
    out[key] = prev && value && typeof prev === 'object' && typeof value === 'object' && !Array.isArray(value) ? { ...prev, ...value } : value;
  }
  return out as StatePatch;
}
