/**
 * TouchOSC-style feedback: every state change is echoed to the feedback clients (the
 * configured oscFeedback targets plus those that sent /portraits/feedback/register), so
 * their faders follow what tablets, HTTP and other surfaces do. A change is never echoed
 * to the client that made it, which is what keeps a surface from fighting itself.
 */
import type { LiveState } from '../../common/state.js';
import { SERVICE, paramArgs, type AddressSpace, type TypedArg } from './address-space.js';
import { encodeBundle, encodeMessage } from './codec.js';
import { endpointKey, type Endpoint } from './endpoints.js';

/** Registered clients beyond this push out the longest-registered one. */
export const MAX_REGISTERED = 32;
/** Stay well under common MTU-independent UDP limits when a state dump is split into bundles. */
const MAX_BUNDLE_BYTES = 8192;

export type Send = (packet: Uint8Array, to: Endpoint) => void;

interface Client {
  target: Endpoint;
  /** Endpoints this client sends from: changes from them are not echoed back to it. */
  senders: Set<string>;
  registered: boolean;
}

export interface OutMessage {
  address: string;
  args: readonly TypedArg[];
}

/**
 * What changed since the last call, as OSC messages: one per parameter whose arguments
 * differ. Feedback over UDP and OSCQuery's LISTEN over the WebSocket both use this.
 */
export class ParamChanges {
  private last: string[];

  constructor(
    private readonly space: AddressSpace,
    initial: Readonly<LiveState>,
  ) {
    this.last = this.snapshot(initial);
  }

  next(state: Readonly<LiveState>): OutMessage[] {
    const now = this.snapshot(state);
    const changed: OutMessage[] = [];
    this.space.params.forEach((param, i) => {
      if (now[i] !== this.last[i]) changed.push({ address: param.address, args: paramArgs(param, state) });
    });
    this.last = now;
    return changed;
  }

  private snapshot(state: Readonly<LiveState>): string[] {
    return this.space.params.map((param) => JSON.stringify(paramArgs(param, state)));
  }
}

export class Feedback {
  private readonly clients = new Map<string, Client>();
  private readonly changes: ParamChanges;

  constructor(
    private readonly space: AddressSpace,
    private readonly send: Send,
    initial: Readonly<LiveState>,
    staticTargets: readonly Endpoint[] = [],
  ) {
    for (const target of staticTargets) this.clients.set(endpointKey(target), { target, senders: new Set([endpointKey(target)]), registered: false });
    this.changes = new ParamChanges(space, initial);
  }

  get targets(): Endpoint[] {
    return [...this.clients.values()].map((c) => c.target);
  }

  /** Adds (or refreshes) the client at sender's host and `port` (default: the sending port). */
  register(sender: Endpoint, port = sender.port): Endpoint {
    const target = { host: sender.host, port };
    const key = endpointKey(target);
    const existing = this.clients.get(key);
    const client = existing ?? { target, senders: new Set([key]), registered: true };
    client.senders.add(endpointKey(sender));
    this.clients.delete(key); // re-insert: Map order is registration order, oldest first
    this.clients.set(key, client);
    const registered = [...this.clients.entries()].filter(([, c]) => c.registered);
    if (registered.length > MAX_REGISTERED) this.clients.delete(registered[0]![0]);
    return target;
  }

  unregister(sender: Endpoint, port = sender.port): boolean {
    const key = endpointKey({ host: sender.host, port });
    const client = this.clients.get(key);
    if (!client?.registered) return false;
    return this.clients.delete(key);
  }

  /** Clients that `sender` belongs to (it registered them or sends from their port): replies go there too. */
  linkedTo(sender: Endpoint): Endpoint[] {
    const key = endpointKey(sender);
    return [...this.clients.values()].filter((c) => c.senders.has(key)).map((c) => c.target);
  }

  /** Echoes what changed since the last call to every client except the one behind `origin` ("osc:host:port"). */
  stateChanged(state: Readonly<LiveState>, origin?: string): void {
    const changed = this.changes.next(state);
    if (changed.length === 0) return;
    const from = origin?.startsWith('osc:') ? origin.slice(4) : null;
    for (const client of this.clients.values()) {
      if (from && client.senders.has(from)) continue;
      this.sendAll(changed, client.target);
    }
  }

  /** The whole state, to one client (on registration) or to all (at start). */
  dump(state: Readonly<LiveState>, to?: Endpoint): void {
    const all = this.space.params.map((param) => ({ address: param.address, args: paramArgs(param, state) }));
    for (const target of to ? [to] : this.targets) this.sendAll(all, target);
  }

  broadcast(message: OutMessage): void {
    const packet = encodeMessage(message.address, message.args);
    for (const target of this.targets) this.send(packet, target);
  }

  loopWrapped(passes: number): void {
    this.broadcast({ address: SERVICE.loopWrapped, args: [{ type: 'i', value: passes }] });
  }

  /** Messages to one target: alone, or as immediate bundles (a receiver applies each at once). */
  sendAll(messages: readonly OutMessage[], to: Endpoint): void {
    if (messages.length === 1) return this.send(encodeMessage(messages[0]!.address, messages[0]!.args), to);
    let batch: OutMessage[] = [];
    let bytes = 16;
    for (const m of messages) {
      const size = encodeMessage(m.address, m.args).length + 4;
      if (batch.length && bytes + size > MAX_BUNDLE_BYTES) {
        this.send(encodeBundle(batch), to);
        batch = [];
        bytes = 16;
      }
      batch.push(m);
      bytes += size;
    }
    if (batch.length) this.send(encodeBundle(batch), to);
  }
}
