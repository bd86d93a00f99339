/**
 * The OSC address space is derived from the state schema: every leaf has an address,
 * keys added later appear by themselves, and what an address decodes to is exactly
 * what the store's own schema accepts.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CommandSchema } from '../../common/protocol.js';
import { DEFAULT_STATE, PatchSchema, StateSchema, mergeState, type LiveState } from '../../common/state.js';
import { argsToPatch, buildAddressSpace, coerceArg, paramArgs, shortestFloat32, typeTags, type InArg, type OscParam } from '../../server/osc/address-space.js';

/** Leaf paths of a state object, found by walking the value (not the schema), as an independent check. */
function leafPaths(value: unknown, path: string[] = []): string[][] {
  if (value && typeof value === 'object' && !Array.isArray(value)) return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]));
  return [path];
}

const state = structuredClone(DEFAULT_STATE) as LiveState;
const decode = (param: OscParam, types: string, ...args: InArg[]) => argsToPatch(param, args, types, state);

describe('address space from the state schema', () => {
  const space = buildAddressSpace();

  it('gives every state leaf an address /portraits/<path>, and maps everything', () => {
    expect(space.unmapped).toEqual([]);
    // The modulation matrix's routes and LFOs and the MIDI mappings are lists of records, edited at their service addresses.
    const serviced = ['modulation.routes', 'modulation.lfos', 'midi.mappings'];
    expect(space.services.map((s) => s.address)).toEqual(expect.arrayContaining(['/portraits/mod/route', '/portraits/mod/lfo', '/portraits/midi/clear']));
    const leaves = leafPaths(DEFAULT_STATE).filter((p) => !serviced.includes(p.join('.')));
    for (const path of leaves) {
      const param = space.param(`/portraits/${path.join('/')}`);
      expect(param, path.join('.')).toBeDefined();
      expect(param!.paths).toEqual([path]);
    }
    // one address per leaf, plus the XY pair and the named-directions map (empty by default)
    expect(space.param('/portraits/directions')!.shape).toBe('map');
    expect(space.params.length).toBe(leaves.length + 2);
  });

  it('includes the documented examples with the right types', () => {
    const tags = (a: string) => typeTags(space.param(a)!, state);
    expect(tags('/portraits/walk/speed')).toBe('f');
    expect(tags('/portraits/mode')).toBe('s');
    expect(tags('/portraits/plane/x')).toBe('f');
    expect(tags('/portraits/plane/xy')).toBe('ff');
    expect(tags('/portraits/loop/seeds')).toBe('i'.repeat(DEFAULT_STATE.loop.seeds.length));
    expect(tags('/portraits/display/blackout')).toBe('f');
    expect(tags('/portraits/visitorLock')).toBe('T');
    expect(tags('/portraits/seed')).toBe('i');
    expect(space.command('/portraits/newFace')?.command).toEqual({ type: 'newFace' });
  });

  it('reads ranges from the schema', () => {
    expect(space.param('/portraits/walk/speed')!.args[0]).toMatchObject({ kind: 'float', min: 0, max: 2 });
    expect(space.param('/portraits/mode')!.args[0]!.values).toEqual(StateSchema.shape.mode.options);
    expect(space.param('/portraits/loop/seeds')!.count).toEqual({ min: 1, max: 64 });
  });

  it('round-trips every address: its current value decodes to a patch the store schema accepts, changing nothing', () => {
    // a direction set, so the named-values map has something to say
    const state = { ...DEFAULT_STATE, directions: { age: 0.25, smile: -0.5 } } as LiveState;
    for (const param of space.params) {
      const args = paramArgs(param, state);
      const r = argsToPatch(param, args.map((a) => a.value), args.map((a) => a.type).join(''), state);
      expect(r.ok, param.address).toBe(true);
      if (!r.ok) continue;
      expect(PatchSchema.safeParse(r.patch).success, param.address).toBe(true);
      expect(mergeState(state, r.patch)).toEqual(state);
    }
  });

  it('picks up keys added to the schema later, at any depth, without listing them', () => {
    const Extended = StateSchema.extend({
      upscale: z.object({ stage: z.enum(['off', '2x', '4x']) }),
      directions: z.object({ age: z.number().min(-3).max(3), smile: z.number().min(-3).max(3) }),
      deep: z.object({ inner: z.object({ a: z.number().int().min(0).max(9), b: z.boolean() }) }),
      weights: z.array(z.number().min(0).max(1)).max(8),
    });
    const Commands = z.discriminatedUnion('type', [...CommandSchema.options, z.object({ type: z.literal('snapshot') })]);
    const extended = buildAddressSpace(Extended, Commands);
    expect(extended.unmapped).toEqual([]);
    expect(extended.param('/portraits/upscale/stage')!.args[0]!.values).toEqual(['off', '2x', '4x']);
    expect(extended.param('/portraits/directions/age')!.args[0]).toMatchObject({ kind: 'float', min: -3, max: 3 });
    expect(extended.param('/portraits/weights')!.count).toEqual({ min: 0, max: 8 });
    expect(extended.command('/portraits/snapshot')).toBeDefined();
    // A key three levels deep carries its siblings, because patches merge one level deep.
    const deepState = { ...state, deep: { inner: { a: 3, b: true } } } as unknown as LiveState;
    const r = argsToPatch(extended.param('/portraits/deep/inner/a')!, [7], 'i', deepState);
    expect(r).toEqual({ ok: true, patch: { deep: { inner: { a: 7, b: true } } } });
  });

  it('reports what it cannot map instead of dropping it silently', () => {
    const odd = buildAddressSpace(StateSchema.extend({ tags: z.record(z.string(), z.object({ a: z.number() })) }));
    expect(odd.unmapped.join('\n')).toMatch(/^tags: /);
    expect(odd.param('/portraits/tags')).toBeUndefined();
  });
});

