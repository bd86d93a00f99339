/**
 * Model faults: a corrupt model file gives a clear error and the default model takes
 * over; an inference error in the middle of a run makes the generate stage recreate its
 * session (with growing pauses while that fails) and the frame loop carries on.
 * Real onnxruntime sessions, real files, the real frame loop: the fault is a native
 * session released under the running stage, which then fails every run, as a lost
 * device or a crashed native session would.
 */
import { readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../server/config.js';
import { openGenerator } from '../../server/models/registry.js';
import { ModelError } from '../../server/onnx/session.js';
import { FrameLoop } from '../../server/pipeline/loop.js';
import type { ChainResult } from '../../server/pipeline/chain.js';
import { EncodeStage } from '../../server/stages/encode.js';
import { GenerateStage } from '../../server/stages/generate.js';
import { LatentStage } from '../../server/stages/latent.js';
import { Store } from '../../server/store.js';
import { startTestServer } from '../support/server.js';
import { tinyModelsDir } from '../support/tiny-generator.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('a corrupt model file', () => {
  it('a configured model that is garbage: the server says why and falls back to the default', async () => {
    const modelsDir = await tinyModelsDir();
    await tinyModelsDir('gallery-b', modelsDir);
    await writeFile(join(modelsDir, 'gallery-b', 'generator.onnx'), Buffer.from('this is not a protobuf, it is a ruined file'));
    const server = await startTestServer({ modelsDir, model: 'gallery-b' });
    cleanups.push(() => server.close());
    const health = (await (await fetch(`${server.url}/health`)).json()) as { model: string };
    expect(health.model).toBe('default-face');
  });

  it('a truncated default model: the start stops with the file named and how to restore it', async () => {
    const modelsDir = await tinyModelsDir();
    const file = join(modelsDir, 'default-face', 'generator.onnx');
    await truncate(file, Math.floor((await readFile(file)).length / 3));
    await expect(startTestServer({ modelsDir })).rejects.toThrow(ModelError);
    await expect(startTestServer({ modelsDir })).rejects.toThrow(/default model cannot be used: .*generator\.onnx is not a loadable ONNX model[\s\S]*restore it/);
  });
});

describe('an inference error mid-run', () => {
  async function running() {
    const modelsDir = await tinyModelsDir();
    const config = resolveConfig({ modelsDir, provider: 'cpu' }, {});
    const generator = await openGenerator(config);
    const store = new Store();
    const stage = new GenerateStage(generator.session, generator.spec, { minMs: 100, maxMs: 800 });
    const results: ChainResult[] = [];
    const loop = new FrameLoop([new LatentStage({ dim: generator.spec.latentSize }), stage, new EncodeStage({ size: 64, quality: 80 })], {
      fps: 60,
      snapshot: () => store.snapshot(),
      active: () => true,
      onFrame: (_job, result) => results.push(result),
    });
    loop.start();
    cleanups.push(async () => {
      await loop.stop();
      await stage.dispose();
    });
    await until(() => results.filter((r) => r.ok).length >= 10, 20_000, 'the first frames');
    return { stage, results, file: join(modelsDir, 'default-face', 'generator.onnx') };
  }

  it('the session is recreated and frames flow again', async () => {
    const { stage, results } = await running();
    const broken = stage.current;
    const mark = results.length;
    await broken.release();
    await until(() => results.slice(mark).filter((r) => r.ok).length >= 10, 20_000, 'frames after the fault');
    const after = results.slice(mark);
    const failed = after.filter((r) => !r.ok);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.length).toBeLessThanOrEqual(2);
    expect(failed.every((r) => r.stage === 'generate')).toBe(true);
    expect(stage.recreations).toBe(1);
    expect(stage.current).not.toBe(broken);
  });

  it('while the model cannot be reopened it retries with growing pauses, then recovers', async () => {
    const { stage, results, file } = await running();
    await rename(file, file + '.away');
    const mark = results.length;
    await stage.current.release();
    await sleep(1500);
    // a frame already running on the old session when it was released may still finish
    const all = results.slice(mark);
    const first = all.findIndex((r) => !r.ok);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThanOrEqual(1);
    const during = all.slice(first);
    expect(during.every((r) => !r.ok)).toBe(true);
    // Pauses of 100, 200, 400, 800 ms: a handful of reopen attempts, not one per frame.
    const attempts = during.filter((r) => /could not be recreated/.test(r.error ?? '')).length;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(5);
    expect(during.some((r) => /being recreated/.test(r.error ?? ''))).toBe(true);
    await rename(file + '.away', file);
    const back = results.length;
    await until(() => results.slice(back).filter((r) => r.ok).length >= 10, 20_000, 'frames after the model came back');
    expect(stage.recreations).toBe(1);
  });
});
