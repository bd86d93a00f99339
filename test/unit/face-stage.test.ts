/**
 * The face stage in the frame chain (server/stages/face.ts): a face model configured by id, or
 * named by the generator's manifest (related.face), lifts the portrait to twice its size
 * between the dream and the upscale passes; 'off' leaves it out; a model that is not a face
 * stage is an error naming it; a picture larger than the model's maxInput passes untouched.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type UserConfig } from '../../server/config.js';
import { openMakeStages, type OpenedMakeStages } from '../../server/pipeline/make-stages.js';
import { runChain } from '../../server/pipeline/chain.js';
import { fixedSnapshot, newJob } from '../../server/stages/stage.js';
import { tinyModelsDir } from '../support/tiny-generator.js';
import { writeTinyFaceStage } from '../support/tiny-face-stage.js';

let modelsDir: string;
let made: OpenedMakeStages | null = null;

beforeAll(async () => {
  modelsDir = await tinyModelsDir();
  await writeTinyFaceStage(modelsDir);
  await writeTinyFaceStage(modelsDir, 'tiny-face-small', 8);
});

afterEach(async () => {
  await made?.close();
  made = null;
});

async function chain(overrides: UserConfig) {
  made = await openMakeStages(resolveConfig({ modelsDir, provider: 'cpu', dreamModel: 'off-none', upscaler: 'off', frameSize: 64, ...overrides }, {}));
  const job = newJob(1, fixedSnapshot({ mode: 'seed', seed: 5, glide: 0 }), 1_000);
  const result = await runChain(made.stages, job);
  expect(result).toMatchObject({ ok: true });
  return { job, names: made.stages.map((s) => s.name) };
}

describe('the face stage', () => {
  it('lifts the portrait x2 after generating, when configured by id', async () => {
    const { job, names } = await chain({ faceModel: 'tiny-face' });
    expect(names).toEqual(['latent', 'generate', 'face', 'encode']);
    expect(job.meta.face).toBe('tiny-face');
    expect([job.image!.width, job.image!.height]).toEqual([32, 32]); // the tiny generator paints 16 px
    for (const v of job.image!.data) expect(v >= 0 && v <= 1).toBe(true);
  });

  it("is the generator's own when its manifest names one, and 'off' leaves it out", async () => {
    const path = join(modelsDir, 'default-face', 'manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...manifest, related: { ...manifest.related, face: 'tiny-face' } }));
    expect((await chain({})).names).toContain('face');
    await made!.close();
    made = null;
    expect((await chain({ faceModel: 'off' })).names).not.toContain('face');
  });

  it('passes a picture larger than its maxInput untouched', async () => {
    const { job } = await chain({ faceModel: 'tiny-face-small' });
    expect(job.meta.face).toBeUndefined();
    expect(job.image!.width).toBe(16);
  });

  it('refuses a model that is not a face stage, naming it', async () => {
    await expect(openMakeStages(resolveConfig({ modelsDir, provider: 'cpu', upscaler: 'off', faceModel: 'default-face' }, {}))).rejects.toThrow(/'default-face' is not a face stage/);
  });

  it('a model id that is not installed is refused with the models that are', async () => {
    await expect(openMakeStages(resolveConfig({ modelsDir, provider: 'cpu', upscaler: 'off', faceModel: 'nope' }, {}))).rejects.toThrow(
      /no model 'nope' in .*; the models there: default-face, tiny-face, tiny-face-small/,
    );
  });
});
