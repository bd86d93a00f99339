/**
 * The names a dream can be asked for, on one dream network:
 *
 * - its curated styles (manifest `dream.styles`: "strokes", "eyes" ...), each a blend of
 *   layers or channels with the settings it was tuned with; visitors see only these;
 * - every layer by its friendly name (manifest `dream.layers`), and its raw tensor name;
 * - one channel of a layer as `LAYER:N` ("whorls:12").
 *
 * The live stage, the CLI's dream, render and video all resolve names here, and every
 * error lists what is valid.
 */
import { join } from 'node:path';
import type { DreamStyleEntry, Manifest } from '../../common/manifest.js';
import type { LayerTerm, Objective } from '../../onnx-compilers/dream-graph/index.js';
import type { DreamNetSpec } from './net.js';

/** The settings a style was tuned with (offline: per octave; live: a step factor). */
export interface StyleTuning {
  iterations?: number;
  step?: number;
  octaves?: number;
  octaveScale?: number;
  liveStep?: number;
}

export interface DreamStyle {
  /** The canonical name: a style's, a layer's friendly name, or `layer:N`. */
  name: string;
  description?: string;
  kind: 'style' | 'layer' | 'channel' | 'guide';
  spec: DreamNetSpec;
  tuning: StyleTuning;
}

type Layer = NonNullable<Manifest['dream']>['layers'][number];

/** Offline guided dreams: six steps an octave keep the portrait under the guide's structure (more wash it into the guide's texture). */
const GUIDE_TUNING: StyleTuning = { iterations: 6 };

export class DreamCatalogue {
  /** The curated styles (the whole layer list when the manifest curates none). */
  readonly styles: readonly DreamStyle[];
  private readonly layers: readonly Layer[];

  constructor(
    readonly id: string,
    private readonly dir: string,
    private readonly manifest: Manifest,
  ) {
    const dream = manifest.dream;
    if (!dream) throw new Error(`model '${id}' has no "dream" section in its manifest`);
    this.layers = dream.layers;
    this.styles = dream.styles?.length ? dream.styles.map((s) => this.curated(s)) : this.layers.map((l) => this.layer(l));
  }

  /** The layers' friendly names, in network order. */
  layerNames(): string[] {
    return this.layers.map((l) => l.name);
  }

  /** A style, a layer (friendly or tensor name) or `layer:N`; "" is the first style. Throws with the valid names. */
  resolve(name: string): DreamStyle {
    const wanted = name.trim().toLowerCase();
    if (wanted === '') return this.styles[0]!;
    const style = this.styles.find((s) => s.name === wanted);
    if (style) return style;
    const colon = wanted.lastIndexOf(':');
    if (colon > 0) {
      const layer = this.findLayer(wanted.slice(0, colon));
      const text = wanted.slice(colon + 1);
      const channel = /^\d+$/.test(text) ? Number(text) : NaN;
      if (!layer) throw new Error(`unknown dream layer '${name.slice(0, colon)}'; ${this.valid()}`);
      const count = layer.channels;
      if (!Number.isInteger(channel) || (count !== undefined && channel >= count)) {
        throw new Error(`'${name}': ${layer.name} has channels 0-${count === undefined ? 'N' : count - 1}; give LAYER:N with N a channel number`);
      }
      return this.channel(layer, channel);
    }
    const layer = this.findLayer(wanted);
    if (layer) return this.layer(layer);
    throw new Error(`unknown dream style '${name}'; ${this.valid()}`);
  }

