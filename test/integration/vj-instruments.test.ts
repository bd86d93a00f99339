/**
 * The VJ's instruments on the real server: a preset saved with modulation routes, LFOs, a tempo
 * and MIDI mappings is restored whole after a restart; visitors' sockets and public HTTP
 * readers never receive the matrix or the mappings and cannot change them; the VJ's socket
 * receives the meters (sources and route effects) and taps the tempo.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MidiMapping } from '../../common/midi.js';
import type { ModulationMeters, Route } from '../../common/modulation.js';
import type { Ack, PresetAck } from '../../common/protocol.js';
import type { PageState } from '../../common/state.js';
import type { RunningServer } from '../../server/app.js';
import { connect, emitAck, startTestServer, type TestSocket } from '../support/server.js';
import { tinyModelsDir, until } from './osc-support.js';

const TOKEN = 'vj-secret-token-for-tests';
let server: RunningServer;
let modelsDir: string;
let presetsDir: string;
const sockets: TestSocket[] = [];

const start = () => startTestServer({ modelsDir, model: 'osc-tiny', frameSize: 32, presetsDir, adminToken: TOKEN });
const open = async (token?: string) => {
  const s = await connect(server, 'controller', token ? { token } : {});
  sockets.push(s);
  return s;
};
const firstState = (s: TestSocket) => new Promise<PageState>((resolve) => s.once('state', (state) => resolve(state)));
const preset = (s: TestSocket, command: unknown) => new Promise<PresetAck>((resolve) => s.emit('preset', command, resolve));

const ROUTES: Route[] = [
  { source: 'lfo1', target: 'dream.strength', amount: 0.3, attack: 0.1, release: 0.5, curve: 'smooth' },
  { source: 'audio.onset', target: 'display.blackout', amount: -0.2, attack: 0, release: 0.25, curve: 'exp' },
];
const MAPPINGS: MidiMapping[] = [
  { kind: 'cc', channel: 0, number: 21, target: 'walk.speed' },
  { kind: 'note', channel: 9, number: 36, target: 'display.caption' },
  { kind: 'pitch', channel: 1, number: 0, target: 'glide' },
];

beforeAll(async () => {
  modelsDir = await tinyModelsDir();
  presetsDir = join(await mkdtemp(join(tmpdir(), 'portraits-vj-')), 'presets');
  server = await start();
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server?.close();
});

describe('the VJ instruments', () => {
  it('a preset with routes, LFOs, tempo and MIDI mappings comes back whole after a restart', async () => {
    const vj = await open(TOKEN);
    const lfos = [
      { shape: 'square', beats: 2, phase: 0.25 },
      { shape: 'sine', beats: 4, phase: 0 },
      { shape: 'saw', beats: 1, phase: 0.5 },
      { shape: 'random', beats: 8, phase: 0 },
    ];
    const ack = await emitAck(vj, 'patch', { modulation: { routes: ROUTES, lfos, bpm: 97 }, midi: { mappings: MAPPINGS } });
    expect(ack.ok, JSON.stringify(ack)).toBe(true);
    expect(await preset(vj, { op: 'save', name: 'set one' })).toMatchObject({ ok: true });
    // clear everything, restart, load
    expect((await emitAck(vj, 'patch', { modulation: { routes: [], bpm: 120 }, midi: { mappings: [] } })).ok).toBe(true);
    for (const s of sockets.splice(0)) s.disconnect();
    await server.close();
    server = await start();
    expect(server.store.state.midi.mappings).toEqual([]);
    expect(server.store.state.modulation.routes).toEqual([]);
    const again = await open(TOKEN);
    expect(await preset(again, { op: 'load', name: 'set one' })).toMatchObject({ ok: true });
    expect(server.store.state.modulation.routes).toEqual(ROUTES);
    expect(server.store.state.modulation.lfos).toEqual(lfos);
    expect(server.store.state.modulation.bpm).toBe(97);
    expect(server.store.state.midi.mappings).toEqual(MAPPINGS);
  });

  it('visitors never see the matrix or the mappings, and cannot change them', async () => {
    const visitor = await open();
    const seen = firstState(visitor);
    const vj = await open(TOKEN);
    const vjSeen = firstState(vj);
    // the first state on connect, then the broadcasts
    const state = await seen;
    expect(state.modulation).toBeUndefined();
    expect(state.midi).toBeUndefined();
    expect(state.dream).toBeDefined();
    expect((await vjSeen).midi?.mappings).toEqual(MAPPINGS);
    const broadcast = firstState(visitor);
    expect((await emitAck(vj, 'patch', { display: { caption: true } })).ok).toBe(true);
    expect((await broadcast).midi).toBeUndefined();

    const refused = (await emitAck(visitor, 'patch', { midi: { mappings: [] } })) as Ack;
    expect(refused).toMatchObject({ ok: false, code: 'needs-admin' });
    expect((await emitAck(visitor, 'patch', { modulation: { routes: [] } })) as Ack).toMatchObject({ ok: false, code: 'needs-admin' });

    const publicRead = (await (await fetch(`${server.url}/api/state`)).json()) as { state: PageState };
    expect(publicRead.state.modulation).toBeUndefined();
    expect(publicRead.state.midi).toBeUndefined();
    const adminRead = (await (await fetch(`${server.url}/api/state`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { state: PageState };
    expect(adminRead.state.midi?.mappings).toEqual(MAPPINGS);
    const savedPublic = (await (await fetch(`${server.url}/api/presets/set%20one`)).json()) as { state: Record<string, unknown> };
    expect(savedPublic.state).not.toHaveProperty('midi');
    expect(savedPublic.state).not.toHaveProperty('modulation');
    expect(savedPublic.state).toHaveProperty('walk');
    // a visitor's socket gets no meters and may not tap
    let visitorMeters = 0;
    visitor.on('meters', () => visitorMeters++);
    expect(await new Promise<Ack>((r) => visitor.emit('tap', r))).toMatchObject({ ok: false, code: 'needs-admin' });
    await new Promise((r) => setTimeout(r, 400));
    expect(visitorMeters).toBe(0);
  });

  it("the VJ's socket receives the meters and taps the tempo", async () => {
    const vj = await open(TOKEN);
    const meters: ModulationMeters[] = [];
    vj.on('meters', (m) => meters.push(m));
    await until(() => meters.length >= 10, 5000, 'ten meter messages');
    const last = meters.at(-1)!;
    expect(Object.keys(last.sources)).toEqual(expect.arrayContaining(['lfo1', 'beat', 'audio.onset']));
    expect(last.routes).toHaveLength(ROUTES.length);
    // lfo1 is a square of 2 beats at 97 bpm: it moves between 0 and 1 while we watch
    expect(new Set(meters.map((m) => m.sources.lfo1)).size).toBeGreaterThan(1);
    expect(last.bases).toHaveProperty('dream.strength');
    // the route's effect is its amount x smooth(envelope), within [0, 0.3]
    for (const m of meters) {
      expect(m.routes[0]).toBeGreaterThanOrEqual(0);
      expect(m.routes[0]).toBeLessThanOrEqual(0.3 + 1e-9);
    }
    // two taps half a second apart: 120 bpm, slower by however late the second one arrives on a busy machine
    const tap = () => new Promise<Ack>((r) => vj.emit('tap', r));
    expect((await tap()).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect((await tap()).ok).toBe(true);
    expect(server.store.state.modulation.bpm).toBeGreaterThan(80);
    expect(server.store.state.modulation.bpm).toBeLessThan(121);
  });
});
