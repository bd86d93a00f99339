/**
 * OSC over UDP -> store: the VJ's surface (TouchOSC, Resolume, TouchDesigner, Max...).
 * A thin adapter like the tablet and HTTP inputs: addresses come from the state schema
 * (server/osc/address-space.ts), values are validated by store.apply, and a refused
 * message changes nothing and is answered with /portraits/error to its sender. A bundle
 * is applied as one patch (one state version, so one frame), when its timetag says.
 * Only hosts in oscAllow are heard; garbage is logged (throttled) and dropped.
 */
import dgram, { type RemoteInfo } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../config.js';
import { logger } from '../log.js';
import { PresetError, runPresetCommand, type PresetStore } from '../presets.js';
import type { Step, Store } from '../store.js';
import { AUDIO_FEEDS, SERVICE, argsToPatch, buildAddressSpace, paramArgs, type AddressSpace, type InArg, type TypedArg } from '../osc/address-space.js';
import { OscDecodeError, decodePacket, type OscBundle, type OscMessage } from '../osc/codec.js';
import { allowList, endpointKey, formatEndpoint, parseEndpoint, type Endpoint } from '../osc/endpoints.js';
import { Feedback, type OutMessage } from '../osc/feedback.js';
import type { LiveRecorder } from '../recording/recorder.js';
import type { Modulator } from '../modulation/modulator.js';
import type { Route } from '../../common/modulation.js';

const log = logger('osc');

/** Bundles may be scheduled at most this far ahead, and this many at once. */
export const MAX_AHEAD_MS = 60 * 60 * 1000;
export const MAX_PENDING = 256;

export interface OscOptions {
  port: number;
  host: string;
  allow: readonly string[];
  feedback: readonly string[];
  /** Live recording, for /portraits/record/start and /stop; absent: those addresses answer with an error. */
  recorder?: LiveRecorder;
  /** The modulation matrix, for the audio feeds and tap tempo; absent: those addresses answer with an error. */
  modulator?: Pick<Modulator, 'feed' | 'tap'>;
}

type Part = { step: Step } | { action: () => void | Promise<void> } | { error: string } | { skip: true };

/** At most a few lines per kind of complaint per window, then a count: a flood of garbage must not flood the journal. */
class Complaints {
  private readonly seen = new Map<string, { since: number; shown: number; hidden: number }>();
  warn(kind: string, details: object, message: string): void {
    const now = Date.now();
    let entry = this.seen.get(kind);
    if (!entry || now - entry.since > 10_000) {
      if (entry?.hidden) log.warn({ kind, suppressed: entry.hidden }, 'more OSC warnings of this kind were suppressed');
      entry = { since: now, shown: 0, hidden: 0 };
      this.seen.set(kind, entry);
    }
    if (entry.shown++ < 5) log.warn(details, message);
    else entry.hidden++;
  }
}

