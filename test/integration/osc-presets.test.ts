/**
 * Presets by name from OSC (liblo's oscsend), HTTP and the controller's socket, stored on
 * disk and still there after the server restarts.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresetAck } from '../../common/protocol.js';
import type { RunningServer } from '../../server/app.js';
import { io } from 'socket.io-client';
import { connect, startTestServer, type TestSocket } from '../support/server.js';
import { OSC, OscDump, OscPeer, liblo, oscsend, tinyModelsDir, until } from './osc-support.js';

const hasLiblo = await liblo();

let server: RunningServer;
let presetsDir: string;
let modelsDir: string;
let dump: OscDump;
let registrar: OscPeer;
const peers: OscPeer[] = [];
const sockets: TestSocket[] = [];

const start = () => startTestServer({ modelsDir, model: 'osc-tiny', frameSize: 32, presetsDir });
const http = (method: string, path: string) => fetch(`${server.url}${path}`, { method });
const presetCommand = (socket: TestSocket, command: unknown) => new Promise<PresetAck>((resolve) => socket.emit('preset', command, resolve));

beforeAll(async () => {
  if (!hasLiblo) return;
  modelsDir = await tinyModelsDir();
  presetsDir = join(await mkdtemp(join(tmpdir(), 'portraits-presets-')), 'presets');
  server = await start();
  dump = await OscDump.start();
  registrar = await OscPeer.open();
  peers.push(registrar);
  await registrar.send(server.osc!.port, new OSC.Message('/portraits/feedback/register', dump.port));
  await dump.waitFor((l) => l.address === '/portraits/visitorLock');
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const p of peers) p.close();
  dump?.close();
  await server?.close();
});

describe.skipIf(!hasLiblo)('presets', () => {
  it('OSC: save, list and load by name; a load inside a bundle is part of the one change', async () => {
    const port = server.osc!.port;
    await oscsend(port, '/portraits/walk/speed', 'f', 0.8);
    await oscsend(port, '/portraits/plane/xy', 'ff', 4, 5);
    await until(() => server.store.state.plane.y === 5, 2000, 'the look');
    const from = dump.lines.length;
    await oscsend(port, '/portraits/preset/save', 's', 'Opening night');
    await until(() => existsSync(join(presetsDir, 'Opening night.json')), 3000, 'the preset file');
    // feedback clients hear the new list
    const list = await dump.waitFor((l) => l.address === '/portraits/preset/list', 3000, from);
    expect(list.values).toEqual(['Opening night']);

    const peer = await OscPeer.open();
    peers.push(peer);
    await peer.send(port, new OSC.Message('/portraits/preset/list'));
    expect((await peer.waitFor('/portraits/preset/list')).args).toEqual(['Opening night']);

    await oscsend(port, '/portraits/plane/xy', 'ff', 1, 1);
    await until(() => server.store.state.plane.x === 1, 2000, 'a different look');
    const versions: number[] = [];
    const off = server.store.subscribe((_s, v) => versions.push(v));
    const load = new OSC.Message('/portraits/preset/load', 'Opening night');
    const speed = new OSC.Message('/portraits/walk/speed');
    OSC.TypedMessage.prototype.add.call(speed, 'f', 1.5);
    await peer.send(port, new OSC.Bundle([load, speed]));
    await until(() => versions.length > 0, 2000, 'the bundle');
    await new Promise((r) => setTimeout(r, 150));
    off();
    expect(versions).toHaveLength(1);
    expect(server.store.state.plane).toMatchObject({ x: 4, y: 5 });
    expect(server.store.state.walk.speed).toBe(1.5); // the later message in the bundle wins
  });

  it('OSC: refuses bad names and unknown presets, writing and changing nothing', async () => {
    const port = server.osc!.port;
    const peer = await OscPeer.open();
    peers.push(peer);
    const version = server.store.version;
    for (const name of ['../evil', 'a/b', '.hidden', '']) {
      const from = peer.received.length;
      await peer.send(port, new OSC.Message('/portraits/preset/save', name));
      expect(String((await peer.waitFor('/portraits/error', 3000, from)).args[0])).toMatch(/invalid preset name/);
    }
    await oscsend(port, '/portraits/preset/save', 's', '../evil2');
    const from = peer.received.length;
    await peer.send(port, new OSC.Message('/portraits/preset/load', 'never saved'));
    expect(String((await peer.waitFor('/portraits/error', 3000, from)).args[0])).toMatch(/no preset named 'never saved'/);
    await new Promise((r) => setTimeout(r, 200));
    expect((await readdir(presetsDir)).sort()).toEqual(['Opening night.json']);
    expect(existsSync(join(presetsDir, '..', 'evil.json'))).toBe(false);
    expect(server.store.version).toBe(version);
  });

  it('HTTP: list, get, save, load and delete', async () => {
    await fetch(`${server.url}/api/state`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"glide":3.5}' });
    const put = await http('PUT', '/api/presets/calm');
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ ok: true, names: ['calm', 'Opening night'] });
    expect(await (await http('GET', '/api/presets')).json()).toEqual({ ok: true, names: ['calm', 'Opening night'] });
    const one = (await (await http('GET', '/api/presets/calm')).json()) as { name: string; state: { glide: number } };
    expect(one).toMatchObject({ name: 'calm', state: { glide: 3.5 } });
    expect(one.state).not.toHaveProperty('visitorLock');
    await fetch(`${server.url}/api/state`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"glide":0.5}' });
    const load = await http('POST', '/api/presets/calm/load');
    expect(load.status).toBe(200);
    expect(await load.json()).toMatchObject({ ok: true, version: server.store.version });
    expect(server.store.state.glide).toBe(3.5);
    expect((await http('POST', '/api/presets/nope/load')).status).toBe(404);
    expect((await http('PUT', '/api/presets/..%2Fescape')).status).toBe(400);
    expect((await http('DELETE', '/api/presets/calm')).status).toBe(200);
    expect((await http('DELETE', '/api/presets/calm')).status).toBe(404);
    expect((await http('GET', '/api/presets/calm')).status).toBe(404);
  });

  // What visitors may not do (overwrite, delete, anything while locked) is tested in test/unit/presets.test.ts;
  // which sockets count as visitors is the access policy's business (a local test client is not one).
  it('controller: the presets event and the preset command', async () => {
    // Listen before connecting: the server sends the list right on connection.
    const controller: TestSocket = io(server.url, { auth: { role: 'controller' }, transports: ['websocket'], reconnection: false, forceNew: true, autoConnect: false });
    sockets.push(controller);
    const lists: string[][] = [];
    controller.on('presets', (names) => lists.push(names));
    controller.connect();
    await until(() => lists.length > 0, 3000, 'the preset list on connect');
    expect(lists[0]).toEqual(['Opening night']);
    expect(await presetCommand(controller, { op: 'save', name: 'tablet look' })).toEqual({ ok: true, names: ['Opening night', 'tablet look'] });
    await until(() => lists.length > 1, 3000, 'the list broadcast');
    expect(lists.at(-1)).toEqual(['Opening night', 'tablet look']);
    expect(await presetCommand(controller, { op: 'load', name: 'Opening night' })).toMatchObject({ ok: true, version: server.store.version });
    expect(await presetCommand(controller, { op: 'list' })).toEqual({ ok: true, names: ['Opening night', 'tablet look'] });
    expect(await presetCommand(controller, { op: 'explode' })).toMatchObject({ ok: false });
    expect(await presetCommand(controller, { op: 'load', name: '../x' })).toMatchObject({ ok: false, error: expect.stringMatching(/invalid preset name/) });
    const display = await connect(server, 'display');
    sockets.push(display);
    expect(await presetCommand(display, { op: 'list' })).toMatchObject({ ok: false });
  });

  it('survive a restart', async () => {
    const names = ['Opening night', 'tablet look'];
    const saved = JSON.parse(await readFile(join(presetsDir, 'Opening night.json'), 'utf8'));
    for (const s of sockets) s.disconnect();
    await server.close();
    server = await start();
    expect(server.presets.names()).toEqual(names);
    expect(await (await http('GET', '/api/presets')).json()).toEqual({ ok: true, names });
    await oscsend(server.osc!.port, '/portraits/plane/x', 'f', 9);
    await until(() => server.store.state.plane.x === 9, 2000, 'plane.x 9');
    await oscsend(server.osc!.port, '/portraits/preset/load', 's', 'Opening night');
    await until(() => server.store.state.plane.x === saved.state.plane.x, 2000, 'the preset after the restart');
    expect(server.store.state.plane).toEqual(saved.state.plane);
    expect((await readdir(presetsDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
