/**
 * Cluster mode (docs/cluster.md) with real processes: a private redis-server on loopback
 * and two server nodes (`server/main.ts --redis-url ...`). A controller on node A steers
 * the display on node B, an OSC message to B shows up in A's state, concurrent patches on
 * both nodes lose nothing, and a Redis restart (empty afterwards) is survived: both nodes
 * keep streaming during the outage and changes propagate again afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveState } from '../../common/state.js';
import { startClusterNode, type ClusterNode } from '../support/cluster-node.js';
import { redisServerPath, startRedis, type TestRedis } from '../support/redis.js';
import { connect, emitAck, type TestSocket } from '../support/server.js';
import { tinyModelsDir } from '../support/tiny-generator.js';
import { liblo, oscsend } from './osc-support.js';

const redisBinary = redisServerPath();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `check` holds; returns how long it took (ms). */
async function until<T>(read: () => Promise<T> | T, check: (v: T) => boolean, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  let last: T | undefined;
  while (Date.now() - start < timeoutMs) {
    last = await read();
    if (check(last)) return Date.now() - start;
    await sleep(20);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)?.slice(0, 300)})`);
}

/** A display socket that counts frames and remembers the seeds of the newest few. */
function watchFrames(socket: TestSocket) {
  const seen = { frames: 0, seeds: [] as number[][] };
  socket.on('frame', (meta) => {
    seen.frames += 1;
    seen.seeds.push(meta.seeds);
    if (seen.seeds.length > 50) seen.seeds.shift();
  });
  return seen;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe.skipIf(!redisBinary)('cluster: two nodes on one Redis', () => {
  let redis: TestRedis & { dispose(): Promise<void> };
  let a: ClusterNode;
  let b: ClusterNode;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    redis = await startRedis(redisBinary!);
    const modelsDir = await tinyModelsDir();
    [a, b] = await Promise.all([startClusterNode({ name: 'node-a', redisUrl: redis.url, modelsDir }), startClusterNode({ name: 'node-b', redisUrl: redis.url, modelsDir })]);
    // Both have seen each other once the peer heartbeats ran.
    await until(async () => ((await (await fetch(`${a.url}/api/cluster`)).json()) as { peers: unknown[] }).peers.length, (n) => n === 2, 10_000, 'node A sees both peers');
  }, 150_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await redis?.dispose();
  });

  const open = async (node: ClusterNode, role: 'display' | 'controller') => {
    const socket = await connect(node, role);
    sockets.push(socket);
    return socket;
  };

  it('each node logs its cluster settings at start, without the Redis password', async () => {
    for (const node of [a, b]) {
      const line = await node.waitForLog(/^cluster mode: node /);
      expect(line).toMatchObject({ cluster: true, node: node.name, redis: `${redis.url}` });
      await node.waitForLog(/^cluster peers: /, 10_000);
    }
  });

  it('a controller on node A steers the display on node B; OSC to node B shows up on node A', { timeout: 60_000 }, async () => {
    const controller = await open(a, 'controller');
    const display = await open(b, 'display');
    const seen = watchFrames(display);
    const ack = await emitAck(controller, 'patch', { mode: 'seed', seed: 4242, glide: 0 });
    expect(ack.ok).toBe(true);
    const ms = await until(() => seen.seeds.slice(-3), (s) => s.length > 0 && s.every((pair) => pair.includes(4242)), 10_000, "node B's frames show seed 4242");
    console.log(`controller on A -> frames on B with the new seed: ${ms} ms`);
    // Node A counts B's display through socket.io's Redis adapter.
    const info = (await (await fetch(`${a.url}/api/cluster`)).json()) as { displays: { here: number; cluster: number | null } };
    expect(info.displays).toEqual({ here: 0, cluster: 1 });

    expect(await liblo()).toBe(true);
    await oscsend(b.oscPort, '/portraits/seed', 'i', 777);
    const oscMs = await until(async () => (await a.state()).state.seed, (seed) => seed === 777, 10_000, "node A's state has the seed sent to B over OSC");
    console.log(`OSC on B -> node A's state: ${oscMs} ms`);
  });

  it('propagates a controller change from node A to a controller on node B within milliseconds', { timeout: 60_000 }, async () => {
    const sender = await open(a, 'controller');
    const watcher = await open(b, 'controller');
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const crossfade = 0.1 + i * 0.05;
      const arrived = new Promise<number>((resolve) => {
        const onState = (state: LiveState) => {
          if (Math.abs(state.display.crossfade - crossfade) < 1e-9) {
            watcher.off('state', onState);
            resolve(performance.now());
          }
        };
        watcher.on('state', onState);
      });
      const sent = performance.now();
      sender.emit('patch', { display: { crossfade } });
      latencies.push((await arrived) - sent);
      // Past the 100 ms coalescing of state broadcasts, so each change is its own message.
      await sleep(120);
    }
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    console.log(`state propagation A -> B (controller to controller, 20 changes): p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);
    expect(latencies).toHaveLength(20);
  });

  it('tells each client about a change once, whichever node it came from', { timeout: 30_000 }, async () => {
    const sender = await open(a, 'controller');
    const watchers = [await open(a, 'controller'), await open(b, 'controller')];
    const counts = watchers.map((w) => {
      const seen = { n: 0 };
      w.on('state', (state) => {
        if (state.display.caption) seen.n += 1;
      });
      return seen;
    });
    // Well past the 100 ms coalescing window since the last change.
    await sleep(300);
    expect((await emitAck(sender, 'patch', { display: { caption: true } })).ok).toBe(true);
    await sleep(1500);
    expect(counts.map((c) => c.n)).toEqual([1, 1]);
  });

  it('loses no update when both nodes change different keys at the same time', { timeout: 60_000 }, async () => {
    const onA = await open(a, 'controller');
    const onB = await open(b, 'controller');
    const n = 40;
    // Same section, different keys: the merge must keep both nodes' changes.
    const sends: Promise<unknown>[] = [];
    for (let i = 1; i <= n; i++) {
      sends.push(emitAck(onA, 'patch', { plane: { x: i / 10 } }));
      sends.push(emitAck(onB, 'patch', { plane: { y: i / 10 } }));
    }
    const acks = (await Promise.all(sends)) as { ok: boolean }[];
    expect(acks.every((ack) => ack.ok)).toBe(true);
    for (const node of [a, b]) {
      await until(async () => (await node.state()).state.plane, (p) => p.x === n / 10 && p.y === n / 10, 10_000, `${node.name} holds both final values`);
    }
    const cluster = (await (await fetch(`${b.url}/api/cluster`)).json()) as { state: { queued: number } };
    expect(cluster.state.queued).toBe(0);
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
