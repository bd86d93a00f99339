/** Shows whether a page (the tablet, the VJ page) reaches the server: connecting (first time), connected, or reconnecting. */
import type { PageSocket } from './socket-client.js';

type ConnectionState = 'connecting' | 'connected' | 'reconnecting';

const LABELS: Readonly<Record<ConnectionState, string>> = Object.freeze({
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
});

export function connectionWidget(socket: PageSocket, element: HTMLElement): void {
  let everConnected = false;
  const show = (state: ConnectionState) => {
    element.dataset.state = state;
    element.textContent = LABELS[state];
  };
  socket.on('connect', () => {
    everConnected = true;
    show('connected');
  });
  socket.on('disconnect', () => show('reconnecting'));
  socket.on('connect_error', () => show(everConnected ? 'reconnecting' : 'connecting'));
  show(socket.connected ? 'connected' : 'connecting');
}
