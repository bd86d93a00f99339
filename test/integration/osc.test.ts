/**
 * OSC control of the real server, driven by peers nobody here wrote: liblo's oscsend
 * sends, liblo's oscdump receives feedback. Covers every address of the derived table,
 * refusals, atomic and scheduled bundles, feedback without echo, the end-of-loop
 * message, malformed packets and the allow list. Bundles are built with osc-js because
 * oscsend cannot send them; what they do is still checked through oscdump and the store.
 */
import dgram from 'node:dgram';
import { mkdtemp } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STATE, type LiveState } from '../../common/state.js';
import type { RunningServer } from '../../server/app.js';
import type { OscParam } from '../../server/osc/address-space.js';
import { connect, startTestServer, type TestSocket } from '../support/server.js';
import { OSC, OscDump, OscPeer, liblo, oscsend, tinyModelsDir, until, type DumpLine } from './osc-support.js';

const hasLiblo = await liblo();

let server: RunningServer;
let feedback: OscDump; // registered with /portraits/feedback/register
let configured: OscDump; // listed in oscFeedback
let registrar: OscPeer; // stays open so its port, linked to `feedback`, is never reused by oscsend
const peers: OscPeer[] = [];
const sockets: TestSocket[] = [];
let oscPort = 0;

const openPeer = async () => {
  const p = await OscPeer.open();
  peers.push(p);
  return p;
};
const reset = async () => {
  const res = await fetch(`${server.url}/api/state`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(DEFAULT_STATE) });
  expect(res.status).toBe(200);
};
const at = (state: unknown, path: readonly string[]) => path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], state);

beforeAll(async () => {
  if (!hasLiblo) return;
  configured = await OscDump.start();
  server = await startTestServer({ modelsDir: await tinyModelsDir(), model: 'osc-tiny', frameSize: 32, fps: 20, presetsDir: await mkdtemp(join(tmpdir(), 'portraits-osc-presets-')), oscFeedback: [`127.0.0.1:${configured.port}`] });
  oscPort = server.osc!.port;
  feedback = await OscDump.start();
  registrar = await openPeer();
  await registrar.send(oscPort, new OSC.Message('/portraits/feedback/register', feedback.port));
  await feedback.waitFor((l) => l.address === '/portraits/visitorLock');
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const p of peers) p.close();
  feedback?.close();
  configured?.close();
  await server?.close();
});

/** A valid value for `param` that differs from the current one, as oscsend arguments and as the state should then hold it. */
function nextValue(param: OscParam, state: Readonly<LiveState>, i: number): { types: string; values: (string | number)[]; expected: unknown[] } {
  const one = (k: number, current: unknown) => {
    const s = param.args[k]!;
    switch (s.kind) {
      case 'float': {
        const lo = s.min ?? 0;
        const hi = s.max ?? lo + 10;
        const v = Math.round((lo + (hi - lo) * (0.3 + 0.05 * k)) * 100) / 100;
        return { type: 'f', value: v === current ? lo : v, expected: v === current ? lo : v };
      }
      case 'int': {
        const v = Math.min(s.max ?? 1e6, (s.min ?? 0) + 3 + i);
        return { type: 'i', value: v === current ? (s.min ?? 0) : v, expected: v === current ? (s.min ?? 0) : v };
      }
      case 'string': {
        const values = s.values ?? ['osc-test', 'osc-other'];
        const v = values[(values.indexOf(String(current)) + 1) % values.length]!;
        return { type: 's', value: v, expected: v };
      }
      case 'bool':
        return { type: current ? 'F' : 'T', value: null, expected: !current };
    }
  };
  if (param.shape === 'list') {
    const seeds = [11 + i, 22 + i, 33 + i].slice(0, Math.max(1, Math.min(3, param.count!.max)));
    return { types: 'i'.repeat(seeds.length), values: seeds, expected: [seeds] };
  }
  const parts = param.paths.map((path, k) => one(k, at(state, path)));
  return { types: parts.map((p) => p.type).join(''), values: parts.filter((p) => p.value !== null).map((p) => p.value!), expected: parts.map((p) => p.expected) };
}

