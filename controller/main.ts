/**
 * The controller page, for a tablet beside the display: a "New face" button and the
 * walk speed. Wiring only; each control is a widget that talks to the typed socket
 * and never to another widget. The socket (and its reconnection policy) is the one
 * the display uses.
 */
import { openSocket } from '../display/socket.js';
import { byId } from './dom.js';
import { connectionWidget } from './widgets/connection.js';
import { lockNotice } from './widgets/lock.js';
import { messageLine } from './widgets/message.js';
import { newFaceWidget } from './widgets/new-face.js';
import { walkSpeedWidget } from './widgets/walk-speed.js';

const socket = openSocket('controller');
const message = messageLine(byId('message', HTMLParagraphElement));

connectionWidget(socket, byId('connection', HTMLElement));
lockNotice(socket, byId('lock', HTMLElement));
newFaceWidget(socket, byId('new-face', HTMLButtonElement), message);
walkSpeedWidget(socket, byId('walk-speed', HTMLInputElement), byId('walk-speed-value', HTMLOutputElement), message);

// Safari ignores user-scalable=no; its own pinch events are the way to stop the zoom.
document.addEventListener('gesturestart', (event) => event.preventDefault());
