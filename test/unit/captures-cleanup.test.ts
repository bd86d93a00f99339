/** Opening the capture folder removes what interrupted atomic writes left behind, and nothing else. */
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Captures } from '../../server/captures.js';

it('removes temporary files of interrupted capture writes at open, keeps captures and other files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portraits-captures-cleanup-'));
  const keep = ['20261122-101010-abcdef.png', '20261122-101010-abcdef.json', 'notes.txt', '20261122-101010-abcdef.png.bak'];
  const leftovers = ['20261122-101010-abcdef.png.2873645521', '20261122-111111-0123ab.json.17'];
  for (const name of [...keep, ...leftovers]) await writeFile(join(dir, name), 'x');
  await Captures.open(dir, { keep: 10, size: 64, model: { id: 'test', licence: { model: 'test fixture' } } as never });
  expect((await readdir(dir)).sort()).toEqual([...keep].sort());
});
