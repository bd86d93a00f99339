/** The dream-graph compiler: DeepDream gradients inside an ONNX graph, for onnxruntime. */
export { compileDreamGraph, type CompileOptions } from './compile.js';
export { listDreamLayers, type DreamLayer } from './layers.js';
export type { Objective } from './objective.js';
export { SUPPORTED_OPS } from './backward/index.js';
