/**
 * The dream styles on offer (friendly layer names from the dream network's manifest)
 * and their compiled networks. Compiling takes a moment, so it happens in the
 * background on first use; until it is ready the frame passes through undreamed.
 * A failed compile is remembered (and logged once), not retried every frame.
 */
import type { Objective } from '../../onnx-compilers/dream-graph/index.js';
import { logger } from '../log.js';
import type { ProviderChoice } from '../onnx/runtime.js';
import { DreamNet, type DreamNetSpec } from './net.js';

const log = logger('dream');

export interface DreamStyle {
  /** What visitors and VJs see: "strokes", "eyes" ... */
  name: string;
  spec: DreamNetSpec;
}

type Slot = { state: 'compiling'; promise: Promise<void> } | { state: 'ready'; net: DreamNet } | { state: 'failed'; error: string };

export class DreamLibrary {
  private readonly slots = new Map<string, Slot>();

  constructor(
    readonly styles: readonly DreamStyle[],
    private readonly provider: ProviderChoice,
  ) {}

  names(): string[] {
    return this.styles.map((s) => s.name);
  }

  /** "" means the first style. */
  resolve(name: string): DreamStyle | undefined {
    return name === '' ? this.styles[0] : this.styles.find((s) => s.name === name);
  }

  /** The ready network for a style, or null while it compiles (or if it failed). */
  get(name: string): DreamNet | null {
    const style = this.resolve(name);
    if (!style) return null;
    const slot = this.slots.get(style.name);
    if (slot?.state === 'ready') return slot.net;
    if (!slot) this.compile(style);
    return null;
  }

  /** Waits until a style is compiled; throws its error if it failed. For the CLI and tests. */
  async ready(name: string): Promise<DreamNet> {
    const style = this.resolve(name);
    if (!style) throw new Error(`unknown dream style '${name}'; available: ${this.names().join(', ')}`);
    if (!this.slots.has(style.name)) this.compile(style);
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

  private compile(style: DreamStyle): void {
    const started = performance.now();
    const promise = DreamNet.open(style.spec, this.provider).then(
      (net) => {
        this.slots.set(style.name, { state: 'ready', net });
        log.info({ style: style.name, tensor: style.spec.objective.tensor, ms: Math.round(performance.now() - started) }, 'dream style compiled');
      },
      (err: Error) => {
        this.slots.set(style.name, { state: 'failed', error: err.message });
        log.error({ style: style.name, err: err.message }, 'dream style cannot be compiled');
      },
    );
    this.slots.set(style.name, { state: 'compiling', promise });
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
