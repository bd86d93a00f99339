/**
 * Reads a TF.js layers model from disk: model.json (Keras topology + weightsManifest)
 * and the binary shards it lists, into a parsed topology and named float32 weights.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConvertError } from './errors.js';
import { parseKerasModel, type KerasModel } from './keras-model.js';

export interface Weight {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface TfjsModel {
  model: KerasModel;
  weights: WeightStore;
  /** model.json's own notes: format, generatedBy, convertedBy. */
  format: string | null;
  generatedBy: string | null;
  convertedBy: string | null;
}

export type ShardProgress = (done: number, total: number) => void;

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

export async function readTfjsModel(modelJsonPath: string, onShard?: ShardProgress): Promise<TfjsModel> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ConvertError(`cannot read ${modelJsonPath}: ${(err as Error).message}`);
  }
  if (json.format === 'graph-model') throw new ConvertError(`${modelJsonPath} is a TF.js graph model; only layers models are supported`);
  const model = parseKerasModel(json.modelTopology);
  const groups = json.weightsManifest;
  if (!Array.isArray(groups)) throw new ConvertError(`${modelJsonPath} has no weightsManifest`);
  const weights = await readShards(dirname(modelJsonPath), groups as WeightGroup[], onShard);
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return { model, weights, format: str(json.format), generatedBy: str(json.generatedBy), convertedBy: str(json.convertedBy) };
}

async function readShards(dir: string, groups: WeightGroup[], onShard?: ShardProgress): Promise<WeightStore> {
  const total = groups.reduce((n, g) => n + g.paths.length, 0);
  let done = 0;
  const out: Weight[] = [];
  for (const group of groups) {
    const parts: Buffer[] = [];
    for (const p of group.paths) {
      try {
        parts.push(await readFile(join(dir, p)));
      } catch (err) {
        throw new ConvertError(`weight shard ${p} listed in model.json cannot be read: ${(err as Error).message}`);
      }
      onShard?.(++done, total);
    }
    // A group's shards are one byte stream cut into files; its weights follow each other in it.
    const bytes = Buffer.concat(parts);
    let offset = 0;
    for (const spec of group.weights) {
      if (spec.quantization) throw new ConvertError(`weight ${spec.name} is quantized; re-export the model without quantization`);
      if (spec.dtype !== 'float32') throw new ConvertError(`weight ${spec.name} has dtype ${spec.dtype}; only float32 weights are supported`);
      const count = spec.shape.reduce((a, b) => a * b, 1);
      const end = offset + count * 4;
      if (end > bytes.length) throw new ConvertError(`weight ${spec.name} runs past the end of shards ${group.paths.join(', ')}`);
      // Copy into an aligned buffer: Buffer slices may start at any byte.
      const data = new Float32Array(count);
      new Uint8Array(data.buffer).set(bytes.subarray(offset, end));
      out.push({ name: spec.name, shape: [...spec.shape], data });
      offset = end;
    }
  }
  return new WeightStore(out);
}

/** Weights by Keras variable name ("conv2d_1/kernel"); remembers which were used. */
export class WeightStore {
  private readonly byName = new Map<string, Weight>();
  private readonly used = new Set<string>();

  constructor(weights: readonly Weight[]) {
    for (const w of weights) this.byName.set(w.name, w);
  }

  has(layer: string, param: string): boolean {
    return this.find(layer, param) !== undefined;
  }

  /** The weight `param` of `layer`, checked against the shape the layer config implies. */
  get(layer: string, param: string, shape: readonly number[]): Weight {
    const w = this.find(layer, param);
    if (!w) throw new ConvertError(`weight ${layer}/${param} is missing from the weights manifest`);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new ConvertError(`weight ${w.name} has shape [${w.shape}], but layer '${layer}' needs [${shape}]`);
    }
    this.used.add(w.name);
    return w;
  }

  /** Names of weights no layer asked for: a sign of a layer the converter misread. */
  unused(): string[] {
    return [...this.byName.keys()].filter((n) => !this.used.has(n));
  }

  private find(layer: string, param: string): Weight | undefined {
    const exact = this.byName.get(`${layer}/${param}`);
    if (exact) return exact;
    // Some exporters prefix the model's scope ("generator/F_0/kernel") or suffix ":0".
    const suffix = `/${layer}/${param}`;
    const matches = [...this.byName.values()].filter((w) => {
      const n = w.name.replace(/:0$/, '');
      return n === `${layer}/${param}` || n.endsWith(suffix);
    });
    if (matches.length > 1) throw new ConvertError(`weight ${layer}/${param} is ambiguous: ${matches.map((m) => m.name).join(', ')}`);
    return matches[0];
  }
}
