/**
 * kill -9 at random moments while visitors' captures are being written (server/captures.ts,
 * PNG then JSON sidecar, each atomically): after every kill, every capture that was
 * reported saved is on disk, complete and readable; every capture file on disk decodes
 * (PNG) or parses (JSON); no sidecar points at a missing picture. FAULT_WRITES sets the
 * number of captures attempted (default 300: each one encodes a PNG).
 */
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { expect, it } from 'vitest';
import { CAPTURE_ID, Captures } from '../../server/captures.js';
import { killDuringWrites } from './faults-kill.js';

const WRITER = fileURLToPath(new URL('./faults-capture-writer.ts', import.meta.url));
const TARGET = Number(process.env.FAULT_WRITES ?? 300);
const WRITES_PER_LIFE = 10;

it(`captures survive kill -9 during ${TARGET} saves: nothing saved is lost, nothing on disk is torn`, { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portraits-kill-captures-'));
  const saved = new Set<string>();
  let begun = 0;
  let kills = 0;
  let midWrite = 0;
  let leftovers = 0;
  while (begun < TARGET) {
    let open = false;
    await killDuringWrites(WRITER, [dir], 1 + Math.floor(Math.random() * WRITES_PER_LIFE * 2), (line) => {
      if (line.startsWith('begin ')) {
        begun += 1;
        open = true;
      } else if (line.startsWith('done ')) {
        saved.add(line.slice(5));
        open = false;
      }
    });
    kills += 1;
    if (open) midWrite += 1;

    const files = await readdir(dir);
    const ids = new Set(files.map((f) => f.replace(/\.(png|json)$/, '')).filter((id) => CAPTURE_ID.test(id)));
    for (const id of saved) {
      expect(files, `capture ${id} was reported saved`).toContain(`${id}.png`);
      expect(files, `capture ${id} was reported saved`).toContain(`${id}.json`);
    }
    for (const id of ids) {
      if (files.includes(`${id}.png`)) {
        const meta = await sharp(join(dir, `${id}.png`)).metadata();
        expect(meta.format, `${id}.png`).toBe('png');
        await sharp(join(dir, `${id}.png`)).raw().toBuffer(); // decodes to the last pixel
      }
      if (files.includes(`${id}.json`)) {
        const sidecar = JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as { id: string; image: string };
        expect(sidecar.id).toBe(id);
        expect(files, `${id}.json points at its picture`).toContain(sidecar.image);
      }
    }
    // Temporary files of an interrupted atomic write (they never carry a capture's name).
    leftovers = files.filter((f) => !/\.(png|json)$/.test(f) || !CAPTURE_ID.test(f.replace(/\.(png|json)$/, ''))).length;
  }
  console.log(`capture kill test: ${begun} captures begun, ${saved.size} reported saved, ${kills} kill -9s (${midWrite} mid-capture); ${leftovers} temporary files left by the last interrupted writes`);
  expect(begun).toBeGreaterThanOrEqual(TARGET);
  expect(saved.size).toBeGreaterThan(0);

  // A restart removes what interrupted writes left, and only that.
  const before = await readdir(dir);
  await Captures.open(dir, { keep: 1_000_000, size: 64, model: { id: 'fault-test', licence: { model: 'test fixture' } } as never });
  const after = await readdir(dir);
  expect(after.filter((f) => !/\.(png|json)$/.test(f))).toEqual([]);
  expect(after.sort()).toEqual(before.filter((f) => /\.(png|json)$/.test(f)).sort());
  for (const id of saved) expect(after).toContain(`${id}.png`);
});
