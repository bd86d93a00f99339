/**
 * The WebGPU execution provider gives the same pictures as the CPU: the default generator,
 * the dream gradients of the default critic, and the real server started with
 * `provider: 'webgpu'`. Correctness only, never speed: on this kind of machine the only
 * adapter is Mesa's lavapipe, a software Vulkan driver (bookworm-backports' mesa-vulkan-drivers;
 * Debian 12's own Mesa is too old for Dawn). Machines without a WebGPU adapter skip with the
 * reason; under CI (CI=true, where .ci/run installs lavapipe) its absence is a failure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gaussian } from '../../common/random.js';
import { generatorFeeds } from '../../common/generator-inputs.js';
import { DEFAULT_STATE } from '../../common/state.js';
import { resolveConfig } from '../../server/config.js';
import { DreamNet } from '../../server/dream/net.js';
import { dreamCatalogue, generatorSpec, readManifest } from '../../server/models/registry.js';
import { floatFeeds, openSession, type OpenedSession } from '../../server/onnx/runtime.js';
import type { PlanarImage } from '../../server/image/planar-image.js';
import { connect, nextFrames, startTestServer } from '../support/server.js';

const config = resolveConfig({});
const dir = join(config.modelsDir, 'default-face');
let manifest: Awaited<ReturnType<typeof readManifest>>;
let bytes: Uint8Array;
let gpu: OpenedSession | null = null;
let cpu: OpenedSession;
let skipReason: string | null = null;

beforeAll(async () => {
  manifest = await readManifest(dir);
  bytes = readFileSync(join(dir, generatorSpec(manifest).file));
  cpu = await openSession(bytes, 'cpu', 'generator');
  const opened = await openSession(bytes, 'webgpu', 'generator');
  if (opened.provider === 'webgpu') gpu = opened;
  else {
    await opened.session.release();
    skipReason = `no WebGPU adapter for onnxruntime for Node (${opened.fallback}); on Debian 12 install mesa-vulkan-drivers from bookworm-backports (see .ci/run)`;
    if (process.env.CI === 'true') throw new Error(`CI=true but ${skipReason}`);
    console.warn(`skipped: ${skipReason}`);
  }
}, 60_000);

afterAll(async () => {
  await gpu?.session.release();
  await cpu?.session.release();
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** |a - b| / |b| over the whole vector (a gradient's direction and size at once). */
function relativeL2(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(d / n);
}

describe('WebGPU provider (software adapter: correctness only)', () => {
  it('the generator gives the CPU\'s pictures, one at a time and in a batch', async (ctx) => {
    if (!gpu) return ctx.skip(skipReason ?? undefined);
    const { spec } = generatorSpec(manifest);
    for (const batch of [1, 4]) {
      // Fed as the server feeds it: the default generator has a W space (truncation and mixing inputs).
      const feeds = generatorFeeds(spec, gaussian(7 + batch, batch * spec.latentSize), batch, DEFAULT_STATE.face);
      const inputs = () => floatFeeds(feeds);
      const a = (await gpu.session.run(inputs()))[spec.output]!.data as Float32Array;
      const b = (await cpu.session.run(inputs()))[spec.output]!.data as Float32Array;
      const diff = maxAbsDiff(a, b);
      console.log(`webgpu generator, batch ${batch}: max |webgpu - cpu| = ${diff.toExponential(2)} over ${a.length} values in [-1, 1]`);
      expect(diff).toBeLessThan(1e-4);
      expect(Math.max(...b.map(Math.abs))).toBeGreaterThan(0.1); // a real picture, not zeros on both
    }
  });

  it('the dream gradients of the default dream network match the CPU\'s', async (ctx) => {
    if (!gpu) return ctx.skip(skipReason ?? undefined);
    const styles = (await dreamCatalogue(config, manifest))?.styles ?? [];
    expect(styles.length).toBeGreaterThan(0);
    const size = 64;
    const img: PlanarImage = { width: size, height: size, data: gaussian(3, 3 * size * size).map((v) => 0.5 + 0.15 * v) };
    for (const style of [styles[0]!, styles[styles.length - 1]!]) {
      // Max-pooling networks (the shipped Darknet tiny) are sent to the CPU by DreamNet.open; the match must still hold.
      const onGpu = await DreamNet.open(style.spec, 'webgpu');
      const onCpu = await DreamNet.open(style.spec, 'cpu');
      try {
        const a = await onGpu.gradient(img);
        const b = await onCpu.gradient(img);
        const rel = relativeL2(a.grad, b.grad);
        console.log(`webgpu dream '${style.name}': objective ${a.objective.toPrecision(6)} vs cpu ${b.objective.toPrecision(6)}, gradient relative L2 error ${rel.toExponential(2)}`);
        expect(Math.abs(a.objective - b.objective) / Math.abs(b.objective)).toBeLessThan(1e-3);
        expect(rel).toBeLessThan(1e-3);
      } finally {
        await onGpu.dispose();
        await onCpu.dispose();
      }
    }
  }, 120_000);

  it('the server started with provider webgpu says so and streams frames', async (ctx) => {
    if (!gpu) return ctx.skip(skipReason ?? undefined);
    const server = await startTestServer({ provider: 'webgpu', upscaler: 'off', fps: 10 });
    try {
      const display = await connect(server, 'display');
      const frames = await nextFrames(display, 3, 60_000);
      display.disconnect();
      expect(frames.map((f) => f.image.length).every((n) => n > 1000)).toBe(true);
      const health = (await (await fetch(`${server.url}/health`)).json()) as { provider: string; fallback?: string };
      expect(health.provider).toBe('webgpu');
      expect(health.fallback).toBeUndefined();
    } finally {
      await server.close();
    }
  }, 120_000);
});
