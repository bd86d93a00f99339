/** Keras pooling layers as ONNX MaxPool / AveragePool / Global*Pool. */
import { paddingAttrs, samePadding } from '../layout.js';
import { windowDim } from './conv.js';
import { image, LayerConfig, one, type LayerConverter } from './context.js';

function pool(onnxOp: 'MaxPool' | 'AveragePool'): LayerConverter {
  return (layer, inputs, ctx) => {
    const c = new LayerConfig(layer);
    c.channelsLast();
    const x = image(layer, one(layer, inputs));
    const size = c.pair('pool_size', [2, 2]);
    const strides = c.raw('strides') == null ? size : c.pair('strides');
    const padding = c.padding();
    // Padded cells never win a TF max and never count in a TF average: ONNX's defaults
    // (MaxPool ignores pads, AveragePool count_include_pad=0) do the same.
    const pads = padding === 'same' ? paddingAttrs(samePadding(size, strides)) : {};
    ctx.graph.op(onnxOp, [x.name], layer.name, { kernel_shape: size, strides, ...pads });
    return { ...x, name: layer.name, h: windowDim(x.h, padding, size[0], strides[0]), w: windowDim(x.w, padding, size[1], strides[1]) };
  };
}

function globalPool(onnxOp: 'GlobalAveragePool' | 'GlobalMaxPool'): LayerConverter {
  return (layer, inputs, ctx) => {
    const c = new LayerConfig(layer);
    c.channelsLast();
    const x = image(layer, one(layer, inputs));
    const g = ctx.graph;
    if (c.bool('keepdims', false)) {
      g.op(onnxOp, [x.name], layer.name);
      const unit = { text: '1', at: () => 1 };
      return { ...x, name: layer.name, h: unit, w: unit };
    }
    g.op('Flatten', [g.op(onnxOp, [x.name], g.fresh(`${layer.name}/pooled`))], layer.name, { axis: 1 });
    return { name: layer.name, rank: 2, channels: x.channels };
  };
}

export const MaxPooling2D = pool('MaxPool');
export const AveragePooling2D = pool('AveragePool');
export const GlobalAveragePooling2D = globalPool('GlobalAveragePool');
export const GlobalMaxPooling2D = globalPool('GlobalMaxPool');