describe.skipIf(!hasLiblo)('OSC control with liblo peers', () => {
  it('every address of the derived table, sent by oscsend, lands in the state and is echoed to feedback clients', async () => {
    await reset();
    const space = server.osc!.space;
    expect(space.params.length).toBeGreaterThan(10);
    let checked = 0;
    const refused: string[] = [];
    for (const [i, param] of space.params.entries()) {
      const { types, values, expected } = nextValue(param, server.store.state, i);
      const version = server.store.version;
      const from = feedback.lines.length;
      await oscsend(oscPort, param.address, types, ...values);
      const landed = () => param.paths.every((path, k) => JSON.stringify(at(server.store.state, path)) === JSON.stringify(param.shape === 'list' ? expected[0] : expected[k]));
      try {
        await until(() => server.store.version > version && landed(), 1500, `${param.address} ${types} ${values.join(' ')}`);
      } catch (err) {
        // Refused for a reason outside OSC (e.g. dreaming needs a dream network this server lacks):
        // the same patch over HTTP must be refused too, or the OSC path lost a valid value.
        const patch: Record<string, Record<string, unknown> | unknown> = {};
        param.paths.forEach((path, k) => {
          const v = param.shape === 'list' ? expected[0] : expected[k];
          if (path.length === 1) patch[path[0]!] = v;
          else patch[path[0]!] = { ...(patch[path[0]!] as object), [path[1]!]: v };
        });
        const http = await fetch(`${server.url}/api/state`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
        expect(http.status, `${param.address} was refused over OSC but HTTP accepts ${JSON.stringify(patch)}`).toBe(400);
        refused.push(param.address);
        continue;
      }
      const line = await feedback.waitFor((l: DumpLine) => l.address === param.address, 3000, from);
      if (param.shape === 'leaf' && param.args[0]!.kind === 'float') expect(Number(line.values[0])).toBeCloseTo(expected[0] as number, 4);
      if (param.shape === 'leaf' && param.args[0]!.kind === 'bool') expect(line.types).toBe(expected[0] ? 'T' : 'F');
      checked++;
    }
    // The tiny test model names no directions, has no dream network (dreaming is refused) and no W space (mixing is refused).
    const explained = ['/portraits/directions', '/portraits/dream/mode', '/portraits/dream/style', '/portraits/face/mix'];
    expect(refused.filter((a) => !explained.includes(a)), 'refused for no known reason').toEqual([]);
    expect(checked).toBe(space.params.length - refused.length);

    const walkSeed = server.store.state.walk.seed;
    await oscsend(oscPort, '/portraits/newFace');
    await until(() => server.store.state.walk.seed !== walkSeed && server.store.state.mode === 'walk', 2000, 'newFace');
    const version = server.store.version;
    await oscsend(oscPort, '/portraits/newFace', 'f', 0); // a button's release
    await new Promise((r) => setTimeout(r, 300));
    expect(server.store.version).toBe(version);
    await reset();
  });

  it('refuses wrong types and out-of-range values: nothing changes and the sender hears why', async () => {
    await reset();
    const before = structuredClone(server.store.state);
    const version = server.store.version;
    const bad: [string, string, ...(string | number)[]][] = [
      ['/portraits/walk/speed', 's', 'fast'],
      ['/portraits/walk/speed', 'f', 7],
      ['/portraits/walk/speed', 'ff', 0.1, 0.2],
      ['/portraits/seed', 'f', 2.5],
      ['/portraits/seed', 'i', -1],
      ['/portraits/mode', 's', 'chaos'],
      ['/portraits/plane/xy', 'f', 1],
      ['/portraits/loop/seeds', 'is', 1, 'x'],
      ['/portraits/visitorLock', 'i', 2],
      ['/portraits/display/blackout', 'f', 1.5],
      ['/portraits/nope', 'f', 1],
      ['/portraits/preset/load', 'i', 3],
    ];
    for (const [address, types, ...values] of bad) await oscsend(oscPort, address, types, ...values);
    // the same through a peer that listens, to read the error replies
    const peer = await openPeer();
    for (const [address, types, ...values] of bad) {
      const from = peer.received.length;
      const message = new OSC.TypedMessage(address, types.split('').map((type, k) => ({ type, value: values[k] })) as never);
      await peer.send(oscPort, message);
      const reply = await peer.waitFor('/portraits/error', 3000, from);
      expect(reply.args[0]).toEqual(expect.stringContaining(address));
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(server.store.state).toEqual(before);
    expect(server.store.version).toBe(version);
  });

  it('answers an address sent without arguments with its current value', async () => {
    const peer = await openPeer();
    await peer.send(oscPort, new OSC.Message('/portraits/plane/xy'));
    const reply = await peer.waitFor('/portraits/plane/xy');
    expect(reply.args).toEqual([server.store.state.plane.x, server.store.state.plane.y]);
  });
});

describe.skipIf(!hasLiblo)('bundles', () => {
  const bundle = (time: number | null, ...messages: InstanceType<typeof OSC.Message>[]) => {
    const b = new OSC.Bundle(messages);
    if (time === null) Object.assign(b.timetag.value as object, { seconds: 0, fractions: 1 });
    else b.timestamp(Math.round(time));
    return b;
  };
  const typed = (address: string, ...args: [string, unknown][]) => {
    const m = new OSC.Message(address);
    for (const [type, value] of args) OSC.TypedMessage.prototype.add.call(m, type as never, value as never);
    return m;
  };

  it('applies all messages of a bundle as one change (one version), echoed as one bundle', async () => {
    await reset();
    const versions: number[] = [];
    const off = server.store.subscribe((_s, v) => versions.push(v));
    const from = feedback.lines.length;
    const peer = await openPeer();
    await peer.send(oscPort, bundle(null, typed('/portraits/walk/speed', ['f', 1.25]), typed('/portraits/plane/xy', ['f', 2], ['f', 3]), typed('/portraits/mode', ['s', 'plane']), typed('/portraits/display/blackout', ['f', 0.5])));
    await until(() => versions.length > 0, 2000, 'the bundle');
    await new Promise((r) => setTimeout(r, 200));
    off();
    expect(versions).toHaveLength(1);
    expect(server.store.state).toMatchObject({ mode: 'plane', walk: { speed: 1.25 }, plane: { x: 2, y: 3 }, display: { blackout: 0.5 } });
    // oscdump prints a bundle's messages with the bundle's timetag: one timetag, all four changes
    await feedback.waitFor((l) => l.address === '/portraits/display/blackout', 3000, from);
    const lines = feedback.lines.slice(from);
    const stamps = new Set(lines.map((l) => l.raw.split(' ')[0]));
    expect(stamps.size).toBe(1);
    expect(lines.map((l) => l.address)).toEqual(expect.arrayContaining(['/portraits/walk/speed', '/portraits/plane/x', '/portraits/plane/y', '/portraits/plane/xy', '/portraits/mode', '/portraits/display/blackout']));
  });

  it('applies nothing of a bundle with one bad message, and says which', async () => {
    await reset();
    const version = server.store.version;
    const peer = await openPeer();
    await peer.send(oscPort, bundle(null, typed('/portraits/walk/speed', ['f', 0.9]), typed('/portraits/plane/x', ['f', 99]), typed('/portraits/mode', ['s', 'plane'])));
    const reply = await peer.waitFor('/portraits/error');
    expect(reply.args[0]).toMatch(/nothing applied.*plane\.x/);
    await peer.send(oscPort, bundle(null, typed('/portraits/walk/speed', ['f', 0.9]), typed('/portraits/plain/x', ['f', 1])));
    expect((await peer.waitFor('/portraits/error', 3000, 1)).args[0]).toMatch(/plain\/x.*unknown address/);
    expect(server.store.version).toBe(version);
    expect(server.store.state.walk.speed).toBe(DEFAULT_STATE.walk.speed);
  });

  it('honours timetags: a future bundle waits for its time, a past one applies at once, nested ones follow', async () => {
    await reset();
    const peer = await openPeer();
    let appliedAt = 0;
    const off = server.store.subscribe((s) => {
      if (s.glide === 2.5 && !appliedAt) appliedAt = Date.now();
    });
    const due = Date.now() + 600;
    await peer.send(oscPort, bundle(due, typed('/portraits/glide', ['f', 2.5]), typed('/portraits/walk/speed', ['f', 0.75])));
    await new Promise((r) => setTimeout(r, 250));
    expect(server.store.state.glide).toBe(DEFAULT_STATE.glide);
    await until(() => appliedAt > 0, 3000, 'the scheduled bundle');
    off();
    expect(appliedAt).toBeGreaterThanOrEqual(due - 20);
    expect(server.store.state.walk.speed).toBe(0.75);

    await peer.send(oscPort, bundle(Date.now() - 60_000, typed('/portraits/glide', ['f', 1.5])));
    await until(() => server.store.state.glide === 1.5, 1000, 'the past bundle');

    const outer = bundle(null, typed('/portraits/glide', ['f', 3]));
    outer.add(bundle(Date.now() + 300, typed('/portraits/glide', ['f', 4])));
    await peer.send(oscPort, outer);
    await until(() => server.store.state.glide === 3, 1000, 'the outer bundle');
    await until(() => server.store.state.glide === 4, 3000, 'the nested bundle');

    await peer.send(oscPort, bundle(Date.now() + 2 * 3600_000, typed('/portraits/glide', ['f', 5])));
    expect((await peer.waitFor('/portraits/error')).args[0]).toMatch(/ahead/);
  });
});

describe.skipIf(!hasLiblo)('feedback', () => {
  it('echoes changes from anywhere to registered and configured clients', async () => {
    const a = feedback.lines.length;
    const b = configured.lines.length;
    const res = await fetch(`${server.url}/api/state`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"walk":{"speed":0.45}}' });
    expect(res.status).toBe(200);
    expect(Number((await feedback.waitFor((l) => l.address === '/portraits/walk/speed', 3000, a)).values[0])).toBeCloseTo(0.45, 5);
    expect(Number((await configured.waitFor((l) => l.address === '/portraits/walk/speed', 3000, b)).values[0])).toBeCloseTo(0.45, 5);
  });

  it('the configured client got the whole state when the server started', () => {
    for (const param of server.osc!.space.params) expect(configured.lines.some((l) => l.address === param.address), param.address).toBe(true);
  });

  it('never echoes a change to the client that made it', async () => {
    const surface = await openPeer();
    await surface.send(oscPort, new OSC.Message('/portraits/feedback/register'));
    await surface.waitFor('/portraits/visitorLock'); // the state dump on registration
    const mark = surface.received.length;
    const from = feedback.lines.length;
    await surface.send(oscPort, typedMessage('/portraits/glide', 'f', 0.25));
    await feedback.waitFor((l) => l.address === '/portraits/glide' && Number(l.values[0]) === 0.25, 3000, from);
    await new Promise((r) => setTimeout(r, 300));
    expect(surface.received.slice(mark).filter((r) => r.address === '/portraits/glide')).toEqual([]);
    // ... but it hears everyone else's changes
    await oscsend(oscPort, '/portraits/glide', 'f', 0.35);
    expect((await surface.waitFor('/portraits/glide', 3000, mark)).args[0]).toBeCloseTo(0.35, 5);
    // and nothing more once unregistered
    await surface.send(oscPort, new OSC.Message('/portraits/feedback/unregister'));
    await new Promise((r) => setTimeout(r, 200));
    const after = surface.received.length;
    await oscsend(oscPort, '/portraits/glide', 'f', 0.45);
    await until(() => server.store.state.glide === 0.45, 2000, 'glide 0.45');
    await new Promise((r) => setTimeout(r, 300));
    expect(surface.received.length).toBe(after);
  });

  it('sends /portraits/loop/wrapped each time the keyframe loop starts over', async () => {
    const display = await connect(server, 'display');
    sockets.push(display);
    const from = feedback.lines.length;
    await oscsend(oscPort, '/portraits/loop/period', 'f', 1);
    await oscsend(oscPort, '/portraits/loop/seeds', 'ii', 3, 4);
    await oscsend(oscPort, '/portraits/mode', 's', 'loop');
    const first = await feedback.waitFor((l) => l.address === '/portraits/loop/wrapped', 8000, from);
    expect(first.types).toBe('i');
    expect(first.values).toEqual(['1']);
    await feedback.waitFor((l) => l.address === '/portraits/loop/wrapped' && l.values[0] === '2', 8000, from);
    expect(configured.lines.some((l) => l.address === '/portraits/loop/wrapped')).toBe(true);
    display.disconnect();
    await reset();
  });
});

function typedMessage(address: string, type: string, value: unknown) {
  const m = new OSC.Message(address);
  OSC.TypedMessage.prototype.add.call(m, type as never, value as never);
  return m;
}

describe.skipIf(!hasLiblo)('hostile input', () => {
  it('survives malformed packets: no crash, state and version unchanged, still answering', async () => {
    await reset();
    const before = structuredClone(server.store.state);
    const version = server.store.version;
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const valid = typedMessage('/portraits/walk/speed', 'f', 0.5).pack();
    const text = (s: string) => new TextEncoder().encode(s);
    // Every packet is invalid by construction (a valid one could legitimately change the state).
    const packets: Uint8Array[] = [new Uint8Array(0), text('/portraits/seed\0,i\0\0'), Uint8Array.from([...text('#bundle\0'), 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xfc])];
    for (let cut = 4; cut < valid.length; cut += 4) packets.push(valid.slice(0, cut)); // truncated
    packets.push(Uint8Array.from(valid).fill(0x71, 25, 26)); // type tag 'q'
    for (let i = 0; i < 200; i++) {
      const kind = i % 3;
      if (kind === 0) packets.push(Uint8Array.from({ length: 1 + Math.floor(rand() * 200) }, () => 0x80 | Math.floor(rand() * 128))); // never starts with / or #
      else if (kind === 1) {
        const p = valid.slice();
        p[1 + Math.floor(rand() * 20)] = 0x30 + Math.floor(rand() * 10); // an address that does not exist
        packets.push(p);
      } else {
        packets.push(Uint8Array.from([...text('#bundle\0\0\0\0\0\0\0\0\x01'), 0, 0, 0, 4 * (1 + Math.floor(rand() * 30)), ...Uint8Array.from({ length: 4 * Math.floor(rand() * 20) }, () => Math.floor(rand() * 256))]));
      }
    }
    const raw = dgram.createSocket('udp4');
    for (const p of packets) await new Promise<void>((resolve) => raw.send(p, oscPort, '127.0.0.1', () => resolve()));
    raw.close();
    // Alive and answering: a query gets its reply, and garbage from a listening peer gets an error back.
    const peer = await openPeer();
    void peer.send(oscPort, new OSC.Message('/portraits/glide'));
    const ask = setInterval(() => void peer.send(oscPort, new OSC.Message('/portraits/glide')), 200);
    try {
      await peer.waitFor('/portraits/glide', 10_000);
    } finally {
      clearInterval(ask);
    }
    for (const p of packets.slice(0, 4)) await peer.send(oscPort, p);
    await until(() => peer.received.filter((r) => r.address === '/portraits/error').length >= 4, 5000, 'four error replies');
    expect(peer.received.filter((r) => r.address === '/portraits/error').map((r) => String(r.args[0]))).toEqual(expect.arrayContaining([expect.stringMatching(/^malformed packet: /)]));
    expect(server.store.state).toEqual(before);
    expect(server.store.version).toBe(version);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    await oscsend(oscPort, '/portraits/walk/speed', 'f', 0.55);
    await until(() => server.store.state.walk.speed === 0.55, 2000, 'a valid message after the garbage');
  });

  it('ignores hosts that are not in oscAllow', async (ctx) => {
    const outside = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!outside) {
      console.warn('skipped: this machine has no non-loopback IPv4 address to send from');
      return ctx.skip();
    }
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, outside, resolve));
    const replies: Buffer[] = [];
    socket.on('message', (m) => replies.push(m));
    const version = server.store.version;
    await new Promise<void>((resolve) => socket.send(new OSC.Message('/portraits/walk/speed', 1.75).pack(), oscPort, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve) => socket.send(new OSC.Message('/portraits/feedback/register').pack(), oscPort, '127.0.0.1', () => resolve()));
    await new Promise((r) => setTimeout(r, 500));
    socket.close();
    expect(server.store.version).toBe(version);
    expect(server.store.state.walk.speed).not.toBe(1.75);
    expect(replies).toEqual([]);
  });
});

