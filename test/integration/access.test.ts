/**
 * Roles on the real server: visitors (tablets, anyone on the network) and the
 * VJ/administrator, over socket.io, HTTP and OSC. Every refusal leaves the state as it was.
 */
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import type { PresetAck } from '../../common/protocol.js';
import type { RunningServer } from '../../server/app.js';
import { decideAccess, isLoopback, tokenMatches } from '../../server/access.js';
import { encodeMessage } from '../../server/osc/codec.js';
import { emitAck, startTestServer, type TestSocket } from '../support/server.js';
import { tinyModelsDir } from '../support/tiny-generator.js';

const TOKEN = 'vj-secret-for-tests-0123';
let modelsDir: string;
const sockets: TestSocket[] = [];

function open(url: string, auth: Record<string, unknown>): Promise<TestSocket> {
  const socket: TestSocket = io(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  });
}

const preset = (socket: TestSocket, command: unknown) => new Promise<PresetAck>((resolve) => socket.emit('preset', command, resolve));

async function http(server: RunningServer, method: string, path: string, opts: { token?: string; body?: unknown; authorization?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.authorization) headers.authorization = opts.authorization;
  const res = await fetch(server.url + path, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: body as { ok?: boolean; error?: string } & Record<string, unknown> };
}

beforeAll(async () => {
  modelsDir = await tinyModelsDir();
});

afterAll(() => {
  for (const s of sockets) s.disconnect();
});

/** Disconnects every test socket and waits until the server has seen them go (their turns end). */
async function leaveAll(server: RunningServer): Promise<void> {
  for (const s of sockets.splice(0)) s.disconnect();
  for (let waited = 0; ; waited += 20) {
    const health = (await (await fetch(`${server.url}/health`)).json()) as { controllers: number };
    if (health.controllers === 0) return;
    if (waited > 5000) throw new Error(`the server still counts ${health.controllers} controller(s) 5 s after they disconnected`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('role decisions', () => {
  it('loopback, tokens, and what a presented token means', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a), a).toBe(true);
    for (const a of ['10.0.0.5', '::ffff:192.168.1.2', 'fe80::1', '', undefined, '127.0.0.1.evil']) expect(isLoopback(a), String(a)).toBe(false);
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN + 'x', TOKEN)).toBe(false);
    expect(tokenMatches(42, TOKEN)).toBe(false);
    expect(decideAccess({ adminToken: TOKEN }, '127.0.0.1', undefined)).toBe('visitor');
    expect(decideAccess({ adminToken: TOKEN }, '10.0.0.9', TOKEN)).toBe('admin');
    expect(decideAccess({ adminToken: TOKEN }, '127.0.0.1', 'wrong')).toMatchObject({ ok: false, code: 'forbidden' });
    expect(decideAccess({}, '127.0.0.1', undefined)).toBe('admin');
    expect(decideAccess({}, '10.0.0.9', undefined)).toBe('visitor');
    expect(decideAccess({}, '10.0.0.9', 'anything')).toMatchObject({ ok: false, code: 'forbidden', error: expect.stringMatching(/only possible from the server machine/) });
  });
});

