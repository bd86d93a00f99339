/**
 * The VJ page (/vj/, admin only): the tempo with tap, the modulation matrix's sources and
 * routes as live meters, and every live parameter with MIDI learn (docs/vj.md). Wiring only.
 * Admin is proven as everywhere else: from the server machine itself, or with the admin token
 * in the address (/vj/?token=...), which the page keeps for the session and hides from the bar.
 */
import { connectionWidget } from '../common/connection-status.js';
import { byId } from '../common/dom.js';
import { directionParameter } from '../common/parameters.js';
import { openSocket } from '../common/socket-client.js';
import { loadSetup } from '../common/tablet-setup.js';
import type { PageState } from '../common/state.js';
import { meterPanel } from './meters.js';
import { openMidi } from './midi-input.js';
import { parameterPanel } from './parameters.js';
import { tempoPanel } from './tempo.js';
import { exposeVjDebug } from './debug.js';

function adminToken(): string | undefined {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given) {
    sessionStorage.setItem('portraits-admin-token', given);
    url.searchParams.delete('token');
    history.replaceState(null, '', url);
  }
  return given ?? sessionStorage.getItem('portraits-admin-token') ?? undefined;
}

const token = adminToken();
const socket = openSocket('controller', token ? { token } : {});
const connection = byId('connection', HTMLElement);
connectionWidget(socket, connection);
socket.on('state', (state: PageState) => {
  if (state.midi) return;
  // Connected, but as a visitor: the server keeps the instruments from us.
  connection.dataset.state = 'error';
  connection.textContent = 'Not the VJ: open this page on the server machine or as /vj/?token=ADMIN_TOKEN';
});
socket.on('connect_error', (error) => {
  if (/token/i.test(error.message)) {
    connection.dataset.state = 'error';
    connection.textContent = error.message;
  }
});

const log = byId('midi-log', HTMLElement);
tempoPanel(socket, {
  bpm: byId('bpm', HTMLOutputElement),
  light: byId('beat-light', HTMLElement),
  tap: byId('tap', HTMLButtonElement),
  from: byId('tempo-from', HTMLSelectElement),
  tracked: byId('tracked', HTMLElement),
  log,
});
const meters = meterPanel(socket, byId('sources', HTMLElement), byId('routes', HTMLElement), byId('no-routes', HTMLElement));
const params = parameterPanel(socket, byId('params', HTMLElement), log);
// The model's semantic sliders (age, smile...) are parameters too, listed once the server says which it has.
void loadSetup().then((setup) => params.addParameters(setup.directions.map((d) => directionParameter(d.name))));
const midiStatus = byId('midi-status', HTMLElement);
openMidi(
  (bytes) => params.midi(bytes),
  (status) => {
    midiStatus.dataset.state = status.state;
    midiStatus.textContent = status.text;
  },
);
exposeVjDebug({ params, meters, connected: () => socket.connected });
