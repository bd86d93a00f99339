/**
 * kill -9 at random moments while presets are being written, over 1,000 writes or more
 * (FAULT_WRITES): after every kill, each preset file on disk parses and holds either
 * the last completed version or the one being written, never a torn mix; leftovers of an
 * unfinished write are temporary files, which the next start removes.
 * (A kill -9 ends the process, not the machine: the fsync-before-rename that makes this
 * hold through a power cut is in server/presets.ts, but a power cut is not simulated here.)
 */
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { PresetStore } from '../../server/presets.js';
import { WRITER_NAMES } from './faults-preset-writer.js';
import { killDuringWrites } from './faults-kill.js';

const WRITER = fileURLToPath(new URL('./faults-preset-writer.ts', import.meta.url));
const TARGET_WRITES = Number(process.env.FAULT_WRITES ?? 1000);
/** Writes per child life on average; each life ends with SIGKILL at a random moment. */
const WRITES_PER_LIFE = 25;

interface Life {
  lastDone: Map<string, number>;
  inflight: { name: string; n: number } | null;
  begun: number;
}

/** Starts the writer, lets it write until a random point, kills it with SIGKILL, and says what it had announced. */
async function liveAndKill(dir: string, first: number): Promise<Life> {
  const life: Life = { lastDone: new Map(), inflight: null, begun: 0 };
  await killDuringWrites(WRITER, [dir, String(first)], 1 + Math.floor(Math.random() * WRITES_PER_LIFE * 2), (line) => {
    const [what, name, n] = line.split(' ');
    if (what === 'begin') {
      life.inflight = { name: name!, n: Number(n) };
      life.begun += 1;
    } else if (what === 'done') {
      life.lastDone.set(name!, Number(n));
      life.inflight = null;
    }
  });
  return life;
}

it(`presets survive kill -9 during ${TARGET_WRITES} writes: every file parses and is old or new`, { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portraits-kill-'));
  const known = new Map<string, number | undefined>();
  let writes = 0;
  let kills = 0;
  let midWrite = 0;
  let next = 0;
  while (writes < TARGET_WRITES) {
    const life = await liveAndKill(dir, next);
    kills += 1;
    writes += life.begun;
    next += life.begun;
    if (life.inflight) midWrite += 1;

    const files = await readdir(dir);
    for (const file of files.filter((f) => f.endsWith('.tmp'))) expect(file, 'only temporary files may be unfinished').toMatch(/^\.[0-9a-f-]{36}\.tmp$/);
    const onDisk = new Map<string, number>();
    for (const file of files.filter((f) => f.endsWith('.json'))) {
      const text = await readFile(join(dir, file), 'utf8');
      let parsed: { name: string; savedAt: string; state: { seed: number } };
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        throw new Error(`after kill ${kills}, ${file} does not parse (torn write): ${JSON.stringify(text.slice(0, 200))}`);
      }
      expect(parsed.name).toBe(file.slice(0, -5));
      expect(Number.isNaN(Date.parse(parsed.savedAt))).toBe(false);
      onDisk.set(parsed.name, parsed.state.seed);
    }
    for (const name of WRITER_NAMES) {
      const done = life.lastDone.get(name);
      const allowed = new Set([done ?? known.get(name)]);
      if (life.inflight?.name === name) allowed.add(life.inflight.n);
      const found = onDisk.get(name);
      expect(allowed.has(found), `after kill ${kills}: '${name}' holds version ${found}, expected one of ${[...allowed].join(', ')}`).toBe(true);
      known.set(name, found);
    }
  }

  // The next start clears the leftovers and finds every preset.
  const store = await PresetStore.open(dir);
  expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  expect(store.names()).toEqual([...WRITER_NAMES].sort((a, b) => a.localeCompare(b)));
  for (const name of WRITER_NAMES) expect(store.get(name)!.state.seed).toBe(known.get(name));
  console.log(`preset kill test: ${writes} writes begun, ${kills} kill -9s, ${midWrite} of them in the middle of a write`);
  expect(writes).toBeGreaterThanOrEqual(TARGET_WRITES);
  expect(midWrite).toBeGreaterThan(kills / 2);
});
