/**
 * What every layer translation gets: the graph to add to, the weights, the batch-norm
 * folding plan, and typed readers for the layer's Keras config.
 */
import { UnsupportedLayerError } from '../errors.js';
import type { GraphBuilder, TensorInfo } from '../graph.js';
import type { KerasLayer } from '../keras-model.js';
import { pair } from '../layout.js';
import type { WeightStore } from '../read-tfjs.js';

export interface LayerContext {
  graph: GraphBuilder;
  weights: WeightStore;
  /** The BatchNormalization layer to fold into this conv layer's weights, if any. */
  foldedBatchNorm(convLayer: string): KerasLayer | undefined;
  /** True for a BatchNormalization layer that a conv already absorbed. */
  isFolded(bnLayer: string): boolean;
}

/** Translates one Keras layer; returns the tensor that stands for its output. */
export type LayerConverter = (layer: KerasLayer, inputs: TensorInfo[], ctx: LayerContext) => TensorInfo;

/** Typed access to a layer's config that fails with the layer's name and type. */
export class LayerConfig {
  constructor(readonly layer: KerasLayer) {}

  unsupported(reason: string): UnsupportedLayerError {
    return new UnsupportedLayerError(this.layer.className, this.layer.name, reason);
  }

  raw(key: string): unknown {
    return this.layer.config[key];
  }

  num(key: string, fallback?: number): number {
    const v = this.layer.config[key] ?? fallback;
    if (typeof v !== 'number') throw this.unsupported(`config ${key} is ${JSON.stringify(v)}, expected a number`);
    return v;
  }

  str(key: string, fallback?: string): string {
    const v = this.layer.config[key] ?? fallback;
    if (typeof v !== 'string') throw this.unsupported(`config ${key} is ${JSON.stringify(v)}, expected a string`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.layer.config[key] ?? fallback;
    if (typeof v !== 'boolean') throw this.unsupported(`config ${key} is ${JSON.stringify(v)}, expected true/false`);
    return v;
  }

  pair(key: string, fallback?: [number, number]): [number, number] {
    const v = this.layer.config[key] ?? fallback;
    try {
      return pair(v, key);
    } catch (err) {
      throw this.unsupported((err as Error).message);
    }
  }

  /** Refuses channels_first layers: the converter maps NHWC semantics only. */
  channelsLast(): void {
    const f = this.layer.config.data_format;
    if (f !== undefined && f !== null && f !== 'channels_last') throw this.unsupported(`data_format ${String(f)} is not supported (channels_last only)`);
  }

  /** 'same' or 'valid'. */
  padding(): 'same' | 'valid' {
    const p = this.str('padding', 'valid');
    if (p !== 'same' && p !== 'valid') throw this.unsupported(`padding '${p}' is not supported`);
    return p;
  }
}

export function one(layer: KerasLayer, inputs: TensorInfo[]): TensorInfo {
  if (inputs.length !== 1) throw new UnsupportedLayerError(layer.className, layer.name, `expected one input, got ${inputs.length}`);
  return inputs[0]!;
}

export function image(layer: KerasLayer, x: TensorInfo): Required<TensorInfo> {
  if (x.rank !== 4 || !x.h || !x.w) throw new UnsupportedLayerError(layer.className, layer.name, 'expects an image tensor [batch, height, width, channels]');
  return x as Required<TensorInfo>;
}
