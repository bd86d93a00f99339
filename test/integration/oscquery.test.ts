/**
 * OSCQuery as VJ tools use it, against the real server: a separate process browses
 * multicast DNS and finds both services (_oscjson._tcp on the HTTP port, _osc._udp on the
 * OSC port) and sees them go when the server closes; a `ws` WebSocket client LISTENs to a
 * parameter and receives its new value as binary OSC when a UDP OSC packet changes it,
 * IGNORE stops that, PATH_CHANGED comes when a node's type changes; HOST_INFO and a walk
 * over the whole tree (every node has a DESCRIPTION).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_STATE } from '../../common/state.js';
import type { RunningServer } from '../../server/app.js';
import { decodePacket, type OscMessage } from '../../server/osc/codec.js';
import { serviceName } from '../../server/osc/mdns.js';
import type { OscQueryNode } from '../../server/osc/oscquery.js';
import { connect, startTestServer } from '../support/server.js';
import { OSC, OscPeer, tinyModelsDir, until } from './osc-support.js';

/** Whether a multicast datagram sent here comes back here (IP_MULTICAST_LOOP); the reason when not. */
async function multicastProblem(): Promise<string | null> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => resolve());
    });
    socket.addMembership('224.0.0.251');
    socket.setMulticastLoopback(true);
    const heard = new Promise<boolean>((resolve) => {
      socket.once('message', () => resolve(true));
      setTimeout(() => resolve(false), 1500);
    });
    socket.send('probe', socket.address().port, '224.0.0.251');
    return (await heard) ? null : 'a multicast datagram sent to 224.0.0.251 did not loop back';
  } catch (err) {
    return `multicast is unavailable: ${(err as Error).message}`;
  } finally {
    socket.close();
  }
}

const noMulticast = await multicastProblem();
if (noMulticast) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${noMulticast}`);
  console.warn(`skipped the multicast DNS test: ${noMulticast}`);
}

interface Seen {
  event: string;
  type?: string;
  name?: string;
  port?: number;
}

/** The mDNS browser in its own Node process, its lines collected. */
class Browser {
  readonly seen: Seen[] = [];
  readonly child: ChildProcess;
  constructor() {
    const script = fileURLToPath(new URL('./mdns-browse.mjs', import.meta.url));
    this.child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buffer = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) if (line.trim()) this.seen.push(JSON.parse(line) as Seen);
    });
  }
  find(event: string, type: string, name: string): Seen | undefined {
    return this.seen.find((s) => s.event === event && s.type === type && s.name === name);
  }
  stop(): void {
    this.child.kill('SIGTERM');
  }
}

let server: RunningServer;
const clients: WebSocket[] = [];
const peers: OscPeer[] = [];
const browsers: Browser[] = [];

beforeAll(async () => {
  server = await startTestServer({ modelsDir: await tinyModelsDir(), model: 'osc-tiny', frameSize: 32, fps: 10, presetsDir: await mkdtemp(join(tmpdir(), 'portraits-oscquery-presets-')) });
});

afterAll(async () => {
  for (const c of clients) c.terminate();
  for (const p of peers) p.close();
  for (const b of browsers) b.stop();
  await server?.close();
});

/** A WebSocket client on the query server, its messages (OSC decoded, text parsed) collected. */
async function listener(path = '/'): Promise<{ ws: WebSocket; osc: OscMessage[]; text: { COMMAND: string; DATA: string }[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`);
  clients.push(ws);
  const osc: OscMessage[] = [];
  const text: { COMMAND: string; DATA: string }[] = [];
  ws.on('message', (data, binary) => {
    if (binary) osc.push(decodePacket(data as Buffer) as OscMessage);
    else text.push(JSON.parse(data.toString()) as { COMMAND: string; DATA: string });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, osc, text };
}

async function sendOsc(address: string, ...args: number[]): Promise<void> {
  const peer = await OscPeer.open();
  peers.push(peer);
  await peer.send(server.osc!.port, new OSC.Message(address, ...args));
}

const command = (ws: WebSocket, COMMAND: string, DATA: string) => ws.send(JSON.stringify({ COMMAND, DATA }));