describe.skipIf(!hasLiblo)('OSCQuery', () => {
  it('describes every address with live values, and the host info names the OSC port', async () => {
    await oscsend(oscPort, '/portraits/walk/speed', 'f', 0.65);
    await until(() => server.store.state.walk.speed === 0.65, 2000, 'walk.speed 0.65');
    const root = (await (await fetch(`${server.url}/oscquery`)).json()) as { CONTENTS: Record<string, unknown> };
    const find = (path: string) => path.split('/').filter(Boolean).reduce<any>((n, k) => n?.CONTENTS?.[k], root); // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const param of server.osc!.space.params) {
      const node = find(param.address);
      expect(node, param.address).toMatchObject({ FULL_PATH: param.address, ACCESS: 3 });
      // a named-values map (directions) has one s,f pair per current entry, and none by default
      expect(node.TYPE).toMatch(param.shape === 'map' ? /^(sf)*$/ : /^[ifsT]+$/);
    }
    expect(find('/portraits/walk/speed')).toMatchObject({ TYPE: 'f', VALUE: [0.65], RANGE: [{ MIN: 0, MAX: 2 }] });
    expect(await (await fetch(`${server.url}/portraits/walk/speed?VALUE`)).json()).toEqual({ VALUE: [0.65] });
    expect(await (await fetch(`${server.url}/oscquery/portraits/mode?TYPE`)).json()).toEqual({ TYPE: 's' });
    const info = (await (await fetch(`${server.url}/?HOST_INFO`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ OSC_PORT: oscPort, OSC_TRANSPORT: 'UDP' });
    expect((await fetch(`${server.url}/portraits/no/such`)).status).toBe(404);
    // the page still owns "/"
    expect((await fetch(`${server.url}/`)).headers.get('content-type')).not.toMatch(/json/);
  });
});
