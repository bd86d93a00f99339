/**
 * Opening hours in the real server: outside them the live state says blackout 1, a
 * connected display gets no frames (generation idles) and /health says closed; inside
 * them frames flow and the blackout is left alone.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { connect, nextFrames, startTestServer, type TestSocket } from '../support/server.js';
import { tinyModelsDir } from '../support/tiny-generator.js';

const servers: RunningServer[] = [];
const sockets: TestSocket[] = [];

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await Promise.all(servers.map((s) => s.close()));
});

async function start(schedule: unknown): Promise<RunningServer> {
  const server = await startTestServer({ modelsDir: await tinyModelsDir(), frameSize: 32, fps: 10, schedule: schedule as never });
  servers.push(server);
  return server;
}

const allWeek = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['00:00', '24:00']]]));

describe('opening hours', () => {
  it('closed: fades to black and idles generation even with a display connected', async () => {
    const server = await start({ timezone: 'UTC', days: {} });
    expect(server.store.state.display.blackout).toBe(1);
    const display = await connect(server, 'display');
    sockets.push(display);
    let received = 0;
    display.on('frame', () => received++);
    await new Promise((r) => setTimeout(r, 1000));
    expect(server.loop.frames).toBe(0);
    expect(received).toBe(0);
    const health = (await (await fetch(`${server.url}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', open: false, displays: 1 });
  });

  it('open: frames flow and the blackout stays as it is', async () => {
    const server = await start({ days: allWeek });
    expect(server.store.state.display.blackout).toBe(0);
    expect(server.store.version).toBe(0);
    const display = await connect(server, 'display');
    sockets.push(display);
    const frames = await nextFrames(display, 3);
    expect(frames).toHaveLength(3);
    const health = (await (await fetch(`${server.url}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ open: true });
  });

  it('refuses a malformed schedule at start, naming the key', async () => {
    await expect(start({ days: { mon: [['10:00', '10:00']] } })).rejects.toThrow(/schedule\.days\.mon\.0: start and end are equal/);
  });
});