describe('OSCQuery LISTEN over the WebSocket', () => {
  it('sends a listened parameter its new value when OSC changes it, and stops on IGNORE', async () => {
    const { ws, osc } = await listener();
    command(ws, 'LISTEN', '/portraits/walk/speed');
    command(ws, 'LISTEN', '/portraits/display/crossfade');
    // the commands travel on the socket before the change travels over UDP: give them a moment
    await new Promise((r) => setTimeout(r, 100));
    expect(server.store.state.walk.speed).toBe(DEFAULT_STATE.walk.speed);
    await sendOsc('/portraits/walk/speed', 0.42);
    await until(() => osc.some((m) => m.address === '/portraits/walk/speed'), 3000, 'the new walk.speed over the WebSocket');
    const first = osc.find((m) => m.address === '/portraits/walk/speed')!;
    expect(first.types).toBe('f');
    expect(first.args[0]).toBeCloseTo(0.42, 5);
    expect(server.store.state.walk.speed).toBe(0.42);
    // nothing it did not ask for
    expect(osc.every((m) => m.address === '/portraits/walk/speed' || m.address === '/portraits/display/crossfade')).toBe(true);

    command(ws, 'IGNORE', '/portraits/walk/speed');
    await new Promise((r) => setTimeout(r, 100));
    const before = osc.length;
    await sendOsc('/portraits/walk/speed', 0.9);
    await until(() => server.store.state.walk.speed === 0.9, 3000, 'walk.speed 0.9');
    // a later change it still listens to arrives, and the ignored one never came before it
    await sendOsc('/portraits/display/crossfade', 0.25);
    await until(() => osc.slice(before).some((m) => m.address === '/portraits/display/crossfade'), 3000, 'crossfade over the WebSocket');
    expect(osc.slice(before).map((m) => m.address)).toEqual(['/portraits/display/crossfade']);
    expect(osc.at(-1)!.args[0]).toBeCloseTo(0.25, 5);
  });

  it('listens to every parameter under a folder, and says PATH_CHANGED when a node changes type', async () => {
    const { ws, osc, text } = await listener('/oscquery');
    const other = await listener('/');
    command(ws, 'LISTEN', '/portraits/loop');
    await new Promise((r) => setTimeout(r, 100));
    // a list that grows changes its node's TYPE ("iii" -> "iiii")
    const seeds = [...server.store.state.loop.seeds, 77];
    await sendOsc('/portraits/loop/seeds', ...seeds);
    await until(() => osc.some((m) => m.address === '/portraits/loop/seeds'), 3000, 'loop.seeds over the WebSocket');
    expect(osc.find((m) => m.address === '/portraits/loop/seeds')!.args).toEqual(seeds);
    await until(() => text.some((t) => t.COMMAND === 'PATH_CHANGED' && t.DATA === '/portraits/loop/seeds'), 3000, 'PATH_CHANGED');
    // every client is told the tree changed, listening or not; values only go to listeners
    await until(() => other.text.some((t) => t.COMMAND === 'PATH_CHANGED' && t.DATA === '/portraits/loop/seeds'), 3000, 'PATH_CHANGED to the other client');
    expect(other.osc).toEqual([]);
    const node = (await (await fetch(`${server.url}/portraits/loop/seeds?TYPE`)).json()) as { TYPE: string };
    expect(node.TYPE).toBe('i'.repeat(seeds.length));
  });

  it('leaves socket.io its path, and refuses upgrades elsewhere', async () => {
    const socket = await connect(server, 'controller');
    expect(socket.connected).toBe(true);
    socket.disconnect();
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/not-here`);
    clients.push(ws);
    await expect(
      new Promise((resolve, reject) => {
        ws.once('open', () => resolve('open'));
        ws.once('error', reject);
      }),
    ).rejects.toThrow();
  });
});

describe('OSCQuery tree and HOST_INFO', () => {
  it('gives every node a DESCRIPTION (a walk over the whole tree over HTTP)', async () => {
    const root = (await (await fetch(`${server.url}/oscquery`)).json()) as OscQueryNode;
    const missing: string[] = [];
    let count = 0;
    const walk = (node: OscQueryNode) => {
      count++;
      if (typeof node.DESCRIPTION !== 'string' || node.DESCRIPTION.trim() === '') missing.push(node.FULL_PATH);
      for (const child of Object.values(node.CONTENTS ?? {})) walk(child);
    };
    walk(root);
    expect(missing).toEqual([]);
    expect(count).toBeGreaterThanOrEqual(44);
    expect(root.CONTENTS!.portraits!.CONTENTS!.walk!.DESCRIPTION).toMatch(/speed/);
  });

  it('names the OSC address, port and transport, and the LISTEN and PATH_CHANGED extensions', async () => {
    const info = (await (await fetch(`${server.url}/?HOST_INFO`)).json()) as { OSC_IP: string; OSC_PORT: number; OSC_TRANSPORT: string; EXTENSIONS: Record<string, boolean> };
    expect(info).toMatchObject({ OSC_IP: '127.0.0.1', OSC_PORT: server.osc!.port, OSC_TRANSPORT: 'UDP' });
    expect(info.EXTENSIONS).toMatchObject({ LISTEN: true, PATH_CHANGED: true, DESCRIPTION: true, VALUE: true });
  });
});

describe.skipIf(noMulticast !== null)('multicast DNS', () => {
  it('a separate process finds _oscjson._tcp on the HTTP port and _osc._udp on the OSC port, and sees them go on close', async () => {
    const advertised = await startTestServer({ modelsDir: await tinyModelsDir(), model: 'osc-tiny', frameSize: 32, fps: 5, mdns: true, presetsDir: await mkdtemp(join(tmpdir(), 'portraits-mdns-presets-')) });
    let closed = false;
    try {
      const name = serviceName(advertised.port);
      const browser = new Browser();
      browsers.push(browser);
      await until(() => !!browser.find('up', '_oscjson._tcp', name) && !!browser.find('up', '_osc._udp', name), 15_000, `both services of "${name}"; the browser saw ${JSON.stringify(browser.seen)}`);
      expect(browser.find('up', '_oscjson._tcp', name)!.port).toBe(advertised.port);
      expect(browser.find('up', '_osc._udp', name)!.port).toBe(advertised.osc!.port);
      await advertised.close();
      closed = true;
      await until(() => !!browser.find('down', '_oscjson._tcp', name) && !!browser.find('down', '_osc._udp', name), 10_000, `goodbyes for "${name}"; the browser saw ${JSON.stringify(browser.seen)}`);
    } finally {
      if (!closed) await advertised.close();
    }
  }, 40_000);
});
