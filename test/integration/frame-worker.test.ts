/**
 * The frame worker (server/pipeline/worker.ts) through its main-thread stage: frames made
 * off the main thread, the newest job winning, failures coming back as data, and a worker
 * that dies being started again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { resolveConfig } from '../../server/config.js';
import { FrameWorker } from '../../server/pipeline/worker-client.js';
import { fixedSnapshot, newJob, type FrameJob } from '../../server/stages/stage.js';
import type { LiveState } from '../../common/state.js';
import { tinyModelsDir } from '../support/tiny-generator.js';

let worker: FrameWorker;

beforeAll(async () => {
  const config = resolveConfig({ modelsDir: await tinyModelsDir(), provider: 'cpu', frameSize: 64, upscaler: 'off' }, {});
  worker = await FrameWorker.start(config);
}, 60_000);

afterAll(async () => {
  await worker?.dispose();
});

let frameNo = 0;
function job(patch: Partial<LiveState> = { mode: 'seed', seed: 5, glide: 0 }): FrameJob {
  return newJob(++frameNo, fixedSnapshot(patch, frameNo));
}

describe('frame worker', () => {
  it('makes a frame in the worker thread and brings back its bytes, picture and stage times', async () => {
    expect(worker.generator).toMatchObject({ id: 'default-face', provider: 'cpu' });
    const j = job();
    await worker.run(j);
    const info = await sharp(j.encoded!).metadata();
    expect([info.format, info.width, info.height]).toEqual(['jpeg', 64, 64]);
    expect(j.image?.width).toBe(16);
    expect(j.meta.seeds[0]).toBe(5);
    expect(j.meta.frame).toBe(frameNo);
    expect(Object.keys(j.meta.timings)).toEqual(['latent', 'generate', 'encode']);
  });

  it('the newest job wins: an older one still waiting is answered as superseded', async () => {
    const older = job({ mode: 'seed', seed: 1, glide: 0 });
    const newer = job({ mode: 'seed', seed: 2, glide: 0 });
    const first = worker.run(older);
    const second = worker.run(newer);
    await expect(first).rejects.toThrow(/superseded/);
    await second;
    expect(newer.meta.seeds[0]).toBe(2);
    expect(older.encoded).toBeUndefined();
  });

  it('a failing frame comes back as an error naming its stage, and the next frame is made', async () => {
    const bad = job({ mode: 'bogus' as LiveState['mode'] });
    await expect(worker.run(bad)).rejects.toThrow("latent: unknown mode 'bogus'");
    const good = job();
    await worker.run(good);
    expect(good.encoded?.length).toBeGreaterThan(0);
  });

  it('a worker that dies fails its frame and is started again', async () => {
    const thread = (worker as unknown as { worker: Worker }).worker;
    const dying = worker.run(job());
    await thread.terminate();
    await expect(dying).rejects.toThrow(/frame worker stopped/);
    const after = job({ mode: 'seed', seed: 8, glide: 0 });
    await worker.run(after);
    expect(after.meta.seeds[0]).toBe(8);
    expect(worker.restartCount).toBe(1);
  }, 30_000);
});
