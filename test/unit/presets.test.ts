/**
 * Presets on disk: saved, listed, reloaded after a restart, names that cannot escape the
 * folder, crash leftovers cleaned up, and a process killed while saving never leaves a
 * torn preset behind.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE, type LiveState } from '../../common/state.js';
import { PresetError, PresetStore, runPresetCommand } from '../../server/presets.js';
import { Store } from '../../server/store.js';

const fresh = () => mkdtemp(join(tmpdir(), 'portraits-presets-'));
const look = (speed: number): LiveState => ({ ...structuredClone(DEFAULT_STATE), walk: { seed: 5, speed } }) as LiveState;

describe('preset store', () => {
  it('saves, lists, loads and survives a reopen', async () => {
    const dir = join(await fresh(), 'not-yet-created');
    const presets = await PresetStore.open(dir);
    expect(presets.names()).toEqual([]);
    expect(await presets.save('Opening night', look(0.4))).toEqual(['Opening night']);
    await presets.save('calm-1', { ...look(0.1), visitorLock: true });
    const again = await PresetStore.open(dir);
    expect(again.names()).toEqual(['calm-1', 'Opening night']);
    const patch = again.patchFor('Opening night');
    expect(patch.walk).toEqual({ seed: 5, speed: 0.4 });
    expect(patch).not.toHaveProperty('visitorLock');
    expect(JSON.parse(await readFile(join(dir, 'calm-1.json'), 'utf8')).state).not.toHaveProperty('visitorLock');
    expect(await again.delete('calm-1')).toEqual(['Opening night']);
    expect((await PresetStore.open(dir)).names()).toEqual(['Opening night']);
  });

  it.each(['../escape', 'a/b', '..', '.hidden', '', ' lead', 'trail ', 'x'.repeat(65), 'semi;colon', 'nul\0', 'dot.json'])('refuses the name %j', async (name) => {
    const dir = await fresh();
    const presets = await PresetStore.open(dir);
    await expect(presets.save(name, look(0.2))).rejects.toThrow(PresetError);
    expect(() => presets.patchFor(name)).toThrow(PresetError);
    expect(await readdir(dir)).toEqual([]);
  });

  it("takes another node's saves and deletes to disk, and tells replication only about its own", async () => {
    const dir = await fresh();
    const presets = await PresetStore.open(dir);
    const writes: string[] = [];
    const lists: string[][] = [];
    presets.onWrite((name, preset) => writes.push(`${preset ? 'save' : 'delete'} ${name}`));
    presets.onChange((names) => lists.push(names));
    await presets.save('mine', look(0.3));
    const theirs = { name: 'theirs', savedAt: new Date().toISOString(), state: { walk: { seed: 9, speed: 0.6 } } };
    await presets.adopt('theirs', theirs);
    expect((await PresetStore.open(dir)).patchFor('theirs').walk).toEqual({ seed: 9, speed: 0.6 });
    await presets.adopt('theirs', null);
    await presets.delete('mine');
    expect(writes).toEqual(['save mine', 'delete mine']);
    expect(lists).toEqual([['mine'], ['mine', 'theirs'], ['mine'], []]);
    expect(await readdir(dir)).toEqual([]);
    await expect(presets.adopt('../escape', theirs)).rejects.toThrow(PresetError);
  });

  it('removes unfinished writes at start and skips unreadable files without deleting them', async () => {
    const dir = await fresh();
    await writeFile(join(dir, '.3f2a.tmp'), '{"name":"half');
    await writeFile(join(dir, 'broken.json'), '{"name":');
    await writeFile(join(dir, 'notes.txt'), 'not a preset');
    const presets = await PresetStore.open(dir);
    expect(presets.names()).toEqual([]);
    expect(existsSync(join(dir, '.3f2a.tmp'))).toBe(false);
    expect(existsSync(join(dir, 'broken.json'))).toBe(true);
  });

  it('loads old presets: dropped keys are skipped, values the schema now refuses are an error', async () => {
    const dir = await fresh();
    const old = { name: 'old', savedAt: '2026-01-01T00:00:00Z', state: { walk: { seed: 3, speed: 0.5, wobble: 2 }, retired: 1 } };
    await writeFile(join(dir, 'old.json'), JSON.stringify(old));
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ ...old, name: 'bad', state: { walk: { speed: 99 } } }));
    const presets = await PresetStore.open(dir);
    expect(presets.patchFor('old')).toEqual({ walk: { seed: 3, speed: 0.5 } });
    expect(() => presets.patchFor('bad')).toThrow(/walk.speed/);
    expect(() => presets.patchFor('missing')).toThrow(/no preset/);
  });

  it('serialises concurrent saves: the folder and the list agree on the last one', async () => {
    const dir = await fresh();
    const presets = await PresetStore.open(dir);
    await Promise.all(Array.from({ length: 12 }, (_, i) => presets.save('same', look(i / 10))));
    const onDisk = JSON.parse(await readFile(join(dir, 'same.json'), 'utf8'));
    expect(onDisk.state.walk.speed).toBe(1.1);
    expect(presets.patchFor('same').walk?.speed).toBe(1.1);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('never leaves a torn preset when the process is killed while saving', async () => {
    const dir = await fresh();
    const script = join(dir, 'writer.mts');
    const presetsModule = fileURLToPath(new URL('../../server/presets.ts', import.meta.url));
    // Saves one preset over and over with a growing body until it is killed.
    await writeFile(
      script,
      `import { PresetStore } from ${JSON.stringify(presetsModule)};
       import { DEFAULT_STATE } from ${JSON.stringify(fileURLToPath(new URL('../../common/state.ts', import.meta.url)))};
       const presets = await PresetStore.open(${JSON.stringify(dir)});
       for (let i = 0; ; i++) {
         await presets.save('live', { ...DEFAULT_STATE, loop: { seeds: Array.from({ length: 1 + (i % 64) }, (_, k) => k), period: 40 } });
         if (i === 3) process.stdout.write('saving\\n');
       }`,
    );
    for (let round = 0; round < 2; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'silent' } });
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
      });
      await new Promise((r) => setTimeout(r, 50 + round * 70));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const text = await readFile(join(dir, 'live.json'), 'utf8');
      expect(() => JSON.parse(text)).not.toThrow();
      const presets = await PresetStore.open(dir);
      expect(presets.patchFor('live').loop!.seeds!.length).toBeGreaterThan(0);
      expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
  });
});

describe('preset commands', () => {
  it('let visitors list, load and save new names, but not overwrite, delete, or act while locked', async () => {
    const presets = await PresetStore.open(await fresh());
    const store = new Store();
    store.apply({ walk: { speed: 0.9 } }, 'osc');
    expect(await runPresetCommand(presets, store, { op: 'save', name: 'vj' }, 'osc')).toEqual({ ok: true, names: ['vj'] });
    store.apply({ walk: { speed: 0.1 } }, 'tablet');
    expect(await runPresetCommand(presets, store, { op: 'save', name: 'vj' }, 'tablet')).toMatchObject({ ok: false, code: 'needs-admin' });
    expect(await runPresetCommand(presets, store, { op: 'delete', name: 'vj' }, 'tablet')).toMatchObject({ ok: false, code: 'needs-admin' });
    expect((await runPresetCommand(presets, store, { op: 'save', name: 'visitor' }, 'tablet')).ok).toBe(true);
    const load = await runPresetCommand(presets, store, { op: 'load', name: 'vj' }, 'tablet');
    expect(load).toMatchObject({ ok: true, version: store.version });
    expect(store.state.walk.speed).toBe(0.9);
    store.apply({ visitorLock: true }, 'osc');
    const locked = await runPresetCommand(presets, store, { op: 'load', name: 'visitor' }, 'tablet');
    expect(locked).toMatchObject({ ok: false, code: 'locked', error: expect.stringMatching(/^locked: /) });
    expect(store.state.walk.speed).toBe(0.9);
    expect(await runPresetCommand(presets, store, { op: 'list' }, 'tablet')).toEqual({ ok: true, names: ['visitor', 'vj'] });
  });

  it('answers malformed commands and unknown names with a reason and a code', async () => {
    const presets = await PresetStore.open(await fresh());
    const store = new Store();
    expect(await runPresetCommand(presets, store, { op: 'explode' }, 'http')).toMatchObject({ ok: false, code: 'invalid' });
    expect(await runPresetCommand(presets, store, { op: 'load', name: '../../etc/passwd' }, 'http')).toMatchObject({ ok: false, code: 'invalid', error: expect.stringMatching(/invalid preset name/) });
    const missing = await runPresetCommand(presets, store, { op: 'load', name: 'nope' }, 'http');
    expect(missing).toEqual({ ok: false, code: 'not-found', error: "no preset named 'nope'; none is saved yet" });
    expect(store.version).toBe(0);
  });
});
