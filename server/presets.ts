/**
 * Presets: named looks (the live state minus visitorLock), one JSON file each in the
 * presets folder, kept in memory so loading one inside an OSC bundle needs no disk.
 * Writes are crash-safe: a temporary file is written and fsynced, renamed over the old
 * one, and the folder is fsynced, so after a power cut a preset is the old or the new
 * version, never a torn one. Leftover temporary files from a crash are removed at start.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { Emitter } from '../common/emitter.js';
import { PresetCommandSchema, PresetNameSchema, refusal, type PresetAck, type RefusalCode } from '../common/protocol.js';
import { PatchSchema, StateSchema, describeError, type LiveState, type StatePatch } from '../common/state.js';
import { logger } from './log.js';
import type { Source, Store } from './store.js';

const log = logger('presets');

/** Enough for any performance; stops a runaway script from filling the disk. */
export const MAX_PRESETS = 500;
const TEMP_SUFFIX = '.tmp';

export const PresetFileSchema = z.object({
  name: z.string(),
  savedAt: z.string(),
  state: z.record(z.string(), z.unknown()),
});
export type Preset = z.infer<typeof PresetFileSchema>;

export class PresetError extends Error {
  constructor(
    message: string,
    readonly code: Extract<RefusalCode, 'invalid' | 'not-found' | 'needs-admin' | 'locked' | 'full' | 'failed'>,
  ) {
    super(message);
  }
}

export function checkName(name: unknown): string {
  const parsed = PresetNameSchema.safeParse(name);
  if (!parsed.success) throw new PresetError(`invalid preset name ${JSON.stringify(name)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`, 'invalid');
  return parsed.data;
}

