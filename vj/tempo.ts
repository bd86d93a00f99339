/**
 * The tempo: the bpm, a light on every beat, the tap button (socket 'tap', as OSC
 * /portraits/tap), where the tempo comes from (modulation.tempoFrom) and what the beat
 * tracker hears in the audio.
 */
import type { PageSocket } from '../common/socket-client.js';
import type { PageState } from '../common/state.js';

export interface TempoElements {
  bpm: HTMLOutputElement;
  light: HTMLElement;
  tap: HTMLButtonElement;
  from: HTMLSelectElement;
  tracked: HTMLElement;
  log: HTMLElement;
}

export function tempoPanel(socket: PageSocket, { bpm, light, tap, from, tracked, log }: TempoElements): void {
  socket.on('state', (next: PageState) => {
    const m = next.modulation;
    if (!m) return;
    bpm.value = m.bpm.toFixed(1);
    if (document.activeElement !== from) from.value = m.tempoFrom;
  });
  socket.on('meters', (meters) => {
    const phase = meters.beat - Math.floor(meters.beat);
    light.style.opacity = String(0.15 + 0.85 * Math.exp(-6 * phase));
    tracked.textContent = meters.tracked ? `the audio's beat: ${meters.tracked.bpm.toFixed(1)} bpm (sure ${(100 * meters.tracked.confidence).toFixed(0)} %)` : 'the audio: no beat heard';
  });
  from.addEventListener('change', () => {
    socket.emit('patch', { modulation: { tempoFrom: from.value } }, (ack) => {
      if (!ack.ok) log.textContent = `tempo source refused: ${ack.error}`;
    });
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
