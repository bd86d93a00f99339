/** The big button: asks the server to travel to a fresh random face and reports a refusal. */
import type { PageSocket } from '../../common/socket-client.js';
import { ask, oneAtATime } from './ask.js';
import { ANSWER_TIMEOUT_MS, type MessageLine } from './message.js';

export function newFaceWidget(socket: PageSocket, button: HTMLButtonElement, message: MessageLine): void {
  let busy = false;
  let locked = false;
  const refresh = () => {
    button.disabled = busy || locked || !socket.connected;
    button.classList.toggle('busy', busy);
  };
  socket.on('connect', refresh);
  socket.on('disconnect', refresh);
  socket.on('state', (state) => {
    locked = state.visitorLock;
    refresh();
  });

  const setBusy = (on: boolean) => {
    busy = on;
    refresh();
  };
  button.addEventListener(
    'click',
    oneAtATime(setBusy, async () => {
      const ack = await ask(message, 'New face refused', () => socket.timeout(ANSWER_TIMEOUT_MS).emitWithAck('command', { type: 'newFace' }));
      if (ack?.ok) message.info('A new face is on its way');
    }),
  );
  refresh();
}
