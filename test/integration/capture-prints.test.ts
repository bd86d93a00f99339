/**
 * A capture's take-home print (server/capture-prints.ts): the captured frame through the
 * ESRGAN stack to the print size, with the print metadata, beside the capture; the page
 * says it is being made, then offers it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STATE } from '../../common/state.js';
import { CapturePrints } from '../../server/capture-prints.js';
import { Captures } from '../../server/captures.js';
import { ROOT_DIR } from '../../server/config.js';
import { fixedSnapshot, newJob } from '../../server/stages/stage.js';
import { waitUntil } from '../support/wait.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portraits-prints-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A soft picture with a few edges, like a frame. */
function frame(size: number) {
  const plane = size * size;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) data[c * plane + y * size + x] = (Math.hypot(x - size / 2, y - size / 2) < size / 3 ? 0.8 : 0.2) + 0.1 * Math.sin((x + c) / 3);
  return { data, width: size, height: size };
}

describe('capture prints', () => {
  it('a capture gets a print of the configured size, made in the background, beside the capture', async () => {
    const prints = new CapturePrints(dir, {
      size: 256,
      family: 'esrgan-slim',
      cacheDir: join(ROOT_DIR, 'models', '.converted'),
      provider: 'cpu',
      model: { id: 'test-model', rights: 'test rights' },
    });
    const captures = await Captures.open(dir, { keep: 10, size: 64, model: { id: 'test-model', licence: { model: 'test' } }, prints });
    const saving = captures.save(DEFAULT_STATE);
    const job = { ...newJob(7, fixedSnapshot()), image: frame(64), latent: new Float32Array(8) };
    job.meta.seeds = [42, 43];
    // The frame loop offers every frame; the capture takes the first after it started waiting.
    const offering = setInterval(() => captures.offer(job), 10);
    const id = await saving.finally(() => clearInterval(offering));
    const printPath = captures.file(id, 'print')!;
    expect(printPath).toBe(join(dir, `${id}-print.png`));
    await waitUntil('the print', async () => (await sharp(printPath).metadata().catch(() => null)) !== null, 120_000);
    await captures.close();
    const meta = await sharp(printPath).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 256, 256]);
    const xmp = meta.xmp!.toString('utf8');
    expect(xmp).toContain('portraits:Seed="42"');
    expect(xmp).toContain('esrgan-slim x4');
    // the print is the captured picture, enlarged: the same picture at a quarter of the size
    const [small, big] = await Promise.all([sharp(join(dir, `${id}.png`)).raw().toBuffer(), sharp(printPath).resize(64, 64, { kernel: 'lanczos3' }).raw().toBuffer()]);
    let diff = 0;
    for (let i = 0; i < small.length; i++) diff += Math.abs(small[i]! - big[i]!);
    expect(diff / small.length).toBeLessThan(12);
    expect(captures.printSize).toBe(256);
  }, 180_000);

  it('size 0 makes no prints', async () => {
    const prints = new CapturePrints(dir, { size: 0, family: 'esrgan-slim', cacheDir: dir, provider: 'cpu', model: { id: 'x', rights: '' } });
    expect(prints.enabled).toBe(false);
    await prints.make('20260101-000000-abcdef', frame(32), 1);
  });
});
