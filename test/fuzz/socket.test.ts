/**
 * socket.io fuzzing against the real server process: 100,000 events by default
 * (FUZZ_COUNT), from visitors, the VJ and displays, with random, mutated and invalid
 * payloads, plus malformed raw socket.io packets. The server must not crash or log an
 * error; invalid input must not change the state; every change must be acknowledged;
 * frames must keep flowing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../common/protocol.js';
import { Fuzz } from './inputs.js';
import { ADMIN_TOKEN, framesStillFlow, fuzzCount, startServerProcess, type ServerProcess } from './server-process.js';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
type Reply = { ok: boolean; error?: string; version?: number };

const COUNT = fuzzCount(100_000);
/** Events in flight at once per batch: enough to keep both processes busy, few enough to keep acks prompt. */
const BATCH = 400;
const fuzz = new Fuzz();
let server: ServerProcess;
const clients: Client[] = [];

function open(auth: Record<string, unknown>): Promise<Client> {
  const socket: Client = io(server.url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  clients.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Emits with an acknowledgement; an event nobody answers (e.g. sent by a dropped socket) resolves as null. */
function emit(socket: Client, event: string, payload: unknown): Promise<Reply | null> {
  return new Promise((resolve) => {
    (socket.timeout(20_000) as unknown as { emit(e: string, p: unknown, cb: (err: Error | null, r?: Reply) => void): void }).emit(event, payload, (err, reply) => resolve(err ? null : (reply ?? null)));
  });
}

beforeAll(async () => {
  server = await startServerProcess();
  console.log(`socket fuzz: ${COUNT} events, seed ${fuzz.seed} (FUZZ_SEED to replay)`);
}, 240_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.stop();
});

it(`${COUNT} socket.io events: no crash, no error, invalid input changes nothing, every change acknowledged`, { timeout: 600_000 }, async () => {
  const visitors = await Promise.all([1, 2, 3].map(() => open({ role: 'controller' })));
  const vj = await open({ role: 'controller', token: ADMIN_TOKEN });
  const display = await open({ role: 'display' });
  display.on('frame', (_m, _i, ack) => ack());
  const anyone = [...visitors, vj, display];
  const started = Date.now();
  let sent = 0;

  // Phase A: invalid by construction, from everyone. Nothing may change.
  const before = await server.state();
  const phaseA = Math.floor(COUNT * 0.4);
  let refusedA = 0;
  for (let i = 0; i < phaseA; i += BATCH) {
    const batch: Promise<Reply | null>[] = [];
    for (let k = 0; k < BATCH && i + k < phaseA; k++) {
      const socket = fuzz.pick(anyone);
      const roll = fuzz.int(10);
      if (roll < 5) batch.push(emit(socket, 'patch', fuzz.invalidPatch()));
      // Valid VJ-only patches, from those who may not send them.
      else if (roll < 6) batch.push(emit(fuzz.pick([...visitors, display]), 'patch', fuzz.pick([{ display: { blackout: 1 } }, { loop: { period: 3 } }, { visitorLock: true }, { walk: { speed: 1 }, display: { caption: true } }])));
      else if (roll < 7) batch.push(emit(socket, 'command', fuzz.invalidCommand()));
      else if (roll < 8) batch.push(emit(socket, 'preset', fuzz.pick([{ op: 'load', name: fuzz.text(70) + '/' }, { op: fuzz.text(6) }, { op: 'delete', name: '..' }, fuzz.anything(), { op: 'save', name: '' }])));
      else if (roll < 9) socket.emit('heartbeat', fuzz.anything() as never);
      else (socket as unknown as { emit(e: string, ...a: unknown[]): void }).emit(fuzz.pick(['hello', 'state', 'frame', 'disconnect_me', fuzz.text(10) || 'x']), fuzz.anything(), fuzz.anything());
      sent += 1;
    }
    for (const reply of await Promise.all(batch)) {
      if (!reply) continue;
      expect(reply.ok, JSON.stringify(reply)).toBe(false);
      refusedA += 1;
    }
  }
  const afterA = await server.state();
  const timeA = (Date.now() - started) / 1000;

  // Phase B: random and mutated, possibly valid. Every state change must be one acknowledged change.
  const phaseB = COUNT - phaseA;
  let commits = 0;
  let acks = 0;
  for (let i = 0; i < phaseB; i += BATCH) {
    const batch: Promise<Reply | null>[] = [];
    for (let k = 0; k < BATCH && i + k < phaseB; k++) {
      const socket = fuzz.pick(anyone);
      const roll = fuzz.int(20);
      if (roll < 14) batch.push(emit(socket, 'patch', fuzz.anyPatch()));
      else if (roll < 17) batch.push(emit(socket, 'command', fuzz.command()));
      else if (roll < 19) batch.push(emit(socket, 'preset', fuzz.pick([{ op: 'list' }, { op: 'load', name: fuzz.pick(['Opening', 'nope', fuzz.text(12)]) }, { op: 'save', name: fuzz.pick(['Opening', fuzz.text(10)]) }, fuzz.anything()])));
      else batch.push(emit(socket, 'patch', fuzz.chance(0.5) ? Buffer.from(fuzz.text(64)) : { walk: { speed: Buffer.alloc(8) } }));
      sent += 1;
    }
    for (const reply of await Promise.all(batch)) {
      if (!reply) continue;
      acks += 1;
      if (reply.ok && typeof reply.version === 'number') commits += 1;
    }
  }
  const afterB = await server.state();
  const timeB = (Date.now() - started) / 1000 - timeA;

  // Raw, malformed socket.io packets: each breaks the connection it came on, never the server.
  let raw = 0;
  const rawCount = Math.min(2000, Math.ceil(COUNT / 50));
  const packets = ['42["patch",{"walk":{"speed":0.5}}]', '42["command",{"type":"newFace"}]', '421["preset",{"op":"list"}]', '40', '41', '43["x"]', '45-["patch",{"_placeholder":true,"num":0}]', '2probe'];
  for (let i = 0; i < rawCount; i += 50) {
    const socket = await open({ role: 'controller' });
    await emit(vj, 'patch', { visitorLock: true }); // a visitor's well-formed leftovers are then refused too
    const engine = socket.io.engine as unknown as { write(data: string): void };
    for (let k = 0; k < 50; k++) {
      let packet = fuzz.pick(packets);
      const cut = fuzz.int(packet.length + 1);
      packet = fuzz.pick([packet.slice(0, cut), packet.slice(0, cut) + fuzz.text(6) + packet.slice(cut), packet.replace(/[{}[\]"]/, ''), fuzz.text(40), `4${fuzz.int(10)}${fuzz.text(10)}`]);
      engine.write(packet);
      raw += 1;
    }
    await new Promise((r) => setTimeout(r, 30));
    socket.close();
  }
  await emit(vj, 'patch', { visitorLock: false });
  const afterRaw = await server.state();
  sent += raw;

  const seconds = (Date.now() - started) / 1000;
  console.log(
    `socket fuzz: ${sent} inputs in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s); phase A ${phaseA} invalid in ${timeA.toFixed(1)} s (${refusedA} acknowledged refusals, ${afterA.version - before.version} changes); ` +
      `phase B ${phaseB} random in ${timeB.toFixed(1)} s (${acks} acks, ${commits} changes); ${raw} raw packets; server errors: ${server.errors.length}`,
  );
  expect(server.exit).toBeNull();
  expect(server.errors).toEqual([]);
  expect(sent).toBeGreaterThanOrEqual(COUNT);
  // Phase A: invalid input changed nothing at all.
  expect(afterA.version).toBe(before.version);
  expect(afterA.state).toEqual(before.state);
  // Phase B: nothing changed without an acknowledgement saying so.
  expect(afterB.version - afterA.version).toBe(commits);
  // Raw packets: only the VJ's two lock toggles per round changed anything.
  expect(afterRaw.version - afterB.version).toBe(Math.ceil(rawCount / 50) + 1);
  await framesStillFlow(server);
});
