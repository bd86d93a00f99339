/**
 * MIDI from the VJ's controller through Web MIDI: every input port's messages go to one
 * handler, ports plugged in later are picked up (statechange), and the status line says what
 * was found or why MIDI is unavailable. Web MIDI rather than a Node binding on the server: the
 * controller sits on the VJ's desk next to this page, Chromium ships Web MIDI with no native
 * build, and the gallery PC needs no extra package (docs/vj.md explains the choice).
 */
export interface MidiStatus {
  state: 'ready' | 'none' | 'error';
  text: string;
}

export function openMidi(onMessage: (bytes: Uint8Array, port: string) => void, onStatus: (status: MidiStatus) => void): void {
  if (typeof navigator.requestMIDIAccess !== 'function') {
    onStatus({ state: 'error', text: 'MIDI: this browser has no Web MIDI (use Chromium or Chrome)' });
    return;
  }
  navigator.requestMIDIAccess({ sysex: false }).then(
    (access) => {
      const wired = new Set<string>();
      const wire = () => {
        const names: string[] = [];
        access.inputs.forEach((input) => {
          names.push(input.name ?? input.id);
          if (wired.has(input.id)) return;
          wired.add(input.id);
          input.addEventListener('midimessage', (event) => {
            const data = (event as MIDIMessageEvent).data;
            if (data) onMessage(data, input.name ?? input.id);
          });
        });
        onStatus(names.length ? { state: 'ready', text: `MIDI: ${names.join(', ')}` } : { state: 'none', text: 'MIDI: no input connected' });
      };
      access.addEventListener('statechange', wire);
      wire();
    },
    (error: Error) => onStatus({ state: 'error', text: `MIDI unavailable: ${error.message}` }),
  );
}