describe('with an admin token configured', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer({ modelsDir, adminToken: TOKEN, presetsDir: await tempDir(), oscAllow: ['127.0.0.2'] });
  });
  afterAll(async () => server?.close());

  it('a visitor tablet steers the face but cannot run the room, the loop or the lock', async () => {
    const tablet = await open(server.url, { role: 'controller' });
    expect(await emitAck(tablet, 'patch', { walk: { speed: 0.4 } })).toMatchObject({ ok: true });
    expect(await emitAck(tablet, 'command', { type: 'newFace' })).toMatchObject({ ok: true });
    const before = { state: structuredClone(server.store.state), version: server.store.version };
    for (const patch of [{ display: { blackout: 1 } }, { visitorLock: true }, { loop: { period: 5 } }, { walk: { speed: 0.1 }, display: { caption: true } }]) {
      const ack = await emitAck(tablet, 'patch', patch);
      expect(ack, JSON.stringify(patch)).toMatchObject({ ok: false, code: 'needs-admin', error: expect.stringMatching(/only the VJ\/administrator/) });
    }
    expect(server.store.version).toBe(before.version);
    expect(server.store.state).toEqual(before.state);
  });

  it('a visitor may list and load presets, never save or delete them', async () => {
    const vj = await open(server.url, { role: 'controller', token: TOKEN });
    expect(await preset(vj, { op: 'save', name: 'Opening' })).toMatchObject({ ok: true, names: ['Opening'] });
    const tablet = await open(server.url, { role: 'controller' });
    expect(await preset(tablet, { op: 'list' })).toEqual({ ok: true, names: ['Opening'] });
    expect(await preset(tablet, { op: 'load', name: 'Opening' })).toMatchObject({ ok: true });
    expect(await preset(tablet, { op: 'save', name: 'Mine' })).toMatchObject({ ok: false, code: 'needs-admin', error: expect.stringMatching(/only the VJ/) });
    expect(await preset(tablet, { op: 'delete', name: 'Opening' })).toMatchObject({ ok: false, code: 'needs-admin', error: expect.stringMatching(/only the VJ/) });
    expect(server.presets.names()).toEqual(['Opening']);
  });

  it('the VJ controller (token in the handshake) runs the room; a wrong token is refused at the door', async () => {
    const vj = await open(server.url, { role: 'controller', token: TOKEN });
    expect(await emitAck(vj, 'patch', { display: { blackout: 0.5 }, visitorLock: true })).toMatchObject({ ok: true });
    expect(server.store.state.display.blackout).toBe(0.5);
    const tablet = await open(server.url, { role: 'controller' });
    expect(await emitAck(tablet, 'patch', { walk: { speed: 0.2 } })).toMatchObject({ ok: false, code: 'locked', error: expect.stringMatching(/locked/) });
    expect(await preset(tablet, { op: 'load', name: 'Opening' })).toMatchObject({ ok: false, code: 'locked' });
    expect(await http(server, 'PATCH', '/api/state', { body: { walk: { speed: 0.2 } } })).toMatchObject({ status: 409, body: { ok: false, code: 'locked' } });
    expect(await emitAck(vj, 'patch', { display: { blackout: 0 }, visitorLock: false })).toMatchObject({ ok: true });
    await expect(open(server.url, { role: 'controller', token: 'not-the-token' })).rejects.toThrow(/admin token is wrong/);
  });

  it('an HTTP visitor waits for its turn like a tablet (409 while a tablet steers)', async () => {
    await leaveAll(server);
    const tablet = await open(server.url, { role: 'controller' });
    expect(await emitAck(tablet, 'patch', { walk: { speed: 0.35 } })).toMatchObject({ ok: true });
    const version = server.store.version;
    const refused = await http(server, 'PATCH', '/api/state', { body: { walk: { speed: 0.9 } } });
    expect(refused).toMatchObject({ status: 409, body: { ok: false, code: 'not-your-turn', error: expect.stringMatching(/wait for your turn/) } });
    expect(await http(server, 'POST', '/api/command', { body: { type: 'newFace' } })).toMatchObject({ status: 409, body: { code: 'not-your-turn' } });
    // Input that will never be accepted is 400 whatever its message says.
    expect(await http(server, 'PATCH', '/api/state', { body: { walk: { speed: 'locked' } }, token: TOKEN })).toMatchObject({ status: 400, body: { ok: false, code: 'invalid' } });
    expect(server.store.version).toBe(version);
    // The administrator is never queued.
    expect((await http(server, 'PATCH', '/api/state', { body: { walk: { speed: 0.5 } }, token: TOKEN })).status).toBe(200);
    await leaveAll(server);
    expect((await http(server, 'PATCH', '/api/state', { body: { walk: { speed: 0.9 } } })).status).toBe(200);
    expect(server.store.state.walk.speed).toBe(0.9);
  });

  it('HTTP: reading is public, VJ keys and preset writes need the token (401 without, 403 wrong)', async () => {
    await leaveAll(server);
    expect((await http(server, 'GET', '/api/state')).status).toBe(200);
    expect((await http(server, 'GET', '/api/presets')).status).toBe(200);
    expect((await http(server, 'PATCH', '/api/state', { body: { walk: { speed: 0.3 } } })).status).toBe(200);
    const version = server.store.version;

    const noToken = await http(server, 'PATCH', '/api/state', { body: { display: { blackout: 1 } } });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(noToken.body).toMatchObject({ ok: false, code: 'needs-admin', error: expect.stringMatching(/display: only the VJ\/administrator/) });
    const wrong = await http(server, 'PATCH', '/api/state', { body: { display: { blackout: 1 } }, token: 'wrong-token-xyz' });
    expect(wrong).toMatchObject({ status: 403, body: { ok: false, code: 'forbidden', error: 'the admin token is wrong' } });
    expect((await http(server, 'PATCH', '/api/state', { body: { visitorLock: true }, authorization: 'Basic dmo6dmo=' })).status).toBe(403);
    expect((await http(server, 'PUT', '/api/presets/Night')).status).toBe(401);
    expect((await http(server, 'DELETE', '/api/presets/Opening')).status).toBe(401);
    expect(server.store.version).toBe(version);
    expect(server.presets.names()).toEqual(['Opening']);

    expect((await http(server, 'PATCH', '/api/state', { body: { display: { caption: true } }, token: TOKEN })).status).toBe(200);
    expect(server.store.state.display.caption).toBe(true);
    expect((await http(server, 'PUT', '/api/presets/Night', { token: TOKEN })).status).toBe(200);
    expect((await http(server, 'DELETE', '/api/presets/Night', { token: TOKEN })).status).toBe(200);
    // A visitor's HTTP load obeys the visitor lock, like a tablet: 409, try again later.
    expect((await http(server, 'PATCH', '/api/state', { body: { visitorLock: true }, token: TOKEN })).status).toBe(200);
    expect(await http(server, 'POST', '/api/presets/Opening/load')).toMatchObject({ status: 409, body: { ok: false, code: 'locked' } });
    expect((await http(server, 'POST', '/api/command', { body: { type: 'newFace' } })).status).toBe(409);
    expect((await http(server, 'PATCH', '/api/state', { body: { visitorLock: false }, token: TOKEN })).status).toBe(200);
  });

  it('OSC is heard only from the configured hosts', async () => {
    const send = async (from: string, speed: number) => {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((r) => socket.bind(0, from, () => r()));
      await new Promise<void>((r, j) => socket.send(encodeMessage('/portraits/walk/speed', [{ type: 'f', value: speed }]), server.osc!.port, '127.0.0.1', (e) => (e ? j(e) : r())));
      socket.close();
    };
    const version = server.store.version;
    await send('127.0.0.1', 1.25);
    await sleep(300);
    expect(server.store.version).toBe(version);
    await send('127.0.0.2', 1.25);
    await waitFor(() => server.store.state.walk.speed === 1.25);
    expect(server.store.version).toBe(version + 1);
  });
});

