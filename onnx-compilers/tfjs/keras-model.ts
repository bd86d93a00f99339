/**
 * The Keras topology inside a TF.js layers model.json, flattened to one shape whatever
 * wrote it (Keras 2.1 "Model", Keras 2.x "Functional", "Sequential", tfjs-layers' own save):
 * a list of layers in topological order, each naming the layers it reads from.
 */
import { ConvertError } from './errors.js';

export interface KerasLayer {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** Names of the layers whose (single) output this layer reads, in argument order. */
  inputs: string[];
}

export interface KerasModel {
  name: string;
  layers: KerasLayer[];
  inputLayer: string;
  outputLayers: string[];
  /** [batch, height, width, channels] as Keras declared it; null marks a free size. */
  inputShape: (number | null)[];
  kerasVersion: string | null;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const MODEL_CLASSES = new Set(['Model', 'Functional', 'Sequential']);

/** Parses `modelTopology` from model.json. */
export function parseKerasModel(topology: unknown): KerasModel {
  if (!isObject(topology)) throw new ConvertError('model.json has no modelTopology object (is this a TF.js graph model? only layers models are supported)');
  const modelConfig = isObject(topology.model_config) ? topology.model_config : topology;
  const className = String(modelConfig.class_name ?? '');
  const kerasVersion = typeof topology.keras_version === 'string' ? topology.keras_version : null;
  if (className === 'Sequential') return { ...parseSequential(modelConfig.config), kerasVersion };
  if (className === 'Model' || className === 'Functional') return { ...parseFunctional(modelConfig.config), kerasVersion };
  throw new ConvertError(`unsupported model class '${className}' (expected Model, Functional or Sequential)`);
}

function layerBase(raw: unknown, where: string): Omit<KerasLayer, 'inputs'> {
  if (!isObject(raw) || typeof raw.class_name !== 'string' || !isObject(raw.config)) {
    throw new ConvertError(`${where}: layer entry without class_name/config`);
  }
  const name = typeof raw.name === 'string' ? raw.name : String(raw.config.name ?? '');
  if (!name) throw new ConvertError(`${where}: a ${raw.class_name} layer has no name`);
  if (MODEL_CLASSES.has(raw.class_name)) {
    throw new ConvertError(`layer '${name}' is a nested ${raw.class_name}; nested models are not supported (flatten it in Keras first)`);
  }
  return { name, className: raw.class_name, config: raw.config };
}

function parseFunctional(config: unknown): Omit<KerasModel, 'kerasVersion'> {
  if (!isObject(config) || !Array.isArray(config.layers)) throw new ConvertError('functional model config has no layers list');
  const layers = config.layers.map((raw): KerasLayer => {
    const base = layerBase(raw, 'model');
    const inbound = (raw as Json).inbound_nodes;
    return { ...base, inputs: inboundNames(base.name, inbound) };
  });
  const refs = (v: unknown, what: string): string[] => {
    if (!Array.isArray(v) || v.length === 0) throw new ConvertError(`functional model config has no ${what}`);
    return v.map((r) => {
      if (!Array.isArray(r) || typeof r[0] !== 'string') throw new ConvertError(`unreadable ${what} entry ${JSON.stringify(r)}`);
      if (r[1] !== 0 || r[2] !== 0) throw new ConvertError(`${what} '${r[0]}' uses node ${r[1]}/tensor ${r[2]}; only single-use, single-output layers are supported`);
      return r[0];
    });
  };
  const inputs = refs(config.input_layers, 'input_layers');
  if (inputs.length !== 1) throw new ConvertError(`the model has ${inputs.length} inputs (${inputs.join(', ')}); only single-image models are supported`);
  const inputLayer = inputs[0]!;
  const input = layers.find((l) => l.name === inputLayer);
  if (!input) throw new ConvertError(`input layer '${inputLayer}' is not among the layers`);
  return {
    name: String(config.name ?? 'model'),
    layers: topologicalOrder(layers),
    inputLayer,
    outputLayers: refs(config.output_layers, 'output_layers'),
    inputShape: batchInputShape(input),
  };
}

/** Keras 2 inbound_nodes: [[[layer, nodeIndex, tensorIndex, kwargs], ...]] with one call per layer. */
function inboundNames(layer: string, inbound: unknown): string[] {
  if (!Array.isArray(inbound) || inbound.length === 0) return [];
  if (inbound.length > 1) throw new ConvertError(`layer '${layer}' is called ${inbound.length} times (shared layers are not supported)`);
  const call = inbound[0];
  if (!Array.isArray(call)) {
    throw new ConvertError(`layer '${layer}': inbound_nodes in an unknown format (Keras 3 files are not supported; save with Keras 2 / tfjs)`);
  }
  return call.map((ref) => {
    if (!Array.isArray(ref) || typeof ref[0] !== 'string') throw new ConvertError(`layer '${layer}': unreadable inbound node ${JSON.stringify(ref)}`);
    if (ref[1] !== 0 || ref[2] !== 0) {
      throw new ConvertError(`layer '${layer}' reads output ${ref[2]} of call ${ref[1]} of '${ref[0]}'; only single-use, single-output layers are supported`);
    }
    if (isObject(ref[3]) && Object.keys(ref[3]).length > 0) {
      throw new ConvertError(`layer '${layer}' is called with arguments ${JSON.stringify(ref[3])}, which the converter cannot honour`);
    }
    return ref[0];
  });
}

function parseSequential(config: unknown): Omit<KerasModel, 'kerasVersion'> {
  const list = Array.isArray(config) ? config : isObject(config) && Array.isArray(config.layers) ? config.layers : null;
  if (!list || list.length === 0) throw new ConvertError('sequential model config has no layers');
  const name = isObject(config) && typeof config.name === 'string' ? config.name : 'sequential';
  const bases = list.map((raw) => layerBase(raw, 'sequential model'));
  const layers: KerasLayer[] = [];
  let first = bases[0]!;
  if (first.className !== 'InputLayer') {
    // Older Sequential files put batch_input_shape on the first real layer instead of an InputLayer.
    const shape = first.config.batch_input_shape;
    if (!Array.isArray(shape)) throw new ConvertError(`sequential model: first layer '${first.name}' declares no batch_input_shape`);
    first = { name: `${name}_input`, className: 'InputLayer', config: { batch_input_shape: shape } };
    layers.push({ ...first, inputs: [] });
  }
  for (const base of bases) {
    if (base === first) layers.push({ ...base, inputs: [] });
    else layers.push({ ...base, inputs: [layers[layers.length - 1]!.name] });
  }
  return { name, layers, inputLayer: first.name, outputLayers: [layers[layers.length - 1]!.name], inputShape: batchInputShape(layers[0]!) };
}

function batchInputShape(input: KerasLayer): (number | null)[] {
  if (input.className !== 'InputLayer') throw new ConvertError(`model input '${input.name}' is a ${input.className}, expected an InputLayer`);
  const shape = input.config.batch_input_shape ?? input.config.batch_shape;
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new ConvertError(`input '${input.name}' has shape ${JSON.stringify(shape)}; only image inputs [batch, height, width, channels] are supported`);
  }
  if (input.config.data_format === 'channels_first') throw new ConvertError(`input '${input.name}' is channels_first; only channels_last Keras models are supported`);
  return shape.map((d) => (typeof d === 'number' ? d : null));
}

/** Keras lists layers in creation order, which is usually but not always topological. */
function topologicalOrder(layers: KerasLayer[]): KerasLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: KerasLayer[] = [];
  const visit = (l: KerasLayer): void => {
    if (done.has(l.name)) return;
    if (visiting.has(l.name)) throw new ConvertError(`layer '${l.name}' is part of a cycle`);
    visiting.add(l.name);
    for (const i of l.inputs) {
      const dep = byName.get(i);
      if (!dep) throw new ConvertError(`layer '${l.name}' reads from unknown layer '${i}'`);
      visit(dep);
    }
    visiting.delete(l.name);
    done.add(l.name);
    out.push(l);
  };
  layers.forEach(visit);
  return out;
}
