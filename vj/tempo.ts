/** The tempo: the bpm, a light on every beat, and the tap button (socket 'tap', as OSC /portraits/tap). */
import type { PageSocket } from '../common/socket-client.js';
import type { LiveState, PageState } from '../common/state.js';

export function tempoPanel(socket: PageSocket, bpm: HTMLOutputElement, light: HTMLElement, tap: HTMLButtonElement, log: HTMLElement): void {
  socket.on('state', (next: PageState) => {
    const m = (next as Partial<LiveState>).modulation;
    if (m) bpm.value = m.bpm.toFixed(1);
  });
  socket.on('meters', (meters) => {
    const phase = meters.beat - Math.floor(meters.beat);
    light.style.opacity = String(0.15 + 0.85 * Math.exp(-6 * phase));
  });
  // pointerdown, not click: a tap lands when the finger does, not when it lifts.
  tap.addEventListener('pointerdown', (event) => {
    event.preventDefault();
    socket.emit('tap', (ack) => {
      if (!ack.ok) log.textContent = `tap refused: ${ack.error}`;
    });
  });
  tap.addEventListener('keydown', (event) => {
    if (event.key === ' ' || event.key === 'Enter') {
      event.preventDefault();
      socket.emit('tap');
    }
  });
}
