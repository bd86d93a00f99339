/** Keras merge layers (Add, Multiply, Concatenate, ...) as ONNX element-wise ops and Concat. */
import type { TensorInfo } from '../graph.js';
import { nchwAxis } from '../layout.js';
import { LayerConfig, type LayerConverter } from './context.js';

function needTwo(c: LayerConfig, inputs: TensorInfo[]): void {
  if (inputs.length < 2) throw c.unsupported(`expected at least two inputs, got ${inputs.length}`);
  if (inputs.some((x) => x.rank !== inputs[0]!.rank)) throw c.unsupported('inputs of different ranks');
}

/** The shape of a broadcast result: the input with the most channels and real spatial size. */
const widest = (inputs: TensorInfo[]): TensorInfo => inputs.reduce((a, b) => (b.channels > a.channels || (a.h?.text === '1' && b.h?.text !== '1') ? b : a));

/** Folds n inputs pairwise with a binary ONNX op (plain binary ops suit the dream-graph compiler). */
function elementwise(onnxOp: 'Add' | 'Mul'): LayerConverter {
  return (layer, inputs, ctx) => {
    needTwo(new LayerConfig(layer), inputs);
    const g = ctx.graph;
    let acc = inputs[0]!.name;
    inputs.slice(1).forEach((x, i) => {
      acc = g.op(onnxOp, [acc, x.name], i === inputs.length - 2 ? layer.name : g.fresh(`${layer.name}/${i}`));
    });
    return { ...widest(inputs), name: layer.name };
  };
}

export const Add = elementwise('Add');
export const Multiply = elementwise('Mul');

function variadic(onnxOp: 'Max' | 'Min'): LayerConverter {
  return (layer, inputs, ctx) => {
    needTwo(new LayerConfig(layer), inputs);
    ctx.graph.op(onnxOp, inputs.map((x) => x.name), layer.name);
    return { ...widest(inputs), name: layer.name };
  };
}

export const Maximum = variadic('Max');
export const Minimum = variadic('Min');

export const Average: LayerConverter = (layer, inputs, ctx) => {
  const g = ctx.graph;
  const sum = Add({ ...layer, name: g.fresh(`${layer.name}/sum`) }, inputs, ctx);
  g.op('Mul', [sum.name, g.floats(`${layer.name}/inv_n`, [], [1 / inputs.length])], layer.name);
  return { ...sum, name: layer.name };
};

export const Concatenate: LayerConverter = (layer, inputs, ctx) => {
  const c = new LayerConfig(layer);
  needTwo(c, inputs);
  const rank = inputs[0]!.rank;
  const axis = nchwAxis(c.num('axis', -1), rank);
  if (axis !== 1) throw c.unsupported(`concatenation along Keras axis ${c.num('axis', -1)} is not supported (channels only)`);
  ctx.graph.op('Concat', inputs.map((x) => x.name), layer.name, { axis });
  return { ...inputs[0]!, name: layer.name, channels: inputs.reduce((n, x) => n + x.channels, 0) };
};