export class OscInput {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly complaints = new Complaints();
  private readonly unsubscribe: (() => void)[] = [];
  private closing: Promise<void> | null = null;
  readonly feedback: Feedback;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly store: Store,
    private readonly presets: PresetStore,
    readonly space: AddressSpace,
    private readonly allowed: (host: string) => boolean,
    staticTargets: readonly Endpoint[],
    readonly host: string,
    private readonly recorder: LiveRecorder | null = null,
    private readonly modulator: Pick<Modulator, 'feed' | 'tap'> | null = null,
  ) {
    this.feedback = new Feedback(space, (packet, to) => this.send(packet, to), store.state, staticTargets);
    this.unsubscribe.push(
      store.subscribe((state, _version, _source, origin) => this.feedback.stateChanged(state, origin)),
      presets.onChange((names) => this.feedback.broadcast(listMessage(names))),
    );
  }

  /** Binds the socket; a bad oscAllow/oscFeedback entry or a taken port stops the start with the key to fix. */
  static async start(store: Store, presets: PresetStore, opts: OscOptions, space: AddressSpace = buildAddressSpace()): Promise<OscInput> {
    let allowed: (host: string) => boolean;
    let targets: Endpoint[];
    try {
      allowed = allowList(opts.allow);
      targets = opts.feedback.map(parseEndpoint);
    } catch (err) {
      throw new ConfigError(`invalid OSC configuration: ${(err as Error).message} (oscAllow / oscFeedback)`);
    }
    for (const problem of space.unmapped) log.warn({ problem }, 'a state key has no OSC address');
    const socket = dgram.createSocket(isIPv6(opts.host) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port, opts.host, () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      socket.close();
      throw new ConfigError(`OSC cannot listen on UDP ${opts.host}:${opts.port}: ${err.message} (set oscPort with --osc-port or PORTRAITS_OSC_PORT, or 'off')`);
    });
    const input = new OscInput(socket, store, presets, space, allowed, targets, opts.host, opts.recorder ?? null, opts.modulator ?? null);
    socket.on('message', (bytes, rinfo) => {
      try {
        input.receive(bytes, rinfo);
      } catch (err) {
        log.error({ err: (err as Error).stack }, 'OSC packet handling failed');
      }
    });
    socket.on('error', (err) => log.error({ err: err.message }, 'OSC socket error'));
    input.feedback.dump(store.state);
    log.info({ host: opts.host, port: input.port, allow: opts.allow, feedback: targets.map(formatEndpoint), addresses: space.params.length + space.commands.length }, `OSC listening on udp ${opts.host}:${input.port}`);
    return input;
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Called by the latent stage when the keyframe loop starts a new pass. */
  loopWrapped(passes: number): void {
    this.feedback.loopWrapped(passes);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      for (const off of this.unsubscribe) off();
      this.socket.close(() => resolve());
    });
    return this.closing;
  }

  private receive(bytes: Buffer, rinfo: RemoteInfo): void {
    const sender: Endpoint = { host: rinfo.address, port: rinfo.port };
    if (!this.allowed(sender.host)) {
      this.complaints.warn('not-allowed', { from: formatEndpoint(sender) }, 'OSC from a host not in oscAllow ignored');
      return;
    }
    let packet;
    try {
      packet = decodePacket(bytes);
    } catch (err) {
      if (!(err instanceof OscDecodeError)) throw err;
      this.complaints.warn('malformed', { from: formatEndpoint(sender), bytes: bytes.length, error: err.message }, 'malformed OSC packet dropped');
      this.replyError(sender, `malformed packet: ${err.message}`);
      return;
    }
    if (packet.kind === 'message') this.runAtomic([packet], sender);
    else this.schedule(packet, sender, 0);
  }

  /** A bundle runs when its timetag is due (now, if it is immediate or past); nested bundles never run before their parent. */
  private schedule(bundle: OscBundle, sender: Endpoint, notBefore: number): void {
    const due = Math.max(bundle.time ?? 0, notBefore);
    const delay = due - Date.now();
    if (delay <= 0) return this.runBundle(bundle, sender, due);
    if (delay > MAX_AHEAD_MS) return this.replyError(sender, `bundle: timetag is ${Math.round(delay / 1000)} s ahead; at most ${MAX_AHEAD_MS / 1000} s`);
    if (this.timers.size >= MAX_PENDING) return this.replyError(sender, `bundle: ${MAX_PENDING} bundles are already waiting for their time`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        this.runBundle(bundle, sender, due);
      } catch (err) {
        log.error({ err: (err as Error).stack }, 'scheduled OSC bundle failed');
      }
    }, delay);
    this.timers.add(timer);
  }

  private runBundle(bundle: OscBundle, sender: Endpoint, due: number): void {
    const messages = bundle.elements.filter((e): e is OscMessage => e.kind === 'message');
    if (messages.length) this.runAtomic(messages, sender);
    for (const nested of bundle.elements) if (nested.kind === 'bundle') this.schedule(nested, sender, due);
  }

  /** All messages' state changes as one store change, or none of them; then their side actions, in order. */
  private runAtomic(messages: readonly OscMessage[], sender: Endpoint): void {
    const origin = `osc:${endpointKey(sender)}`;
    const steps: Step[] = [];
    const actions: (() => void | Promise<void>)[] = [];
    const errors: string[] = [];
    for (const message of messages) {
      const part = this.translate(message, sender, origin);
      if ('error' in part) errors.push(`${message.address}: ${part.error}`);
      else if ('step' in part) steps.push(part.step);
      else if ('action' in part) actions.push(part.action);
    }
    const where = messages.length === 1 ? messages[0]!.address : `bundle of ${messages.length}`;
    if (errors.length) {
      this.complaints.warn('refused', { from: formatEndpoint(sender), errors }, 'OSC message refused');
      for (const error of errors) this.replyError(sender, messages.length === 1 ? error : `${where}, nothing applied: ${error}`);
      return;
    }
    if (steps.length) {
      const ack = this.store.applyMany(steps, 'osc', origin);
      if (!ack.ok) return this.replyError(sender, `${where}${messages.length > 1 ? ', nothing applied' : ''}: ${ack.error}`);
    }
    for (const action of actions) {
      Promise.resolve()
        .then(action)
        .catch((err: Error) => {
          log.error({ err: err.stack }, 'OSC action failed');
          this.replyError(sender, `internal error: ${err.message}`);
        });
    }
  }

  private translate(message: OscMessage, sender: Endpoint, origin: string): Part {
    const { address, args, types } = message;
    const param = this.space.param(address);
    if (param) {
      // No arguments asks for the current value, like a TouchOSC page refresh.
      if (types === '') return { action: () => this.reply(sender, [{ address, args: paramArgs(param, this.store.state) }]) };
      const result = argsToPatch(param, args, types, this.store.state);
      return result.ok ? { step: { patch: result.patch } } : { error: result.error };
    }
    const command = this.space.command(address);
    if (command) {
      // A button sends 1 when pressed and 0 when released: only the press triggers.
      if (isRelease(args)) return { skip: true };
      return { step: { command: command.command } };
    }
    switch (address) {
      case SERVICE.presetLoad: {
        const name = stringArg(args, types);
        if (typeof name !== 'string') return name;
        try {
          return { step: { patch: this.presets.patchFor(name) } };
        } catch (err) {
          if (err instanceof PresetError) return { error: err.message };
          throw err;
        }
      }
      case SERVICE.presetSave:
      case SERVICE.presetDelete: {
        const name = stringArg(args, types);
        if (typeof name !== 'string') return name;
        const op = address === SERVICE.presetSave ? 'save' : 'delete';
        return {
          action: async () => {
            const ack = await runPresetCommand(this.presets, this.store, { op, name }, 'osc', origin);
            if (!ack.ok) return this.replyError(sender, `${address}: ${ack.error}`);
            // Feedback clients already got the new list; tell a sender that is not one.
            if (this.feedback.linkedTo(sender).length === 0) this.reply(sender, [listMessage(ack.names)]);
          },
        };
      }
      case SERVICE.presetList:
        return { action: () => this.reply(sender, [listMessage(this.presets.names())]) };
      case SERVICE.recordStart:
      case SERVICE.recordStop: {
        if (isRelease(args)) return { skip: true };
        const recorder = this.recorder;
        if (!recorder) return { error: 'recording is not available on this server' };
        return {
          action: async () => {
            try {
              if (address === SERVICE.recordStart) await recorder.start(origin);
              else {
                const done = await recorder.stop('stopped by the VJ');
                if (done.error) this.replyError(sender, `${address}: ${done.error}`);
              }
            } catch (err) {
              return this.replyError(sender, `${address}: ${(err as Error).message}`);
            }
            const status = recorder.status();
            const file = status.recording ? status.file : status.last?.file;
            this.reply(sender, [{ address: SERVICE.recordStatus, args: [{ type: status.recording ? 'T' : 'F', value: status.recording }, { type: 's', value: file ?? '' }] }]);
          },
        };
      }
      case SERVICE.audioLevel:
      case SERVICE.audioLow:
      case SERVICE.audioMid:
      case SERVICE.audioHigh:
      case SERVICE.audioOnset: {
        const value = numberArg(args, types);
        if (typeof value !== 'number') return value;
        const modulator = this.modulator;
        if (!modulator) return { error: 'modulation is not available on this server' };
        return { action: () => modulator.feed(AUDIO_FEEDS[address], value) };
      }
      case SERVICE.tempo: {
        const bpm = numberArg(args, types);
        if (typeof bpm !== 'number') return bpm;
        return { step: { patch: { modulation: { bpm } } } };
      }
      case SERVICE.tempoTap: {
        if (isRelease(args)) return { skip: true };
        const modulator = this.modulator;
        if (!modulator) return { error: 'modulation is not available on this server' };
        return { action: () => void modulator.tap('osc', origin) };
      }
      case SERVICE.routeSet:
        return routeSetPatch(args, types, this.store.state.modulation.routes);
      case SERVICE.lfoSet: {
        const [slot, shape, beats, phase] = args.map(plain);
        const lfos = this.store.state.modulation.lfos;
        if (args.length !== 4 || typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot >= lfos.length || typeof shape !== 'string' || typeof beats !== 'number' || typeof phase !== 'number') {
          return { error: `expects i s f f (LFO 0-${lfos.length - 1}, shape, beats, phase), got ${types || 'no arguments'}` };
        }
        return { step: { patch: { modulation: { lfos: lfos.map((l, i) => (i === slot ? ({ shape, beats, phase } as unknown as typeof l) : l)) } } } };
      }
      case SERVICE.routeClear:
        return clearPatch(args, types, 'route', this.store.state.modulation.routes.length, (keep) => ({ modulation: { routes: this.store.state.modulation.routes.filter((_, i) => keep(i)) } }));
      case SERVICE.midiClear:
        return clearPatch(args, types, 'mapping', this.store.state.midi.mappings.length, (keep) => ({ midi: { mappings: this.store.state.midi.mappings.filter((_, i) => keep(i)) } }));
      case SERVICE.register:
      case SERVICE.unregister: {
        const port = portArg(args, types, sender.port);
        if (typeof port !== 'number') return port;
        if (address === SERVICE.unregister) return { action: () => void this.feedback.unregister(sender, port) };
        return {
          action: () => {
            const target = this.feedback.register(sender, port);
            log.info({ client: formatEndpoint(target) }, 'OSC feedback client registered');
            this.feedback.dump(this.store.state, target);
            this.feedback.sendAll([listMessage(this.presets.names())], target);
          },
        };
      }
      default:
        return { error: 'unknown address (GET /oscquery lists them all)' };
    }
  }

  /** Replies go to the sending port and to the feedback clients that sender belongs to. */
  private reply(sender: Endpoint, messages: readonly OutMessage[]): void {
    const seen = new Set<string>();
    for (const to of [sender, ...this.feedback.linkedTo(sender)]) {
      if (seen.has(endpointKey(to))) continue;
      seen.add(endpointKey(to));
      this.feedback.sendAll(messages, to);
    }
  }

  private replyError(sender: Endpoint, error: string): void {
    this.reply(sender, [{ address: SERVICE.error, args: [{ type: 's', value: error }] }]);
  }

  private send(packet: Uint8Array, to: Endpoint): void {
    let host = to.host;
    // A dual-stack IPv6 socket reaches IPv4 peers through their mapped address.
    if (this.socket.address().family === 'IPv6' && isIPv4(host)) host = `::ffff:${host}`;
    this.socket.send(packet, to.port, host, (err) => {
      if (err) this.complaints.warn('send', { to: formatEndpoint(to), err: err.message }, 'OSC send failed');
    });
  }
}