describe('decoding arguments', () => {
  const space = buildAddressSpace();
  const speed = space.param('/portraits/walk/speed')!;
  const seed = space.param('/portraits/seed')!;
  const lock = space.param('/portraits/visitorLock')!;
  const mode = space.param('/portraits/mode')!;
  const seeds = space.param('/portraits/loop/seeds')!;
  const xy = space.param('/portraits/plane/xy')!;

  it('accepts numbers of any OSC numeric type where they fit', () => {
    expect(decode(speed, 'f', Math.fround(0.7))).toEqual({ ok: true, patch: { walk: { speed: 0.7 } } });
    expect(decode(speed, 'd', 0.123456789)).toEqual({ ok: true, patch: { walk: { speed: 0.123456789 } } });
    expect(decode(speed, 'i', 1)).toEqual({ ok: true, patch: { walk: { speed: 1 } } });
    expect(decode(seed, 'h', 12345n)).toEqual({ ok: true, patch: { seed: 12345 } });
    expect(decode(seed, 'f', 3)).toEqual({ ok: true, patch: { seed: 3 } });
  });

  it.each([
    ['a string for a float', speed, 's', ['fast']],
    ['a fractional integer', seed, 'f', [2.5]],
    ['infinity', speed, 'I', [Infinity]],
    ['nil', speed, 'N', [null]],
    ['a blob', speed, 'b', [new Uint8Array(4)]],
    ['two arguments for one', speed, 'ff', [0.1, 0.2]],
    ['a number for an enum', mode, 'i', [1]],
    ['2 for a boolean', lock, 'i', [2]],
    ['one argument for a pair', xy, 'f', [1]],
    ['too many list elements', seeds, 'i'.repeat(65), Array(65).fill(1)],
    ['a float in an integer list', seeds, 'if', [1, 1.5]],
  ] as const)('refuses %s with a reason', (_name, param, types, args) => {
    const r = decode(param, types, ...(args as InArg[]));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/expects|got/);
  });

  it('leaves ranges to the store: out of range decodes, the schema refuses it', () => {
    const r = decode(speed, 'f', 7);
    expect(r.ok).toBe(true);
    if (r.ok) expect(PatchSchema.safeParse(r.patch).success).toBe(false);
  });

  it('takes T/F and 1/0 for booleans, lists as many arguments, pairs as two', () => {
    expect(decode(lock, 'T', true)).toEqual({ ok: true, patch: { visitorLock: true } });
    expect(decode(lock, 'i', 0)).toEqual({ ok: true, patch: { visitorLock: false } });
    expect(decode(lock, 'f', 1)).toEqual({ ok: true, patch: { visitorLock: true } });
    expect(decode(seeds, 'iii', 5, 6, 7)).toEqual({ ok: true, patch: { loop: { seeds: [5, 6, 7] } } });
    expect(decode(xy, 'ff', 3, 4.5)).toEqual({ ok: true, patch: { plane: { x: 3, y: 4.5 } } });
  });

  it('stores a float32 as its shortest decimal', () => {
    expect(shortestFloat32(Math.fround(0.7))).toBe(0.7);
    expect(shortestFloat32(Math.fround(0.15))).toBe(0.15);
    expect(shortestFloat32(Math.fround(1 / 3))).toBe(0.33333334);
    expect(coerceArg({ kind: 'float' }, Math.fround(0.1), 'd')).toEqual({ ok: true, value: Math.fround(0.1) });
  });
});
