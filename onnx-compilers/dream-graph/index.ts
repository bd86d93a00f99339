/** The dream-graph compiler: DeepDream gradients inside an ONNX graph, for onnxruntime. */
export { compileDreamGraph, compileFeatureGraph, type CompileOptions } from './compile.js';
export { listDreamLayers, type DreamLayer } from './layers.js';
export { describeObjective, objectiveTerms, type LayerTerm, type Objective, type SingleObjective } from './objective.js';
export { SUPPORTED_OPS } from './backward/index.js';
