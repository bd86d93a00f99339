/**
 * OSC fuzzing over UDP against the real server process: 100,000 packets by default
 * (FUZZ_COUNT). Phase A is invalid by construction (unknown addresses, wrong types,
 * out-of-range values, garbage bytes, bundles with one bad message): every packet must
 * be answered with /portraits/error and the state must not move. Phase B is random
 * bytes and bit-flipped, truncated and spliced valid packets: no crash, no error logged,
 * a valid state, frames still flowing, the server still answering.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_STATE } from '../../common/state.js';
import { SERVICE, buildAddressSpace, paramArgs, type OscParam, type TypedArg } from '../../server/osc/address-space.js';
import { decodePacket, encodeBundle, encodeMessage } from '../../server/osc/codec.js';
import { Fuzz } from './inputs.js';
import { framesStillFlow, fuzzCount, startServerProcess, type ServerProcess } from './server-process.js';

const COUNT = fuzzCount(50_000);
/**
 * Packets between two round trips. UDP has no flow control: the sender waits for the
 * server to catch up, and a burst stays well inside the kernel's default receive buffer.
 */
const BATCH = 96;
const fuzz = new Fuzz();
const space = buildAddressSpace();
let server: ServerProcess;
let udp: dgram.Socket;
let errorsReceived = 0;
let probeReplies = 0;
let onProbeReply: (() => void) | null = null;

beforeAll(async () => {
  server = await startServerProcess();
  udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  udp.setRecvBufferSize(8 * 1024 * 1024);
  udp.on('message', (bytes) => {
    let address: string;
    try {
      const packet = decodePacket(bytes);
      address = packet.kind === 'message' ? packet.address : '#bundle';
    } catch {
      return;
    }
    if (address === SERVICE.error) errorsReceived += 1;
    else if (address === SERVICE.presetList) {
      probeReplies += 1;
      onProbeReply?.();
    }
  });
  console.log(`OSC fuzz: ${COUNT} packets, seed ${fuzz.seed} (FUZZ_SEED to replay)`);
}, 240_000);

afterAll(async () => {
  udp?.close();
  await server?.stop();
});

function send(packet: Uint8Array): void {
  udp.send(packet, server.oscPort, '127.0.0.1');
}

/** Sends /portraits/preset/list and waits for its reply: everything sent before it has been handled. */
async function roundTrip(): Promise<void> {
  const want = probeReplies + 1;
  const end = Date.now() + 20_000;
  while (probeReplies < want) {
    if (Date.now() > end) throw new Error(`the OSC server stopped answering (process exit: ${JSON.stringify(server.exit)})`);
    send(encodeMessage(SERVICE.presetList));
    // Wait for the reply, resending now and then in case a datagram was lost.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      onProbeReply = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    onProbeReply = null;
  }
}

/** A valid message for a parameter: the default value's arguments. */
function validMessage(param: OscParam): { address: string; args: TypedArg[] } {
  return { address: param.address, args: paramArgs(param, DEFAULT_STATE) };
}

/** A message for `param` that cannot be accepted: a wrong type or a value past its range. */
function invalidMessage(param: OscParam): { address: string; args: TypedArg[] } {
  const scalar = param.args[0]!;
  const wrongType: TypedArg = scalar.kind === 'string' ? { type: 'i', value: fuzz.int(1000) } : { type: 's', value: fuzz.text(10) || 'x' };
  if ((scalar.kind === 'float' || scalar.kind === 'int') && scalar.max !== undefined && fuzz.chance(0.5)) {
    const over = scalar.max + 1 + fuzz.int(1000);
    const args = paramArgs(param, DEFAULT_STATE);
    args[0] = { type: scalar.kind === 'int' ? 'i' : 'f', value: over };
    return { address: param.address, args };
  }
  const args = paramArgs(param, DEFAULT_STATE);
  args[0] = wrongType;
  return { address: param.address, args };
}