/** Writes `data` to `path` so that a crash leaves either the old file or the new one. */
export async function writeFileDurably(dir: string, path: string, data: string): Promise<void> {
  const temp = join(dir, `.${randomUUID()}${TEMP_SUFFIX}`);
  const file = await open(temp, 'wx', 0o644);
  try {
    await file.writeFile(data, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  // The rename is only durable once the directory entry is on disk.
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/** The keys of a saved state that the current schema still has; dropped ones are named in `dropped`. */
function currentKeys(state: Record<string, unknown>): { patch: Record<string, unknown>; dropped: string[] } {
  const patch: Record<string, unknown> = {};
  const dropped: string[] = [];
  const shape = StateSchema.shape as Record<string, z.ZodType>;
  for (const [key, value] of Object.entries(state)) {
    const field = shape[key];
    if (!field || key === 'visitorLock') {
      if (key !== 'visitorLock') dropped.push(key);
      continue;
    }
    if (field instanceof z.ZodObject && value && typeof value === 'object' && !Array.isArray(value)) {
      const inner: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        if (k in field.shape) inner[k] = v;
        else dropped.push(`${key}.${k}`);
      }
      patch[key] = inner;
    } else patch[key] = value;
  }
  return { patch, dropped };
}

/** A save (the preset) or a delete (null) made on this node, for replication (server/cluster/preset-sync.ts). */
export type PresetWrite = (name: string, preset: Preset | null) => void;

export class PresetStore {
  private savingView: ((state: Readonly<LiveState>) => Readonly<LiveState>) | null = null;
  private readonly presets = new Map<string, Preset>();
  private readonly listeners = new Emitter<[names: string[]]>((err) => log.error({ err: (err as Error).message }, 'preset listener failed'));
  private readonly writeListeners = new Emitter<Parameters<PresetWrite>>((err) => log.error({ err: (err as Error).message }, 'preset write listener failed'));
  /** Disk writes run one at a time, so the memory map and the folder agree on the last writer. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly dir: string) {}

  /** Reads every preset in `dir` (absent: none yet); unreadable files are logged and skipped, never deleted. */
  static async open(dir: string): Promise<PresetStore> {
    const store = new PresetStore(dir);
    let files: string[];
    try {
      files = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw err;
    }
    for (const file of files) {
      const path = join(dir, file);
      if (file.startsWith('.') && file.endsWith(TEMP_SUFFIX)) {
        await rm(path, { force: true });
        log.info({ file }, 'removed an unfinished preset write');
        continue;
      }
      if (!file.endsWith('.json')) continue;
      const name = file.slice(0, -'.json'.length);
      try {
        checkName(name);
        const preset = PresetFileSchema.parse(JSON.parse(await readFile(path, 'utf8')));
        store.presets.set(name, { ...preset, name });
      } catch (err) {
        log.warn({ file: path, err: (err as Error).message }, 'skipping an unreadable preset file');
      }
    }
    log.info({ dir, presets: store.presets.size }, 'presets loaded');
    return store;
  }

  names(): string[] {
    return [...this.presets.keys()].sort((a, b) => a.localeCompare(b));
  }

  has(name: string): boolean {
    return this.presets.has(name);
  }

  get(name: string): Preset | undefined {
    return this.presets.get(name);
  }

  onChange(listener: (names: string[]) => void): () => void {
    return this.listeners.on(listener);
  }

  /** Saves and deletes made here (not those adopted from the cluster). */
  onWrite(listener: PresetWrite): () => void {
    return this.writeListeners.on(listener);
  }

  /**
   * Takes another node's save (a preset) or delete (null) into this folder, as durably as
   * a local one; tells onChange listeners, not onWrite ones (it came from the cluster).
   */
  async adopt(name: string, preset: Preset | null): Promise<void> {
    checkName(name);
    await this.serial(async () => {
      if (preset) {
        await mkdir(this.dir, { recursive: true });
        await writeFileDurably(this.dir, join(this.dir, `${name}.json`), JSON.stringify({ ...preset, name }, null, 2) + '\n');
        this.presets.set(name, { ...preset, name });
      } else {
        if (!this.presets.has(name)) return;
        await this.removeFile(name);
        this.presets.delete(name);
      }
      log.info({ preset: name, deleted: !preset }, preset ? 'preset saved on another node' : 'preset deleted on another node');
      this.changed();
    });
  }

  /**
   * The patch that loads `name`. Keys the schema has since dropped are skipped (with a
   * warning) so old presets keep working; values the schema now refuses are an error.
   */
  /** "no preset named 'x'; the presets: a, b" */
  private unknown(name: string): string {
    const names = [...this.presets.keys()].sort();
    return `no preset named '${name}'; ${names.length ? `the presets: ${names.join(', ')}` : 'none is saved yet'}`;
  }

  patchFor(name: string): StatePatch {
    const preset = this.presets.get(checkName(name));
    if (!preset) throw new PresetError(this.unknown(name), 'not-found');
    const { patch, dropped } = currentKeys(preset.state);
    if (dropped.length) log.warn({ preset: name, dropped }, 'preset has keys the state no longer has; loading the rest');
    const parsed = PatchSchema.safeParse(patch);
    if (!parsed.success) throw new PresetError(`preset '${name}' does not fit the current state: ${describeError(parsed.error)}`, 'invalid');
    return parsed.data;
  }

  /**
   * What a preset keeps of a state: by default the state itself; with the modulation matrix
   * running, the values the VJ set rather than where the routes have moved them this instant
   * (server/modulation/modulator.ts unmodulated), so a loaded preset starts from those.
   */
  useSavingView(view: (state: Readonly<LiveState>) => Readonly<LiveState>): void {
    this.savingView = view;
  }

  async save(name: string, state: Readonly<LiveState>): Promise<string[]> {
    checkName(name);
    const { visitorLock: _lock, ...look } = this.savingView ? this.savingView(state) : state;
    const preset: Preset = { name, savedAt: new Date().toISOString(), state: structuredClone(look) as Record<string, unknown> };
    return this.serial(async () => {
      if (!this.presets.has(name) && this.presets.size >= MAX_PRESETS) throw new PresetError(`there are already ${MAX_PRESETS} presets; delete some first`, 'full');
      try {
        await mkdir(this.dir, { recursive: true });
        await writeFileDurably(this.dir, join(this.dir, `${name}.json`), JSON.stringify(preset, null, 2) + '\n');
      } catch (err) {
        log.error({ preset: name, dir: this.dir, err: (err as Error).message }, 'could not save preset');
        throw new PresetError(`could not save preset '${name}': ${(err as Error).message}`, 'failed');
      }
      this.presets.set(name, preset);
      log.info({ preset: name }, 'preset saved');
      this.wrote(name, preset);
      return this.changed();
    });
  }

  async delete(name: string): Promise<string[]> {
    checkName(name);
    return this.serial(async () => {
      if (!this.presets.has(name)) throw new PresetError(this.unknown(name), 'not-found');
      try {
        await this.removeFile(name);
      } catch (err) {
        throw new PresetError(`could not delete preset '${name}': ${(err as Error).message}`, 'failed');
      }
      this.presets.delete(name);
      log.info({ preset: name }, 'preset deleted');
      this.wrote(name, null);
      return this.changed();
    });
  }

  private async removeFile(name: string): Promise<void> {
    await rm(join(this.dir, `${name}.json`), { force: true });
    const folder = await open(this.dir, 'r');
    await folder.sync().finally(() => folder.close());
  }

  private wrote(name: string, preset: Preset | null): void {
    this.writeListeners.emit(name, preset);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private changed(): string[] {
    const names = this.names();
    this.listeners.emit(names);
    return names;
  }
}

function invalidName(name: unknown): string {
  try {
    checkName(name);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * One preset command from a tablet, HTTP or OSC. Visitors (tablets) may list, load and save
 * new names, but not overwrite or delete, and nothing while the VJ has locked them out.
 * A refusal's code says why (HTTP answers with its status).
 */
export async function runPresetCommand(presets: PresetStore, store: Store, command: unknown, source: Source, origin?: string): Promise<PresetAck> {
  const parsed = PresetCommandSchema.safeParse(command);
  if (!parsed.success) {
    const name = command && typeof command === 'object' ? (command as { name?: unknown }).name : undefined;
    const error = name !== undefined && !PresetNameSchema.safeParse(name).success ? invalidName(name) : describeError(parsed.error);
    return refusal('invalid', error);
  }
  const cmd = parsed.data;
  try {
    if (source === 'tablet' && cmd.op !== 'list' && store.state.visitorLock) throw new PresetError('locked: the performer has the controls right now', 'locked');
    switch (cmd.op) {
      case 'list':
        return { ok: true, names: presets.names() };
      case 'load': {
        const ack = store.apply(presets.patchFor(cmd.name), source, origin);
        if (!ack.ok) return ack;
        return { ok: true, names: presets.names(), version: ack.version };
      }
      case 'save':
        if (source === 'tablet' && presets.has(cmd.name)) throw new PresetError(`a preset named '${cmd.name}' exists; only the VJ or staff may overwrite it`, 'needs-admin');
        return { ok: true, names: await presets.save(cmd.name, store.state) };
      case 'delete':
        if (source === 'tablet') throw new PresetError('only the VJ or staff may delete presets', 'needs-admin');
        return { ok: true, names: await presets.delete(cmd.name) };
    }
  } catch (err) {
    if (err instanceof PresetError) {
      log.warn({ source, op: cmd.op, code: err.code, error: err.message }, 'preset command refused');
      return refusal(err.code, err.message);
    }
    throw err;
  }
}
