/**
 * Presets for the whole wall (server/cluster/preset-sync.ts), with two real server
 * processes on a private redis-server: a preset the VJ saves on node A is listed and loads
 * on node B, a delete on B removes it on A, and a save made while Redis is away reaches
 * the other node once Redis is back (even though Redis comes back empty). The sockets
 * come from this machine and no admin token is set, so they are the VJ's.
 */
import { describe, expect, it } from 'vitest';
import { useTwoNodes, type ClusterNode } from '../support/cluster-node.js';
import { until } from '../support/wait.js';
import { redisServerPath, type TestRedis } from '../support/redis.js';

const redisBinary = redisServerPath();

async function call(node: ClusterNode, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${node.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const names = async (node: ClusterNode) => ((await call(node, 'GET', '/api/presets')).json.names ?? []) as string[];

describe.skipIf(!redisBinary)('cluster: presets for the whole wall', { timeout: 60_000 }, () => {
  let redis: TestRedis & { dispose(): Promise<void> };
  let a: ClusterNode;
  let b: ClusterNode;
  useTwoNodes(redisBinary!, async (nodes) => {
    ({ redis, a, b } = nodes);
    await Promise.all([a.waitForLog(/^presets merged with the cluster/), b.waitForLog(/^presets merged with the cluster/)]);
  });

  it('a preset saved on node A loads on node B, and a delete on B removes it on A', async () => {
    expect((await call(a, 'PATCH', '/api/state', { glide: 1.75 })).status).toBe(200);
    expect((await call(a, 'PUT', '/api/presets/dawn')).status).toBe(200);
    const ms = await until(() => names(b), (list) => list.includes('dawn'), 5000, "node B lists node A's preset");
    console.log(`preset saved on A -> listed on B: ${ms} ms`);

    // Loaded on B, with the look saved on A (the state is shared: change it first, so the load shows).
    expect((await call(b, 'PATCH', '/api/state', { glide: 0.25 })).status).toBe(200);
    expect((await call(b, 'POST', '/api/presets/dawn/load')).status).toBe(200);
    await until(async () => (await a.state()).state.glide, (glide) => glide === 1.75, 5000, "node B's load of the preset shows on node A");

    expect((await call(b, 'DELETE', '/api/presets/dawn')).status).toBe(200);
    await until(() => names(a), (list) => !list.includes('dawn'), 5000, "node B's delete reaches node A");
    expect((await call(a, 'POST', '/api/presets/dawn/load')).status).toBe(404);
  });

  it('a save made while Redis is away reaches the other node when Redis is back', async () => {
    await redis.stop();
    await Promise.all([a.waitForLog(/^lost Redis/), b.waitForLog(/^lost Redis/)]);
    expect((await call(a, 'PUT', '/api/presets/night')).status).toBe(200);
    expect(await names(b)).not.toContain('night');
    await redis.start(); // empty: no persistence
    await Promise.all([a.waitForLog(/^Redis is back/, 20_000), b.waitForLog(/^Redis is back/, 20_000)]);
    await until(() => names(b), (list) => list.includes('night'), 10_000, "node A's outage save on node B");
    for (const node of [a, b]) {
      expect(node.exit).toBeNull();
      expect(node.errors).toEqual([]);
    }
  });
});
