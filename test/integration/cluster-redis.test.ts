/**
 * Cluster mode without Redis (docs/cluster.md), with real processes: Redis stopped under
 * two running nodes and started again empty (both keep streaming, a change made meanwhile
 * reaches the other node afterwards, new changes flow again), and a node whose configured
 * Redis is unreachable at start (it starts on its own state, warns, and joins later).
 * No process may crash or log an error (an unhandled rejection would end the process).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startClusterNode, useTwoNodes, watchFrames, type ClusterNode } from '../support/cluster-node.js';
import { until } from '../support/wait.js';
import { redisServerPath, startRedis, type TestRedis } from '../support/redis.js';
import { connect, emitAck, type TestSocket } from '../support/server.js';

const redisBinary = redisServerPath();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!redisBinary)('cluster: Redis restart under two nodes', () => {
  let redis: TestRedis & { dispose(): Promise<void> };
  let a: ClusterNode;
  let b: ClusterNode;
  const open = useTwoNodes(redisBinary!, async (nodes) => {
    ({ redis, a, b } = nodes);
    await Promise.all([a.waitForLog(/^connected to Redis/), b.waitForLog(/^connected to Redis/)]);
  });

  it('survives a Redis restart: both nodes keep streaming, then changes propagate again', { timeout: 90_000 }, async () => {
    const displayA = watchFrames(await open(a, 'display'));
    const displayB = watchFrames(await open(b, 'display'));
    const controllerA = await open(a, 'controller');
    const controllerB = await open(b, 'controller');

    await redis.stop();
    await Promise.all([a.waitForLog(/^lost Redis/), b.waitForLog(/^lost Redis/)]);
    // Frames keep coming on both nodes while Redis is away.
    const framesBefore = [displayA.frames, displayB.frames];
    // A change on A during the outage applies on A at once (queued for Redis).
    expect((await emitAck(controllerA, 'patch', { walk: { speed: 0.25 } })).ok).toBe(true);
    expect((await a.state()).state.walk.speed).toBe(0.25);
    await sleep(3000);
    expect(displayA.frames).toBeGreaterThan(framesBefore[0]! + 5);
    expect(displayB.frames).toBeGreaterThan(framesBefore[1]! + 5);

    await redis.start(); // empty: no persistence
    await Promise.all([a.waitForLog(/^Redis is back/, 20_000), b.waitForLog(/^Redis is back/, 20_000)]);
    // A's outage change reaches B (whichever node re-seeded the empty Redis), and new changes flow again.
    await until(async () => (await b.state()).state.walk.speed, (s) => s === 0.25, 10_000, "node A's outage change on node B");
    expect((await emitAck(controllerB, 'patch', { dream: { strength: 0.75 } })).ok).toBe(true);
    await until(async () => (await a.state()).state.dream.strength, (s) => s === 0.75, 10_000, "node B's change on node A after the restart");

    for (const node of [a, b]) {
      expect(node.exit).toBeNull();
      expect(node.errors).toEqual([]);
    }
  });
});

describe.skipIf(!redisBinary)('cluster: Redis unreachable when a node starts', () => {
  let redis: TestRedis & { dispose(): Promise<void> };
  let node: ClusterNode;
  let display: TestSocket | undefined;

  afterAll(async () => {
    display?.close();
    await node?.stop();
    await redis?.dispose();
  });

  it('the node starts on its own state, warns, streams, and joins once Redis is there', { timeout: 90_000 }, async () => {
    // A retry starts afresh: nothing of a failed attempt may keep running.
    display?.close();
    await node?.stop();
    await redis?.dispose();
    redis = await startRedis(redisBinary!);
    await redis.stop(); // the port is now configured but nobody listens
    node = await startClusterNode({ name: 'lonely', redisUrl: redis.url });
    await node.waitForLog(/is unreachable: running on this node's own state/, 10_000);
    display = await connect(node, 'display');
    const seen = watchFrames(display);
    const controller = await connect(node, 'controller');
    expect((await emitAck(controller, 'patch', { seed: 31337 })).ok).toBe(true);
    await until(() => seen.frames, (n) => n >= 5, 10_000, 'frames without Redis');

    await redis.start();
    await node.waitForLog(/^connected to Redis/, 15_000);
    await node.waitForLog(/^seeded the cluster state/, 5_000);
    const info = (await (await fetch(`${node.url}/api/cluster`)).json()) as { redis: { up: boolean }; state: { version: number; queued: number } };
    expect(info.redis.up).toBe(true);
    expect(info.state.queued).toBe(0);
    controller.close();
    expect(node.exit).toBeNull();
    expect(node.errors).toEqual([]);
  });
});
