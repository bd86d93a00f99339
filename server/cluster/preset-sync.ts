/**
 * Presets for the whole wall (docs/cluster.md): a preset the VJ saves or deletes on any
 * node is saved or deleted on every node, so a surface talking to any node can load it.
 * Each node keeps its own folder (server/presets.ts: durable writes, and the presets are
 * there when Redis is not); Redis holds the cluster's copy as one hash `portraits:presets`,
 * name -> the preset, or a tombstone { name, deletedAt } for a delete, and a node that
 * writes publishes the name on `portraits:presets`. After connecting (and after every
 * outage) a node merges both ways, the later save or delete winning by its timestamp,
 * so what changed on either side while Redis was away is not lost.
 */
import { z } from 'zod';
import { logger } from '../log.js';
import { checkName, PresetFileSchema, type Preset, type PresetStore } from '../presets.js';
import type { RedisLink } from './redis-connection.js';

const log = logger('cluster');

export const PRESETS_KEY = 'portraits:presets';
export const PRESETS_CHANNEL = 'portraits:presets';

const TombstoneSchema = z.object({ name: z.string(), deletedAt: z.string() });
type Tombstone = z.infer<typeof TombstoneSchema>;
type Entry = Preset | Tombstone;

const isTombstone = (entry: Entry): entry is Tombstone => 'deletedAt' in entry;
const stamp = (entry: Entry): number => Date.parse(isTombstone(entry) ? entry.deletedAt : entry.savedAt);

function parseEntry(name: string, raw: string | null | undefined): Entry | null {
  if (!raw) return null;
  try {
    checkName(name);
    const json: unknown = JSON.parse(raw);
    const tombstone = TombstoneSchema.safeParse(json);
    const entry = tombstone.success ? tombstone.data : PresetFileSchema.parse(json);
    return Number.isFinite(stamp(entry)) ? { ...entry, name } : null;
  } catch (err) {
    log.warn({ preset: name, err: (err as Error).message }, 'skipping an unreadable preset in Redis');
    return null;
  }
}

export class PresetSync {
  /** Deletes made here since start, so a delete during an outage is not undone by the cluster's older copy. */
  private readonly deleted = new Map<string, Tombstone>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly presets: PresetStore,
    private readonly link: RedisLink,
  ) {
    this.unsubscribe = presets.onWrite((name, preset) => {
      if (preset) this.deleted.delete(name);
      const entry: Entry = preset ?? { name, deletedAt: new Date().toISOString() };
      if (isTombstone(entry)) this.deleted.set(name, entry);
      void this.push(entry);
    });
    link.onUp(() => void this.resync());
  }

  start(): void {
    this.link.subscriber.subscribe(PRESETS_CHANNEL, (name) => void this.pull(name)).catch((err: Error) => log.warn({ err: err.message }, 'could not subscribe to the presets channel yet; node-redis retries after reconnecting'));
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
  }

  private async push(entry: Entry): Promise<void> {
    if (this.closed || !this.link.up) return; // the merge after reconnecting sends it
    try {
      await this.link.commands.hSet(PRESETS_KEY, entry.name, JSON.stringify(entry));
      await this.link.commands.publish(PRESETS_CHANNEL, entry.name);
    } catch (err) {
      log.warn({ preset: entry.name, err: (err as Error).message }, 'could not share a preset change yet; it is sent when Redis answers again');
    }
  }

  private async pull(name: string): Promise<void> {
    if (this.closed) return;
    try {
      const entry = parseEntry(name, await this.link.commands.hGet(PRESETS_KEY, name));
      if (entry) await this.take(entry);
    } catch (err) {
      log.warn({ preset: name, err: (err as Error).message }, "could not take another node's preset change");
    }
  }

  /** Takes the cluster's entry if it is newer than what this node has (or did). */
  private async take(entry: Entry): Promise<void> {
    const local = this.presets.get(entry.name);
    const deletedHere = this.deleted.get(entry.name);
    if (isTombstone(entry)) {
      if (local && Date.parse(local.savedAt) <= stamp(entry)) await this.presets.adopt(entry.name, null);
      return;
    }
    if (local?.savedAt === entry.savedAt) return;
    if (local && Date.parse(local.savedAt) > stamp(entry)) return;
    if (deletedHere && stamp(deletedHere) > stamp(entry)) return;
    this.deleted.delete(entry.name);
    await this.presets.adopt(entry.name, entry);
  }

  /** After connecting: take what is newer in Redis, send what is newer here. */
  private async resync(): Promise<void> {
    if (this.closed) return;
    try {
      const raw = await this.link.commands.hGetAll(PRESETS_KEY);
      const remote = new Map<string, Entry>();
      for (const [name, value] of Object.entries(raw)) {
        const entry = parseEntry(name, value);
        if (entry) remote.set(name, entry);
      }
      for (const entry of remote.values()) await this.take(entry);
      const mine: Entry[] = [...this.deleted.values(), ...this.presets.names().map((name) => this.presets.get(name)!)];
      let sent = 0;
      for (const entry of mine) {
        const theirs = remote.get(entry.name);
        if (theirs && stamp(theirs) >= stamp(entry)) continue;
        await this.push(entry);
        sent++;
      }
      log.info({ presets: this.presets.names().length, fromCluster: remote.size, sent }, 'presets merged with the cluster');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not merge presets with the cluster yet; retrying when Redis answers again');
    }
  }
}
