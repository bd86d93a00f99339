/**
 * OSC packets <-> bytes, with osc-js doing the encoding of each message. Bundles are
 * walked here, by their element sizes, because osc-js's Bundle.unpack ignores the sizes
 * (a lying size derails it) and its timetag-to-milliseconds conversion rounds the
 * fraction to whole seconds; we need exact bounds and exact times.
 */
import oscModule from 'osc-js';
import type { InArg, TypedArg } from './address-space.js';

export interface OscMessage {
  kind: 'message';
  address: string;
  /** The type tags without the leading comma. */
  types: string;
  args: InArg[];
}

export interface OscBundle {
  kind: 'bundle';
  /** When to apply it, in ms since the epoch; null means immediately. */
  time: number | null;
  elements: (OscMessage | OscBundle)[];
}

export type OscPacket = OscMessage | OscBundle;

// osc-js is a UMD build (module.exports = OSC) typed as `export default OSC`: accept either shape.
const OSC: typeof oscModule.default = (oscModule as unknown as { default?: typeof oscModule.default }).default ?? (oscModule as unknown as typeof oscModule.default);

export class OscDecodeError extends Error {}

const BUNDLE_HEAD = '#bundle\0';
const NTP_TO_UNIX_SECONDS = 2208988800;
const MAX_DEPTH = 8;

/** An OSC timetag in ms since the Unix epoch; the special value 1 ("immediately") is null. */
export function timetagToMs(seconds: number, fractions: number): number | null {
  if (seconds === 0 && fractions === 1) return null;
  return (seconds - NTP_TO_UNIX_SECONDS) * 1000 + (fractions / 2 ** 32) * 1000;
}

/** A fresh, zero-offset copy: osc-js reads blobs through `dataView.buffer`, ignoring the view's offset. */
function viewOf(bytes: Uint8Array, start: number, end: number): DataView {
  return new DataView(bytes.slice(start, end).buffer);
}

function isBundle(bytes: Uint8Array, start: number): boolean {
  if (bytes.length - start < 8) return false;
  for (let i = 0; i < 8; i++) if (bytes[start + i] !== BUNDLE_HEAD.charCodeAt(i)) return false;
  return true;
}

function decodeMessage(bytes: Uint8Array, start: number, end: number): OscMessage {
  const message = new OSC.TypedMessage('/', []);
  let offset: number;
  try {
    offset = message.unpack(viewOf(bytes, start, end));
  } catch (err) {
    throw new OscDecodeError(`malformed message: ${(err as Error).message}`);
  }
  if (!message.types.startsWith(',')) throw new OscDecodeError(`message ${message.address} has no type tag string`);
  if (offset !== end - start) throw new OscDecodeError(`message ${message.address} is ${end - start} bytes but its contents end at ${offset}`);
  return { kind: 'message', address: message.address, types: message.types.slice(1), args: message.args as InArg[] };
}

function decodeBundle(bytes: Uint8Array, start: number, end: number, depth: number): OscBundle {
  if (depth > MAX_DEPTH) throw new OscDecodeError(`bundles nested deeper than ${MAX_DEPTH}`);
  if (end - start < 16) throw new OscDecodeError('bundle shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const timetag = new OSC.Bundle().timetag;
  timetag.unpack(viewOf(bytes, start + 8, start + 16));
  const { seconds, fractions } = timetag.value as { seconds: number; fractions: number };
  const elements: (OscMessage | OscBundle)[] = [];
  let offset = start + 16;
  while (offset < end) {
    if (end - offset < 4) throw new OscDecodeError('bundle element size is cut off');
    const size = view.getInt32(offset, false);
    offset += 4;
    if (size <= 0 || size % 4 !== 0 || offset + size > end) throw new OscDecodeError(`bundle element size ${size} is invalid (${end - offset} bytes left)`);
    elements.push(isBundle(bytes, offset) ? decodeBundle(bytes, offset, offset + size, depth + 1) : decodeMessage(bytes, offset, offset + size));
    offset += size;
  }
  return { kind: 'bundle', time: timetagToMs(seconds, fractions), elements };
}

/** Decodes one datagram; anything that is not well-formed OSC throws OscDecodeError. */
export function decodePacket(input: Uint8Array): OscPacket {
  // A plain Uint8Array view: a Buffer's slice() shares memory, and viewOf() needs real copies.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.length === 0 || bytes.length % 4 !== 0) throw new OscDecodeError(`packet of ${bytes.length} bytes is not a multiple of 4`);
  if (isBundle(bytes, 0)) return decodeBundle(bytes, 0, bytes.length, 0);
  if (bytes[0] !== 0x2f) throw new OscDecodeError('packet is neither a message (starts with /) nor a bundle');
  return decodeMessage(bytes, 0, bytes.length);
}

/** osc-js writes strings byte per UTF-16 unit; keep what we send plain ASCII so nothing is mangled. */
function ascii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/**
 * A Message (Bundle.add accepts no other class) with explicitly typed arguments, so 1.0
 * stays a float: Message.add guesses types from values, TypedMessage.add takes them.
 */
function toOscJs(address: string, args: readonly TypedArg[]): InstanceType<typeof OSC.Message> {
  const message = new OSC.Message(address);
  for (const a of args) OSC.TypedMessage.prototype.add.call(message, a.type, a.type === 's' ? ascii(String(a.value)) : a.value);
  return message;
}

export function encodeMessage(address: string, args: readonly TypedArg[] = []): Uint8Array {
  return toOscJs(address, args).pack();
}

/** A bundle to apply immediately (timetag 1), so a receiver with a skewed clock does not delay it. */
export function encodeBundle(messages: readonly { address: string; args: readonly TypedArg[] }[]): Uint8Array {
  const bundle = new OSC.Bundle(messages.map((m) => toOscJs(m.address, m.args)) as never);
  Object.assign(bundle.timetag.value as object, { seconds: 0, fractions: 1 });
  return bundle.pack();
}
