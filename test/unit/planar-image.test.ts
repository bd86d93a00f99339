import { describe, expect, it } from 'vitest';
import { clamp01, unitFromRange } from '../../server/image/planar-image.js';

describe('PlanarImage values', () => {
  it('clamp01 holds a value to [0, 1]', () => {
    expect([-2, -0, 0, 0.25, 1, 1.5, Infinity, -Infinity].map(clamp01)).toEqual([0, -0, 0, 0.25, 1, 1, 1, 0]);
  });

  it('unitFromRange maps a network range onto [0, 1] and clamps what falls outside', () => {
    expect([...unitFromRange(new Float32Array([-1, 0, 1, 3, -5]), [-1, 1])]).toEqual([0, 0.5, 1, 1, 0]);
    expect([...unitFromRange([0, 127.5, 255], [0, 255])]).toEqual([0, 0.5, 1]);
  });
});
