/**
 * Attract mode end to end: left alone, the installation wanders by itself and the tablet
 * says so; the first touch takes over from the face on screen without a jump. Measured on
 * the latents the server puts in each frame's metadata (debugFrameLatent): the step from
 * the last attract frame to the first visitor frame must be small next to the distance a
 * jump would cover, and no bigger than the glide's ordinary steps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameMeta } from '../../common/frame.js';
import { planeAt } from '../../common/latent.js';
import type { RunningServer } from '../../server/app.js';
import { chromiumPath } from '../support/browser.js';
import { connect, startTestServer, type TestSocket } from '../support/server.js';
import { sleep } from './display-hook.js';
import { ensurePagesBuilt } from './pages.js';
import { PORTRAIT, launchTablets, latentDistance, padPoint, touchDrag, waitUntil, type Tablet } from './tablet-support.js';

const chromium = chromiumPath();
const IDLE_S = 5;

describe.skipIf(!chromium)('attract mode and the hand-off', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let tablets: Awaited<ReturnType<typeof launchTablets>>;
  let tablet: Tablet;
  let probe: TestSocket;
  const frames: FrameMeta[] = [];

  beforeAll(async () => {
    await ensurePagesBuilt();
    server = await startTestServer({ adminToken: 'attract-test-admin-token', attractIdleSeconds: IDLE_S, debugFrameLatent: true, upscaler: 'off' });
    probe = await connect(server, 'display');
    probe.on('frame', (meta) => frames.push(meta));
    tablets = await launchTablets(chromium!);
    tablet = await tablets.open(`${server.url}/controller/`, PORTRAIT);
    await tablet.page.waitForSelector('#connection[data-state="connected"]');
  }, 180_000);

  afterAll(async () => {
    probe?.disconnect();
    await tablets?.browser.close();
    await server?.close();
  });

  it('wanders when left alone, and the first touch takes over without a jump', async () => {
    await tablet.page.waitForFunction(() => window.__controller?.status?.attract === true, null, { timeout: (IDLE_S + 10) * 1000 });
    // dreaming is off by default: the line must not claim the portraits are dreaming
    expect(await tablet.page.textContent('#turn')).toMatch(/wandering by themselves/);
    expect(server.store.state.walk.speed).toBe(server.config.attractWalkSpeed);
    await sleep(2000);
    const wandering = frames.filter((f) => f.stateVersion === server.store.version);
    expect(wandering.length, 'frames while wandering').toBeGreaterThan(5);
    const firstVisitorVersion = server.store.version + 1;

    await touchDrag(tablet.page, await padPoint(tablet.page, 0.15, 0.85), await padPoint(tablet.page, 0.3, 0.7), 10);
    await waitUntil('the tablet took over', () => server.store.state.mode === 'plane');
    await tablet.page.waitForFunction(() => window.__controller?.status?.turn === 'yours' && window.__controller.status.attract === false);
    await waitUntil('a frame shows the visitor', () => frames.some((f) => f.stateVersion >= firstVisitorVersion));

    const at = frames.findIndex((f) => f.stateVersion >= firstVisitorVersion);
    expect(at).toBeGreaterThan(0);
    const last = frames[at - 1]!;
    const first = frames[at]!;
    expect(last.mode).toBe('walk');
    expect(first.mode).toBe('plane');
    // What a jump would have been: from the last attract face straight to the visitor's face.
    const { plane } = server.store.state;
    const target = Array.from(planeAt(plane.seed, plane.x, plane.y, last.latent!.length).latent);
    const jump = latentDistance(last.latent!, target);
    expect(jump, 'the visitor chose a different face').toBeGreaterThan(4);
    // The glide is heading to the visitor's face: it gets halfway. How soon depends on the frame
    // rate (each frame eases by at most MAX_GLIDE_STEP_S), so wait for it, but for less than
    // IDLE_S: left alone that long, the installation would go back to wandering.
    const latestPlane = () => frames.filter((f) => f.mode === 'plane' && f.stateVersion >= firstVisitorVersion).at(-1)!;
    await waitUntil('the glide got halfway', () => latentDistance(latestPlane().latent!, target) < jump * 0.5, (IDLE_S - 1) * 1000);
    // An exponential glide covers at most (distance left) / glide seconds per second, and the
    // latent stage lets one frame cover at most 15 % of it (MAX_GLIDE_STEP_S); a jump covers it all at once.
    const tau = server.store.state.glide;
    const speedLimit = (jump / tau) * 1.5;
    const step = (a: FrameMeta, b: FrameMeta) => {
      const distance = latentDistance(a.latent!, b.latent!);
      // Per server frame (a display may miss frames while one is in flight) and per second.
      return { distance: distance / Math.max(1, b.frame - a.frame), perSecond: distance / Math.max(0.001, (b.serverTime - a.serverTime) / 1000) };
    };
    const handoff = step(last, first);
    const gap = `${first.frame - last.frame} frame(s), ${first.serverTime - last.serverTime} ms apart`;
    expect(handoff.distance, `hand-off step ${handoff.distance.toFixed(3)} of a ${jump.toFixed(2)} jump, ${gap}`).toBeLessThan(jump * 0.2);
    expect(handoff.perSecond).toBeLessThan(speedLimit);
    // And every step of the glide after it stays as gentle: the face morphs, it never pops.
    const glide = frames.slice(at - 1).filter((f, i) => i === 0 || f.mode === 'plane');
    expect(glide.length).toBeGreaterThan(5);
    for (let i = 1; i < glide.length; i++) {
      const s = step(glide[i - 1]!, glide[i]!);
      expect(s.distance, `frame ${glide[i]!.frame}`).toBeLessThan(jump * 0.2);
      expect(s.perSecond, `frame ${glide[i]!.frame}`).toBeLessThan(speedLimit);
    }
    expect(tablet.errors).toEqual([]);
  });
});
