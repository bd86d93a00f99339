/**
 * Typed reads of node attributes on top of the proto doorway's `attr`, so rules say
 * `ints(node, 'strides', [1, 1])` and get numbers, with a clear error on a type mismatch.
 */
import { attr, type NodeProto } from '../proto.js';

export function describe(node: NodeProto): string {
  return `op '${node.opType}' (node '${node.name || node.output?.[0] || '?'}')`;
}

export function nodeError(node: NodeProto, message: string): Error {
  return new Error(`dream-graph: ${describe(node)}: ${message}`);
}

export function int(node: NodeProto, name: string, fallback: number): number {
  const v = attr(node, name, fallback);
  if (typeof v !== 'number') throw nodeError(node, `attribute '${name}' should be an int`);
  return v;
}

export function float(node: NodeProto, name: string, fallback: number): number {
  return int(node, name, fallback);
}

export function ints(node: NodeProto, name: string, fallback: readonly number[]): number[] {
  const v = attr(node, name, null);
  if (v === null) return [...fallback];
  if (!Array.isArray(v)) throw nodeError(node, `attribute '${name}' should be a list of ints`);
  return v;
}

export function str(node: NodeProto, name: string, fallback: string): string {
  const v = attr(node, name, fallback);
  if (typeof v !== 'string') throw nodeError(node, `attribute '${name}' should be a string`);
  return v;
}

export function hasAttr(node: NodeProto, name: string): boolean {
  return node.attribute?.some((a) => a.name === name) ?? false;
}
