/**
 * A 2 x 1 tile wall as a cluster: two nodes (server processes) sharing a real Redis on
 * loopback (test/support/redis.ts). The wall is steered on node A only; node B learns the
 * state through Redis, both take their cluster clock from Redis' TIME, and the tiles of
 * one slot still assemble into the picture a single node renders at twice the width.
 * A mirror node started after the walk's speed was changed takes the walk's anchor from
 * Redis and paints the same face as the node that saw the change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from '../../bench/support/server-process.js';
import { redisServerPath, startRedis } from '../support/redis.js';
import { walkAt } from '../../common/latent.js';
import { columnStep, commonSlot, decode, meanAbsDiff, openWallDisplay, patchNode, rows, sideBySide, startWallNode, type WallDisplay } from '../support/wall.js';

const redisBinary = redisServerPath();
const SIZE = 128;
const WALL = { layout: 'tile' as const, columns: 2, rows: 1, screens: [{ name: 'left', column: 0, row: 0 }, { name: 'right', column: 1, row: 0 }] };
const STATE = { mode: 'seed', seed: 4242, glide: 0, upscale: { mode: 'off' } };

describe.skipIf(!redisBinary)('tile wall in cluster mode', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const nodes: ServerProcess[] = [];
  const displays: WallDisplay[] = [];

  beforeAll(async () => {
    redis = await startRedis(redisBinary!);
    const cluster = { wall: WALL, frameSize: SIZE, flags: { 'redis-url': redis.url } };
    nodes.push(...(await Promise.all([startWallNode({ ...cluster, flags: { ...cluster.flags, 'node-name': 'a' } }), startWallNode({ ...cluster, flags: { ...cluster.flags, 'node-name': 'b' } }), startWallNode({ wall: { layout: 'single' }, frameSize: 2 * SIZE })])));
  }, 240_000);

  afterAll(async () => {
    for (const d of displays) d.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.dispose();
  });

  it('steered on one node, both tiles of a slot assemble into one picture, on a clock from Redis', async () => {
    const [a, b, reference] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    const version = await patchNode(a.url, STATE);
    const refVersion = await patchNode(reference.url, STATE);
    const left = await openWallDisplay(a.url, 'left');
    const right = await openWallDisplay(b.url, 'right');
    const whole = await openWallDisplay(reference.url);
    displays.push(left, right, whole);
    // Node B's frames carry B's state version: wait for the seed to arrive there through Redis.
    const deadline = Date.now() + 20_000;
    while (!right.frames.some((f) => f.meta.seeds[0] === STATE.seed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const bVersion = right.frames.find((f) => f.meta.seeds[0] === STATE.seed)?.meta.stateVersion;
    expect(bVersion, 'node B never showed the seed set on node A').toBeDefined();
    const slot = await commonSlot([left, right], [version, bVersion!]);
    const [l, r] = await Promise.all([left.frameOfSlot(slot), right.frameOfSlot(slot)]);
    expect(l.meta).toMatchObject({ screen: 'left', seeds: [STATE.seed, STATE.seed] });
    expect(r.meta).toMatchObject({ screen: 'right', seeds: [STATE.seed, STATE.seed], presentAt: l.meta.presentAt });

    while (!whole.frames.some((f) => f.meta.stateVersion >= refVersion) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const ref = whole.frames.filter((f) => f.meta.stateVersion >= refVersion).at(-1);
    expect(ref).toBeDefined();
    const wall = sideBySide([await decode(l.jpeg), await decode(r.jpeg)]);
    const band = rows(await decode(ref!.jpeg), SIZE / 2, SIZE);
    const difference = meanAbsDiff(wall, band);
    const seam = columnStep(wall, SIZE);
    const referenceSeam = columnStep(band, SIZE);
    // Both nodes estimated their clock against Redis' TIME.
    const clocks = await Promise.all([a, b].map(async (n) => ((await (await fetch(`${n.url}/health`)).json()) as { wall?: { clock: { offsetMs: number; rttMs: number | null; reference: boolean } } }).wall?.clock));
    console.log(`cluster tile wall, slot ${slot}: mean |wall - single| ${difference.toFixed(2)}, step across the seam ${seam.toFixed(2)} (reference ${referenceSeam.toFixed(2)}); clocks ${JSON.stringify(clocks)}`);
    expect(difference).toBeLessThan(4);
    expect(Math.abs(seam - referenceSeam)).toBeLessThan(4);
    for (const clock of clocks) {
      expect(clock).toMatchObject({ reference: true });
      expect(clock!.rttMs).not.toBeNull();
    }
  });
});

describe.skipIf(!redisBinary)('mirror wall in cluster mode, a node joining late', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const nodes: ServerProcess[] = [];
  const displays: WallDisplay[] = [];
  const MIRROR = { layout: 'mirror' as const, columns: 2, screens: WALL.screens };

  beforeAll(async () => {
    redis = await startRedis(redisBinary!);
    nodes.push(await startWallNode({ wall: MIRROR, frameSize: 64, flags: { 'redis-url': redis.url, 'node-name': 'early' } }));
  }, 240_000);

  afterAll(async () => {
    for (const d of displays) d.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.dispose();
  });

  it('takes the walk anchor from Redis after a speed change it never saw', async () => {
    const early = nodes[0]!;
    const first = await openWallDisplay(early.url, 'left');
    displays.push(first);
    await patchNode(early.url, { mode: 'walk', walk: { seed: 99, speed: 0.2 }, glide: 0 });
    await new Promise((r) => setTimeout(r, 1500));
    // The speed change moves the anchor off the epoch: a node that did not see it could not know where the walk is.
    const version = await patchNode(early.url, { walk: { speed: 0.7 } });
    await new Promise((r) => setTimeout(r, 1500));
    nodes.push(await startWallNode({ wall: MIRROR, frameSize: 64, flags: { 'redis-url': redis.url, 'node-name': 'late' } }));
    const late = await openWallDisplay(nodes[1]!.url, 'right');
    displays.push(late);
    // Frames of the late node once it has the state and (a moment later) the anchor.
    const deadline = Date.now() + 20_000;
    while (!late.frames.some((f) => f.meta.seeds[0] !== 0 && f.meta.stateVersion > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    const lateVersion = late.frames.at(-1)!.meta.stateVersion;
    const slot = await commonSlot([first, late], [version, lateVersion]);
    const [a, b] = await Promise.all([first.frameOfSlot(slot), late.frameOfSlot(slot)]);
    // Where the walk would be with the anchor on the epoch (what the late node had without Redis): elsewhere.
    const naive = walkAt(99, (0.7 * (slot * 100)) / 1000, 8).position;
    const difference = meanAbsDiff(await decode(a.jpeg), await decode(b.jpeg));
    console.log(`late mirror node, slot ${slot}: early ${JSON.stringify([a.meta.seeds, a.meta.t])}, late ${JSON.stringify([b.meta.seeds, b.meta.t])}, mean |early - late| ${difference.toFixed(3)}; an epoch anchor would be at ${JSON.stringify([naive.seeds, naive.t])}`);
    expect(b.meta.seeds).toEqual(a.meta.seeds);
    expect(b.meta.t).toBeCloseTo(a.meta.t, 6);
    expect(naive.seeds).not.toEqual(a.meta.seeds);
    expect(difference).toBeLessThan(0.5);
  });
});
