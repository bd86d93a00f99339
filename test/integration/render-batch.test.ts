/**
 * `portraits render --seeds`: a batch of stills for curation through one session, each the
 * same picture the single-seed path paints for that seed, plus a contact sheet.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { parseSeedList } from '../../cli/seeds.js';
import { tinyModelsDir } from '../support/tiny-generator.js';
import { writeTinyFaceStage } from '../support/tiny-face-stage.js';

let dir: string;
let modelsDir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portraits-batch-'));
  modelsDir = await tinyModelsDir();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const raw = async (file: string) => sharp(file).raw().toBuffer();

describe('seed lists', () => {
  it('takes lists, ranges and both, in order, and refuses what is not a seed', () => {
    expect(parseSeedList('5,17,99')).toEqual([5, 17, 99]);
    expect(parseSeedList('1-4,42')).toEqual([1, 2, 3, 4, 42]);
    expect(() => parseSeedList('4-1')).toThrow(/backwards/);
    expect(() => parseSeedList('1,x')).toThrow(/'x' is not a seed/);
    expect(() => parseSeedList('1-20000')).toThrow(/more than 10000/);
    expect(() => parseSeedList('')).toThrow(/--seeds is required/);
  });
});

describe('portraits render --seeds', () => {
  it('writes seed-<n>.png per seed and a contact sheet, each still its seed\'s own face', async () => {
    const out = join(dir, 'batch');
    expect(await main(['render', '--seeds', '1-3,7', '--size', '48', '--upscaler', 'off', '--models-dir', modelsDir, '--out', out])).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['contact-sheet.png', 'seed-1.png', 'seed-2.png', 'seed-3.png', 'seed-7.png']);
    const meta = await sharp(join(out, 'seed-7.png')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 48, 48]);
    expect(meta.xmp!.toString('utf8')).toContain('portraits:Seed="7"');
    expect(Buffer.compare(await raw(join(out, 'seed-1.png')), await raw(join(out, 'seed-2.png')))).not.toBe(0);
    // the same seed in another batch is the same picture: one session, no state carried between stills
    const again = join(dir, 'again');
    expect(await main(['render', '--seeds', '7', '--size', '48', '--upscaler', 'off', '--models-dir', modelsDir, '--out', again])).toBe(0);
    expect(Buffer.compare(await raw(join(out, 'seed-7.png')), await raw(join(again, 'seed-7.png')))).toBe(0);
    const sheet = await sharp(join(out, 'contact-sheet.png')).metadata();
    expect(sheet.width).toBeGreaterThan(4 * 128);
  });

  it("lifts each still with the generator's face stage first, as the live path does; --face off leaves it out", async () => {
    await writeTinyFaceStage(modelsDir, 'tiny-face', 64);
    const lifted = join(dir, 'lifted');
    const plain = join(dir, 'plain');
    expect(await main(['render', '--seeds', '3', '--size', '32', '--upscaler', 'off', '--face', 'tiny-face', '--models-dir', modelsDir, '--out', lifted])).toBe(0);
    expect(await main(['render', '--seeds', '3', '--size', '32', '--upscaler', 'off', '--face', 'off', '--models-dir', modelsDir, '--out', plain])).toBe(0);
    const xmp = (await sharp(join(lifted, 'seed-3.png')).metadata()).xmp!.toString('utf8');
    expect(xmp).toContain('tiny-face');
    expect((await sharp(join(plain, 'seed-3.png')).metadata()).xmp!.toString('utf8')).not.toContain('tiny-face');
    // the tiny generator paints 16 px: the face stage's 32 px against a bicubic enlargement
    expect(Buffer.compare(await raw(join(lifted, 'seed-3.png')), await raw(join(plain, 'seed-3.png')))).not.toBe(0);
    // a face stage that is not installed is an error naming it, not a silent plain still
    expect(await main(['render', '--seeds', '3', '--size', '32', '--upscaler', 'off', '--face', 'nope', '--models-dir', modelsDir, '--out', join(dir, 'x')])).not.toBe(0);
  });

  it('refuses print-only options with a clear message', async () => {
    expect(await main(['render', '--seeds', '1-2', '--dream', '--out', join(dir, 'x'), '--models-dir', modelsDir])).toBe(2);
  });
});
