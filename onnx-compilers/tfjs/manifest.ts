/**
 * manifest.json for a converted model, in the shape common/manifest.ts defines (the
 * server's registry reads it): files, inputs/outputs with value ranges, the layers the
 * dream passes may target, licence; plus what only a conversion knows (source, timing).
 */
import type { Dim, TensorInfo } from './graph.js';

/** The kinds of common/manifest.ts a converted network can be. */
export type ModelKind = 'classifier' | 'upscaler' | 'embedder' | 'detector';
export const MODEL_KINDS: readonly ModelKind[] = ['classifier', 'upscaler', 'embedder', 'detector'];

/** A fixed size, or a formula in the input's free sizes: "H*4", "ceil(W/16)". */
export type ShapeDim = number | string;

export interface TensorSpec {
  name: string;
  dims: ShapeDim[];
  dtype: 'float32';
  range?: [number, number];
  layout?: string;
  description?: string;
}

export interface ModelFile {
  path: string;
  role: string;
  format: string;
  bytes: number;
  sha256: string;
  opset?: number;
}

export interface DreamLayer {
  /** A short name for people (VJ, controller page). */
  name: string;
  /** The ONNX tensor, named after the Keras layer that produced it. */
  tensor: string;
  channels: number;
  description: string;
}

export interface ConvertedManifest {
  id: string;
  name: string;
  description: string;
  kind: ModelKind;
  files: ModelFile[];
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  dream?: { file: string; input: string; range: [number, number]; layers: DreamLayer[] };
  licence: { model: string };
  /** Input sizes the network takes. */
  imageSize: {
    /** The size the source network was built for, if it declares one. */
    native: [number, number] | null;
    /** Any height/width works (fully convolutional); else only `native`. */
    dynamic: boolean;
    /** Total downsampling: sizes divisible by it keep every layer's grid aligned. */
    multipleOf: number;
  };
  /** Upscalers: output size / input size. */
  scale?: number;
  /** Classifiers: class count, and the label file (one name a line, in output order) when the source has one. */
  classes?: number;
  labels?: string;
  source: { from: string; kerasVersion: string | null; generatedBy: string | null; convertedBy: string | null };
  conversion: {
    tool: 'portraits convert';
    created: string;
    seconds: number;
    parameters: number;
    foldedBatchNorms: number;
    warnings: string[];
  };
}

export const BATCH = 'N';

/** The ONNX graph dims of a tensor: batch, then C, H, W (or features). */
export function dimsOf(t: TensorInfo): ShapeDim[] {
  const dim = (d: Dim): ShapeDim => (/^\d+$/.test(d.text) ? Number(d.text) : d.text);
  return t.rank === 2 ? [BATCH, t.channels] : [BATCH, t.channels, dim(t.h!), dim(t.w!)];
}

/** Classifier if it ends in a vector, upscaler if it returns a larger image of the same channels. */
export function inferKind(input: TensorInfo, output: TensorInfo, probe: number): ModelKind | null {
  if (output.rank === 2) return 'classifier';
  if (output.channels === input.channels && output.h!.at(probe) > input.h!.at(probe)) return 'upscaler';
  return null;
}
