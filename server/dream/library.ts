/**
 * The dream network's styles (server/dream/styles.ts: curated styles, every layer, one
 * channel as LAYER:N) and their compiled networks. Compiling takes a moment, so it
 * happens in the background on first use; until it is ready the frame passes through
 * undreamed. A failed compile is remembered (and logged once), not retried every frame.
 * At most MAX_COMPILED networks are kept (a VJ can ask for any of hundreds of channels);
 * the least recently used goes first. Guided networks (a layer and a guide picture) are kept
 * the same way, keyed by their guide.
 */
import { describeObjective, type Objective } from '../../onnx-compilers/dream-graph/index.js';
import { logger } from '../log.js';
import type { ProviderChoice } from '../onnx/runtime.js';
import type { PlanarImage } from '../image/planar-image.js';
import { DreamNet } from './net.js';
import type { DreamCatalogue, DreamStyle } from './styles.js';

export type { DreamStyle } from './styles.js';

const log = logger('dream');
const MAX_COMPILED = 8;

type Slot = { state: 'compiling'; promise: Promise<void> } | { state: 'ready'; net: DreamNet } | { state: 'failed'; error: string };

export class DreamLibrary {
  private readonly slots = new Map<string, Slot>();

  constructor(
    /** The dream network's names, or null when there is no dream network (dreaming is off). */
    readonly catalogue: DreamCatalogue | null,
    private readonly provider: ProviderChoice,
  ) {}

  /** The curated styles, for visitors (empty without a dream network). */
  get styles(): readonly DreamStyle[] {
    return this.catalogue?.styles ?? [];
  }

  /** The curated styles' names. */
  names(): string[] {
    return this.styles.map((s) => s.name);
  }

  /** A style, layer or LAYER:N; "" means the first style. Undefined when unknown. */
  resolve(name: string): DreamStyle | undefined {
    return this.catalogue?.find(name);
  }

  /** Why `name` is not a valid style (with the valid names), or null. */
  problem(name: string): string | null {
    if (!this.catalogue) return 'dreaming is unavailable: no dream network is installed';
    try {
      this.catalogue.resolve(name);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** The ready network for a style, or null while it compiles (or if it failed). */
  get(name: string): DreamNet | null {
    const style = this.resolve(name);
    if (!style) return null;
    return this.slot(style.name, describeObjective(style.spec.objective), () => DreamNet.open(style.spec, this.provider));
  }

  /**
   * The ready guided network for a layer (see DreamCatalogue.guide) and a guide picture, or
   * null while the picture is made and the network compiles (or if either failed). `guideKey`
   * names the picture (e.g. "seed:7"): a new key compiles anew, the same key is reused.
   */
  guided(layer: string, guideKey: string, picture: () => Promise<PlanarImage>): DreamNet | null {
    if (!this.catalogue) return null;
    let style: DreamStyle;
    try {
      style = this.catalogue.guide(layer);
    } catch {
      return null;
    }
    return this.slot(`${style.name} ${guideKey}`, `${describeObjective(style.spec.objective)} (${guideKey})`, async () => DreamNet.openGuided(style.spec, await picture(), this.provider));
  }

  private slot(key: string, label: string, open: () => Promise<DreamNet>): DreamNet | null {
    const slot = this.slots.get(key);
    if (slot?.state === 'ready') {
      this.touch(key, slot);
      return slot.net;
    }
    if (!slot) this.compile(key, label, open);
    return null;
  }

  /** Waits until a style is compiled; throws its error if it failed. For the CLI and tests. */
  async ready(name: string): Promise<DreamNet> {
    if (!this.catalogue) throw new Error('dreaming is unavailable: no dream network is installed');
    const style = this.catalogue.resolve(name);
    if (!this.slots.has(style.name)) this.compile(style.name, describeObjective(style.spec.objective), () => DreamNet.open(style.spec, this.provider));
    const slot = this.slots.get(style.name)!;
    if (slot.state === 'compiling') await slot.promise;
    const done = this.slots.get(style.name)!;
    if (done.state === 'ready') return done.net;
    throw new Error(done.state === 'failed' ? done.error : 'dream network not ready');
  }

  error(name: string): string | null {
    const style = this.resolve(name);
    const slot = style && this.slots.get(style.name);
    return slot?.state === 'failed' ? slot.error : null;
  }

  /** Most recently used last (Map order), so eviction takes the first ready one. */
  private touch(name: string, slot: Slot): void {
    this.slots.delete(name);
    this.slots.set(name, slot);
  }

  private evict(): void {
    const ready = [...this.slots.entries()].filter(([, s]) => s.state === 'ready');
    for (const [name, slot] of ready.slice(0, Math.max(0, ready.length - MAX_COMPILED + 1))) {
      this.slots.delete(name);
      if (slot.state === 'ready') void slot.net.dispose();
    }
  }

  private compile(key: string, label: string, open: () => Promise<DreamNet>): void {
    const started = performance.now();
    this.evict();
    const promise = open().then(
      (net) => {
        this.slots.set(key, { state: 'ready', net });
        log.info({ style: key, objective: label, ms: Math.round(performance.now() - started) }, 'dream style compiled');
      },
      (err: Error) => {
        this.slots.set(key, { state: 'failed', error: err.message });
        log.error({ style: key, err: err.message }, 'dream style cannot be compiled');
      },
    );
    this.slots.set(key, { state: 'compiling', promise });
  }

  async dispose(): Promise<void> {
    const pending = [...this.slots.values()].map(async (slot) => {
      if (slot.state === 'compiling') await slot.promise;
    });
    await Promise.allSettled(pending);
    await Promise.allSettled([...this.slots.values()].map((s) => (s.state === 'ready' ? s.net.dispose() : undefined)));
    this.slots.clear();
  }
}

export function layerObjective(tensor: string, channel?: number): Objective {
  return channel === undefined ? { kind: 'layer', tensor } : { kind: 'layer', tensor, channel };
}