  /**
   * A guided dream's objective: matching a guide's features at a layer. `name` is a layer
   * (friendly or tensor name); '' or a curated style means the network's guide layer
   * (manifest dream.guideLayer, else the middle layer). Throws with the valid layers.
   */
  guide(name: string): DreamStyle {
    const wanted = name.trim().toLowerCase();
    const named = wanted === '' || this.styles.some((s) => s.kind === 'style' && s.name === wanted) ? null : this.findLayer(wanted);
    if (wanted !== '' && !named && !this.styles.some((s) => s.name === wanted)) throw new Error(`unknown dream layer '${name}' for a guide; layers: ${this.layerNames().join(', ')}`);
    const fallback = this.manifest.dream?.guideLayer;
    const layer = named ?? (fallback ? this.findLayer(fallback.toLowerCase()) : undefined) ?? this.layers[Math.floor(this.layers.length / 2)]!;
    return {
      name: `guide@${layer.name}`,
      description: `toward a guide picture's features at ${layer.name}`,
      kind: 'guide',
      spec: this.spec({ kind: 'guide', tensor: layer.tensor }),
      tuning: GUIDE_TUNING,
    };
  }

  /** resolve() that answers undefined instead of throwing. */
  find(name: string): DreamStyle | undefined {
    try {
      return this.resolve(name);
    } catch {
      return undefined;
    }
  }

  /** "styles: a, b; layers: c, d, ...; or LAYER:N for one channel" */
  valid(): string {
    const styles = this.manifest.dream?.styles?.length ? `styles: ${this.styles.map((s) => s.name).join(', ')}; ` : '';
    return `${styles}layers: ${this.layerNames().join(', ')}; or LAYER:N for channel N of a layer`;
  }

  /** Lines for help texts: each style and layer with what it paints. */
  describe(): string[] {
    const lines: string[] = [];
    if (this.manifest.dream?.styles?.length) {
      lines.push(`styles of ${this.id} (the first is the default):`);
      for (const s of this.styles) lines.push(`  ${s.name.padEnd(12)} ${s.description ?? ''}`.trimEnd());
    }
    lines.push(`layers of ${this.id} (LAYER:N dreams channel N of one):`);
    for (const l of this.layers) lines.push(`  ${l.name.padEnd(12)} ${(l.channels ? `${l.channels} ch.` : '').padEnd(9)} ${l.description ?? ''}`.trimEnd());
    return lines;
  }

  private findLayer(name: string): Layer | undefined {
    return this.layers.find((l) => l.name.toLowerCase() === name) ?? this.layers.find((l) => l.tensor.toLowerCase() === name);
  }

  private spec(objective: Objective): DreamNetSpec {
    const dream = this.manifest.dream!;
    return { file: join(this.dir, dream.file), input: dream.input, range: dream.range, objective };
  }

  private layer(l: Layer): DreamStyle {
    return { name: l.name, ...(l.description ? { description: l.description } : {}), kind: 'layer', spec: this.spec({ kind: 'layer', tensor: l.tensor }), tuning: {} };
  }

  private channel(l: Layer, channel: number): DreamStyle {
    return { name: `${l.name}:${channel}`, description: `channel ${channel} of ${l.name}`, kind: 'channel', spec: this.spec({ kind: 'layer', tensor: l.tensor, channel }), tuning: {} };
  }

  private curated(s: DreamStyleEntry): DreamStyle {
    const terms: LayerTerm[] = s.terms.map((t) => {
      const layer = this.findLayer(t.layer.toLowerCase());
      if (!layer) throw new Error(`style '${s.name}' of model '${this.id}' names an unknown layer '${t.layer}'`);
      return { tensor: layer.tensor, ...(t.channel !== undefined ? { channel: t.channel } : {}), ...(t.weight !== undefined ? { weight: t.weight } : {}) };
    });
    const only = terms.length === 1 && (terms[0]!.weight ?? 1) === 1 ? terms[0]! : null;
    const objective: Objective = only ? { kind: 'layer', tensor: only.tensor, ...(only.channel !== undefined ? { channel: only.channel } : {}) } : { kind: 'mix', terms };
    const { iterations, step, octaves, octaveScale, liveStep } = s;
    const tuning: StyleTuning = Object.fromEntries(Object.entries({ iterations, step, octaves, octaveScale, liveStep }).filter(([, v]) => v !== undefined));
    return { name: s.name, ...(s.description ? { description: s.description } : {}), kind: 'style', spec: this.spec(objective), tuning };
  }
}
