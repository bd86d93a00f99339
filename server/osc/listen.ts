/**
 * OSCQuery's LISTEN and PATH_CHANGED extensions, over a WebSocket on the query server's
 * HTTP port (ws://host:port/ or ws://host:port/oscquery; socket.io keeps its own path).
 * A client sends {"COMMAND":"LISTEN","DATA":"/portraits/walk/speed"} (or a folder, for
 * everything under it) and from then on receives each change of that parameter as a binary
 * OSC message; {"COMMAND":"IGNORE",...} stops it. When a node's TYPE changes (a list grows,
 * a named value is added) every client is sent {"COMMAND":"PATH_CHANGED","DATA":path}.
 * Listening is read-only: values are written over UDP OSC (oscAllow) or HTTP.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LiveState } from '../../common/state.js';
import { SOCKET_PATH } from '../../common/protocol.js';
import { logger } from '../log.js';
import type { Store } from '../store.js';
import { typeTags, type AddressSpace } from './address-space.js';
import { encodeMessage } from './codec.js';
import { ParamChanges } from './feedback.js';

const log = logger('oscquery');

/** The paths a WebSocket upgrade is taken on. */
export const LISTEN_PATHS: readonly string[] = ['/', '/oscquery'];
/** Connections beyond this are refused (503). */
export const MAX_LISTEN_CLIENTS = 64;
/** A client that falls this far behind (bytes queued) is dropped rather than buffered without end. */
const MAX_BUFFERED = 1 << 20;
/** Text commands are tiny; anything bigger is a mistake or an attack. */
const MAX_PAYLOAD = 16 * 1024;

interface Client {
  socket: WebSocket;
  listening: Set<string>;
}

export class OscQueryListen {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD });
  private readonly clients = new Set<Client>();
  private readonly changes: ParamChanges;
  private tags: string[];
  private readonly offStore: () => void;
  private readonly onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly http: HttpServer,
    private readonly space: AddressSpace,
    store: Store,
  ) {
    this.changes = new ParamChanges(space, store.state);
    this.tags = this.typesOf(store.state);
    this.offStore = store.subscribe((state) => this.stateChanged(state));
    this.onUpgrade = (req, socket, head) => this.upgrade(req, socket, head);
    http.on('upgrade', this.onUpgrade);
  }

  /** Connected clients, and how many paths each listens to (tests, status). */
  get listeners(): number[] {
    return [...this.clients].map((c) => c.listening.size);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.offStore();
      this.http.off('upgrade', this.onUpgrade);
      for (const client of this.clients) client.socket.terminate();
      this.clients.clear();
      this.wss.close(() => resolve());
    });
    return this.closing;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    // socket.io (engine.io) answers its own path, and ends upgrades to others nobody took.
    if (path === SOCKET_PATH || path.startsWith(`${SOCKET_PATH}/`) || !LISTEN_PATHS.includes(path)) return;
    if (this.closing || this.clients.size >= MAX_LISTEN_CLIENTS) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, req));
  }

  private connected(socket: WebSocket, req: IncomingMessage): void {
    const client: Client = { socket, listening: new Set() };
    this.clients.add(client);
    const from = req.socket.remoteAddress;
    log.info({ from, clients: this.clients.size }, 'OSCQuery WebSocket client connected');
    socket.on('message', (data, binary) => {
      // Values are written over UDP OSC, where oscAllow decides who may; here we only listen.
      if (binary) return;
      this.command(client, data.toString());
    });
    socket.on('error', (err) => log.warn({ from, err: err.message }, 'OSCQuery WebSocket error'));
    socket.on('close', () => {
      this.clients.delete(client);
      log.info({ from, clients: this.clients.size }, 'OSCQuery WebSocket client left');
    });
  }

  private command(client: Client, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    const { COMMAND: command, DATA: data } = (message ?? {}) as { COMMAND?: unknown; DATA?: unknown };
    if ((command !== 'LISTEN' && command !== 'IGNORE') || typeof data !== 'string') return;
    const addresses = this.addressesUnder(data);
    for (const address of addresses) {
      if (command === 'LISTEN') client.listening.add(address);
      else client.listening.delete(address);
    }
  }

  /** The parameter at `path`, or every parameter under the folder `path`. */
  private addressesUnder(path: string): string[] {
    const folder = path === '/' ? '/' : `${path.replace(/\/+$/, '')}/`;
    return this.space.params.filter((p) => p.address === path || p.address.startsWith(folder)).map((p) => p.address);
  }

  private stateChanged(state: Readonly<LiveState>): void {
    const changed = this.changes.next(state);
    const tags = this.typesOf(state);
    const reshaped = this.space.params.filter((_, i) => tags[i] !== this.tags[i]).map((p) => p.address);
    this.tags = tags;
    if (this.clients.size === 0) return;
    for (const path of reshaped) {
      const text = JSON.stringify({ COMMAND: 'PATH_CHANGED', DATA: path });
      for (const client of this.clients) this.send(client, text);
    }
    for (const message of changed) {
      let packet: Uint8Array | null = null;
      for (const client of this.clients) {
        if (!client.listening.has(message.address)) continue;
        packet ??= encodeMessage(message.address, message.args);
        this.send(client, packet);
      }
    }
  }

  private send(client: Client, data: string | Uint8Array): void {
    const { socket } = client;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED) {
      log.warn({ buffered: socket.bufferedAmount }, 'OSCQuery WebSocket client is not reading; dropped');
      socket.terminate();
      this.clients.delete(client);
      return;
    }
    socket.send(data, { binary: typeof data !== 'string' });
  }

  private typesOf(state: Readonly<LiveState>): string[] {
    return this.space.params.map((p) => typeTags(p, state));
  }
}
