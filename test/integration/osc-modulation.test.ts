/**
 * The modulation matrix over OSC on the real server: a route set at /portraits/mod/route
 * from an audio source an outside analyser feeds at /portraits/audio/level moves its
 * parameter from the VJ's value by the fed level; clearing the route brings the value back;
 * a bad route is refused with the reason; /portraits/tempo and /portraits/tap set the tempo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { startTestServer } from '../support/server.js';
import { OSC, OscPeer, tinyModelsDir, until } from './osc-support.js';

let server: RunningServer;
let peer: OscPeer;

beforeAll(async () => {
  server = await startTestServer({ modelsDir: await tinyModelsDir(), model: 'osc-tiny', frameSize: 32 });
  peer = await OscPeer.open();
});

afterAll(async () => {
  peer?.close();
  await server?.close();
});

const send = (address: string, ...args: (string | number)[]) => peer.send(server.osc!.port, new OSC.Message(address, ...args));

describe('modulation over OSC', () => {
  it('an audio level fed over OSC drives a routed parameter; clearing the route restores it', async () => {
    await send('/portraits/dream/strength', 0.25);
    await until(() => server.store.state.dream.strength === 0.25, 3000, 'the set value');
    await send('/portraits/mod/route', 0, 'audio.level', 'dream.strength', 1, 0, 0, 'linear');
    await until(() => server.store.state.modulation.routes.length === 1, 3000, 'the route');
    expect(server.store.state.modulation.routes[0]).toEqual({ source: 'audio.level', target: 'dream.strength', amount: 1, attack: 0, release: 0, curve: 'linear' });
    for (let i = 0; i < 10 && Math.abs(server.store.state.dream.strength - 0.65) > 0.01; i++) {
      await send('/portraits/audio/level', 0.4);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(server.store.state.dream.strength).toBeCloseTo(0.65, 2);
    // Past the top of the range, the value stops at it.
    await send('/portraits/audio/level', 1);
    await until(() => server.store.state.dream.strength === 1, 3000, 'the clamp at 1');
    await send('/portraits/mod/clear');
    await until(() => server.store.state.modulation.routes.length === 0 && Math.abs(server.store.state.dream.strength - 0.25) < 1e-6, 3000, 'the value back at 0.25');
  });

  it('refuses a route to a parameter that cannot be modulated, saying why', async () => {
    const from = peer.received.length;
    await send('/portraits/mod/route', 0, 'lfo1', 'seed', 0.5, 0, 0, 'linear');
    const reply = await peer.waitFor('/portraits/error', 3000, from);
    expect(String(reply.args[0])).toMatch(/'seed' is not a modulatable parameter/);
    expect(server.store.state.modulation.routes).toEqual([]);
  });

  it('sets the tempo directly and by taps', async () => {
    await send('/portraits/tempo', 90.5);
    await until(() => server.store.state.modulation.bpm === 90.5, 3000, 'tempo 90.5');
    for (let i = 0; i < 4; i++) {
      await send('/portraits/tap');
      await new Promise((r) => setTimeout(r, 400));
    }
    await until(() => Math.abs(server.store.state.modulation.bpm - 150) < 15, 3000, 'about 150 bpm from taps 0.4 s apart');
  });
});
