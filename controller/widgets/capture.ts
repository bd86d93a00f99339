/**
 * "Keep this portrait": the server saves the face on screen (PNG + JSON sidecar) and
 * answers with its page on the installation's network; the tablet shows that page as a
 * QR code for the visitor's phone, with the address spelled out for those without a
 * scanner. Anyone may capture at any time, turn or not; the server keeps a per-tablet budget.
 */
import type { CaptureAck } from '../../common/protocol.js';
import type { PageSocket } from '../../common/socket-client.js';
import { ask, oneAtATime } from './ask.js';
import type { MessageLine } from './message.js';

const ACK_TIMEOUT_MS = 10_000;
/** The QR code closes by itself after this long: the next visitor should not find it. */
const SHOW_MS = 90_000;

export interface CaptureElements {
  button: HTMLButtonElement;
  dialog: HTMLDialogElement;
  qr: HTMLImageElement;
  link: HTMLAnchorElement;
  close: HTMLButtonElement;
}

export function captureWidget(socket: PageSocket, el: CaptureElements, message: MessageLine): { last(): CaptureAck | null } {
  let busy = false;
  let last: CaptureAck | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refresh = () => {
    el.button.disabled = busy || !socket.connected;
    el.button.classList.toggle('busy', busy);
  };
  socket.on('connect', refresh);
  socket.on('disconnect', refresh);

  const hide = () => {
    clearTimeout(timer);
    if (el.dialog.open) el.dialog.close();
  };
  el.close.addEventListener('click', hide);
  // A tap outside the card closes it too.
  el.dialog.addEventListener('click', (event) => {
    if (event.target === el.dialog) hide();
  });

  const setBusy = (on: boolean) => {
    busy = on;
    refresh();
  };
  el.button.addEventListener(
    'click',
    oneAtATime(setBusy, async () => {
      const ack = await ask(message, 'Could not keep the portrait', () => socket.timeout(ACK_TIMEOUT_MS).emitWithAck('capture'));
      if (ack) last = ack;
      if (!ack?.ok) return;
      el.qr.src = ack.qr;
      el.link.href = ack.url;
      el.link.textContent = ack.url.replace(/^https?:\/\//, '');
      if (!el.dialog.open) el.dialog.showModal();
      clearTimeout(timer);
      timer = setTimeout(hide, SHOW_MS);
    }),
  );
  refresh();
  return { last: () => last };
}