function invalidPacket(): Uint8Array {
  const leafs = space.params;
  switch (fuzz.int(6)) {
    case 0:
      return encodeMessage(`/portraits/${fuzz.pick(['nope', 'walk/speeed', 'display', 'preset', 'walk/speed/x'])}${fuzz.int(100)}`, [{ type: 'f', value: 0.5 }]);
    case 1:
      return encodeMessage(`/${fuzz.text(20).replace(/[^a-z]/gi, '') || 'x'}`, [{ type: 'i', value: 1 }]);
    case 2:
      return encodeMessage(...Object.values(invalidMessage(fuzz.pick(leafs))) as [string, TypedArg[]]);
    case 3: {
      // Not a multiple of four, or starting with neither '/' nor '#bundle'.
      const bytes = new Uint8Array(fuzz.chance(0.5) ? 4 * (1 + fuzz.int(30)) + 1 + fuzz.int(3) : 4 * (1 + fuzz.int(30)));
      for (let i = 0; i < bytes.length; i++) bytes[i] = fuzz.int(256);
      if (bytes[0] === 0x2f || bytes[0] === 0x23) bytes[0] = 0x41;
      return bytes;
    }
    case 4:
      // Atomic bundles: one bad message spoils the whole bundle.
      return encodeBundle([validMessage(fuzz.pick(leafs)), invalidMessage(fuzz.pick(leafs)), validMessage(fuzz.pick(leafs))]);
    default:
      return encodeMessage(SERVICE.presetLoad, [{ type: 's', value: fuzz.pick(['does not exist', '../../etc', 'a/b', '']) }]);
  }
}

function randomPacket(): Uint8Array {
  const roll = fuzz.int(10);
  if (roll < 2) {
    const bytes = new Uint8Array(fuzz.int(200));
    for (let i = 0; i < bytes.length; i++) bytes[i] = fuzz.int(256);
    return bytes;
  }
  const base =
    roll < 5
      ? encodeMessage(...(Object.values(validMessage(fuzz.pick(space.params))) as [string, TypedArg[]]))
      : roll < 7
        ? encodeBundle(Array.from({ length: 1 + fuzz.int(4) }, () => validMessage(fuzz.pick(space.params))))
        : encodeMessage(fuzz.pick([...space.commands.map((c) => c.address), SERVICE.presetList, SERVICE.register, SERVICE.unregister, SERVICE.presetLoad]), fuzz.chance(0.5) ? [] : [{ type: fuzz.pick(['i', 's', 'f']) as 'i', value: fuzz.int(70_000) }]);
  const bytes = Uint8Array.from(base);
  switch (fuzz.int(4)) {
    case 0:
      for (let n = 1 + fuzz.int(4); n > 0; n--) bytes[fuzz.int(bytes.length)]! ^= 1 << fuzz.int(8);
      return bytes;
    case 1:
      return bytes.slice(0, fuzz.int(bytes.length + 1));
    case 2: {
      const at = fuzz.int(bytes.length);
      const junk = Uint8Array.from({ length: 4 * fuzz.int(4) }, () => fuzz.int(256));
      return Uint8Array.from([...bytes.slice(0, at), ...junk, ...bytes.slice(at)]);
    }
    default: {
      // A size field (string padding, blob length, bundle element size) set to something absurd.
      const at = 4 * fuzz.int(Math.max(1, bytes.length / 4));
      new DataView(bytes.buffer).setInt32(Math.min(at, bytes.length - 4), fuzz.pick([-1, 0x7fffffff, 0x10000, 3]));
      return bytes;
    }
  }
}

it(`${COUNT} OSC packets: no crash, no error, invalid input changes nothing`, { timeout: 600_000 }, async () => {
  const started = Date.now();
  await roundTrip();
  const before = await server.state();
  const phaseA = Math.floor(COUNT * 0.4);
  const errorsBefore = errorsReceived;
  for (let i = 0; i < phaseA; i += BATCH) {
    for (let k = 0; k < BATCH && i + k < phaseA; k++) send(invalidPacket());
    await roundTrip();
  }
  const afterA = await server.state();
  const refused = errorsReceived - errorsBefore;
  const timeA = (Date.now() - started) / 1000;

  const phaseB = COUNT - phaseA;
  for (let i = 0; i < phaseB; i += BATCH) {
    for (let k = 0; k < BATCH && i + k < phaseB; k++) send(randomPacket());
    await roundTrip();
  }
  const afterB = await server.state();
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `OSC fuzz: ${COUNT} packets in ${seconds.toFixed(1)} s (${Math.round(COUNT / seconds)}/s); phase A ${phaseA} invalid in ${timeA.toFixed(1)} s: ${refused} error replies, ` +
      `${afterA.version - before.version} changes; phase B ${phaseB} random/mutated: ${afterB.version - afterA.version} changes; server errors: ${server.errors.length}`,
  );
  expect(server.exit).toBeNull();
  expect(server.errors).toEqual([]);
  expect(afterA.version).toBe(before.version);
  expect(afterA.state).toEqual(before.state);
  // Every invalid packet was heard and answered (bundles may carry more than one complaint).
  expect(refused).toBeGreaterThanOrEqual(phaseA);
  await framesStillFlow(server);
  await roundTrip();
});