function listMessage(names: readonly string[]): OutMessage {
  return { address: SERVICE.presetList, args: names.map((n): TypedArg => ({ type: 's', value: n })) };
}

/** An OSC argument with 64-bit integers (h) as plain numbers. */
const plain = (a: InArg | undefined) => (typeof a === 'bigint' ? Number(a) : a);

/** A button sends 1 when pressed and 0 (or F) when released: only the press acts. */
const isRelease = (args: readonly InArg[]) => args[0] === 0 || args[0] === false || args[0] === 0n;

function numberArg(args: readonly InArg[], types: string): number | { error: string } {
  const v = plain(args[0]);
  return args.length === 1 && typeof v === 'number' && Number.isFinite(v) ? v : { error: `expects one number (f or i), got ${types || 'no arguments'}` };
}

/** /portraits/mod/route i s s f f f s: route i set (i past the end appends), as a patch of the whole list the store validates. */
function routeSetPatch(args: readonly InArg[], types: string, routes: readonly Route[]): Part {
  const [slotArg, source, target, amount, attack, release, curve] = args.map(plain);
  if (args.length !== 7 || typeof slotArg !== 'number' || !Number.isFinite(slotArg) || typeof source !== 'string' || typeof target !== 'string' || typeof curve !== 'string' || [amount, attack, release].some((n) => typeof n !== 'number')) {
    return { error: `expects i s s f f f s (route, source, target, amount, attack, release, curve), got ${types || 'no arguments'}` };
  }
  const slot = Math.min(Math.max(0, Math.trunc(slotArg)), routes.length);
  const route = { source, target, amount, attack, release, curve } as unknown as Route;
  const next = [...routes];
  next[slot] = route;
  return { step: { patch: { modulation: { routes: next } } } };
}

/** A list's clear service: no argument removes every entry, `i` the one at that place. */
function clearPatch(args: readonly InArg[], types: string, what: string, length: number, patch: (keep: (i: number) => boolean) => object): Part {
  if (args.length === 0) return { step: { patch: patch(() => false) } };
  const slot = plain(args[0]);
  if (args.length !== 1 || typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot >= length) {
    return { error: `expects a ${what} number 0-${Math.max(0, length - 1)} (i) or nothing, got ${types}` };
  }
  return { step: { patch: patch((i) => i !== slot) } };
}

function stringArg(args: readonly InArg[], types: string): string | { error: string } {
  return args.length === 1 && typeof args[0] === 'string' ? args[0] : { error: `expects one string (s), got ${types || 'no arguments'}` };
}

function portArg(args: readonly InArg[], types: string, fallback: number): number | { error: string } {
  if (args.length === 0) return fallback;
  const v = plain(args[0]);
  if (args.length === 1 && typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535) return v;
  return { error: `expects a port 1-65535 (i) or nothing, got ${types}` };
}
