/** The backward rule of every op the compiler can differentiate, by op type. */
import * as act from './activation.js';
import { conv } from './conv.js';
import * as ew from './elementwise.js';
import { gemm, matMul } from './linear.js';
import { batchNormalization } from './normalization.js';
import { averagePool, globalAveragePool, globalMaxPool, maxPool } from './pool.js';
import { resize } from './resize.js';
import { logSoftmax, softmax } from './softmax.js';
import * as tensor from './tensor.js';
import type { BackwardRule } from './types.js';

export const RULES: Readonly<Record<string, BackwardRule>> = {
  Conv: conv,
  Relu: act.relu,
  LeakyRelu: act.leakyRelu,
  PRelu: act.prelu,
  Clip: act.clip,
  Sigmoid: act.sigmoid,
  Tanh: act.tanh,
  Identity: act.passThrough,
  Dropout: act.passThrough,
  Cast: act.passThrough,
  Neg: act.neg,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  GlobalMaxPool: globalMaxPool,
  BatchNormalization: batchNormalization,
  Add: ew.add,
  Sum: ew.add,
  Sub: ew.sub,
  Mul: ew.mul,
  Div: ew.div,
  Max: ew.max,
  Min: ew.min,
  Concat: tensor.concat,
  Split: tensor.split,
  Slice: tensor.slice,
  Pad: tensor.pad,
  Reshape: tensor.reshape,
  Flatten: tensor.reshape,
  Squeeze: tensor.reshape,
  Unsqueeze: tensor.reshape,
  Transpose: tensor.transpose,
  Resize: resize,
  Gemm: gemm,
  MatMul: matMul,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
};

export const SUPPORTED_OPS: readonly string[] = Object.keys(RULES).sort();

export type { BackwardRule, RuleContext } from './types.js';