describe('without an admin token (local-only administration)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ modelsDir, presetsDir: await tempDir(), host: '0.0.0.0' });
  });
  afterAll(async () => server?.close());

  it('requests from this machine are the administrator', async () => {
    expect((await http(server, 'PATCH', '/api/state', { body: { display: { blackout: 0.25 } } })).status).toBe(200);
    const local = await open(server.url, { role: 'controller' });
    expect(await emitAck(local, 'patch', { visitorLock: true })).toMatchObject({ ok: true });
    expect(await emitAck(local, 'patch', { visitorLock: false })).toMatchObject({ ok: true });
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (!external) console.warn('skipped: no non-loopback IPv4 interface to connect from as a visitor');

  it.skipIf(!external)('requests from the network are visitors, and a token they present is refused', async () => {
    const url = `http://${external}:${server.port}`;
    const res = await fetch(`${url}/api/state`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ display: { blackout: 1 } }) });
    expect(res.status).toBe(401);
    const tablet = await open(url, { role: 'controller' });
    expect(await emitAck(tablet, 'patch', { visitorLock: true })).toMatchObject({ ok: false });
    await expect(open(url, { role: 'controller', token: 'guess-guess-guess' })).rejects.toThrow(/only possible from the server machine/);
    expect(server.store.state.display.blackout).toBe(0.25);
  });
});

describe('brute force', () => {
  it(`an address that sends too many wrong tokens is refused for a while, over HTTP and socket.io`, async () => {
    const server = await startTestServer({ modelsDir, adminToken: TOKEN, presetsDir: await tempDir() });
    try {
      for (let i = 0; i < 20; i++) expect((await http(server, 'PUT', '/api/presets/x', { token: `guess-${i}` })).status).toBe(403);
      expect((await http(server, 'PUT', '/api/presets/x', { token: TOKEN })).status).toBe(429);
      await expect(open(server.url, { role: 'controller', token: TOKEN })).rejects.toThrow(/too many wrong admin tokens/);
      // Visitors without a token are not affected.
      expect((await http(server, 'GET', '/api/state')).status).toBe(200);
      await open(server.url, { role: 'controller' });
    } finally {
      await server.close();
    }
  });
});

async function tempDir(): Promise<string> {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  return mkdtemp(join(tmpdir(), 'portraits-access-'));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}
