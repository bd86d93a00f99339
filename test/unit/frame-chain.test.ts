/**
 * A whole frame path (latent -> generate -> dream -> encode) run on hand-made jobs with no
 * server, no store and no sockets: the job's snapshot is all the stages know.
 */
import { DEFAULT_STATE } from '../../common/state.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { resolveConfig } from '../../server/config.js';
import { openMakeStages, type OpenedMakeStages } from '../../server/pipeline/make-stages.js';
import { runChain } from '../../server/pipeline/chain.js';
import { fixedSnapshot, newJob } from '../../server/stages/stage.js';
import { tinyModelsDir } from '../support/tiny-generator.js';
import { writeTinyDreamNet } from '../support/tiny-dream-net.js';

let made: OpenedMakeStages;

beforeAll(async () => {
  const modelsDir = await tinyModelsDir();
  await writeTinyDreamNet(modelsDir);
  const config = resolveConfig({ modelsDir, provider: 'cpu', dreamModel: 'tiny-critic', dreamSize: 32, frameSize: 64, upscaler: 'off' }, {});
  made = await openMakeStages(config);
});

afterAll(async () => {
  await made?.close();
});

async function frame(patch: Parameters<typeof fixedSnapshot>[0], version = 1) {
  const job = newJob(1, fixedSnapshot(patch, version), 1_000);
  const result = await runChain(made.stages, job);
  return { job, result };
}

describe('the frame chain on a hand-made job', () => {
  it('runs every making stage and encodes a JPEG of the configured size', async () => {
    const { job, result } = await frame({ mode: 'seed', seed: 5, glide: 0 });
    expect(result).toMatchObject({ ok: true });
    expect(made.stages.map((s) => s.name)).toEqual(['latent', 'generate', 'dream', 'encode']);
    expect(Object.keys(job.meta.timings)).toEqual(['latent', 'generate', 'dream', 'encode']);
    expect(job.meta.stateVersion).toBe(1);
    const info = await sharp(job.encoded!).metadata();
    expect([info.format, info.width, info.height]).toEqual(['jpeg', 64, 64]);
  });

  it('takes the seed and dream settings from the snapshot alone', async () => {
    const a = await frame({ mode: 'seed', seed: 5, glide: 0 });
    const b = await frame({ mode: 'seed', seed: 6, glide: 0 });
    const dreamed = await frame({ mode: 'seed', seed: 6, glide: 0, dream: { ...DEFAULT_STATE.dream, mode: 'gentle', strength: 1, style: 'shapes', octaves: 1 } }, 2);
    expect(a.job.meta.seeds[0]).toBe(5);
    expect(b.job.meta.seeds[0]).toBe(6);
    expect(Buffer.compare(a.job.encoded!, b.job.encoded!)).not.toBe(0);
    expect(b.job.meta.dream).toBeUndefined();
    expect(dreamed.job.meta.dream).toEqual({ mode: 'gentle', style: 'shapes' });
    expect(dreamed.job.meta.stateVersion).toBe(2);
  });

  it('a snapshot is frozen: a stage cannot change the state the next frame sees', () => {
    const snap = fixedSnapshot({ seed: 3 });
    expect(() => {
      (snap.state as { seed: number }).seed = 4;
    }).toThrow(TypeError);
    expect(() => {
      (snap.state.dream as { strength: number }).strength = 1;
    }).toThrow(TypeError);
  });
});
