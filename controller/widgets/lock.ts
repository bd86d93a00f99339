/** While the performer has locked visitor input, says so politely instead of letting taps fail. */
import type { PageSocket } from '../../common/socket-client.js';

export function lockNotice(socket: PageSocket, element: HTMLElement): void {
  socket.on('state', (state) => {
    element.hidden = !state.visitorLock;
  });
}
