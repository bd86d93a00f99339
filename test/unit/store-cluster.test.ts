/**
 * The store's seam for cluster mode (docs/cluster.md): committed changes reach the commit
 * hooks as validated patches; states from the cluster are adopted through the same
 * validation, notify listeners like any change and are never handed back for replication.
 * And the replication's patch compaction means exactly what applying the patches in order means.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE, mergeState, type LiveState, type StatePatch } from '../../common/state.js';
import { combinePatches } from '../../server/cluster/state-sync.js';
import { Store, type CommittedChange } from '../../server/store.js';

describe('Store.onCommit and Store.adopt', () => {
  it('hands each committed change to the hooks as the patches it applied', () => {
    const store = new Store();
    const changes: CommittedChange[] = [];
    store.onCommit((c) => changes.push(c));
    expect(store.apply({ seed: 5 }, 'tablet').ok).toBe(true);
    expect(store.applyMany([{ patch: { glide: 2 } }, { command: { type: 'newFace' } }], 'osc', 'osc:1.2.3.4:9')).toMatchObject({ ok: true });
    expect(store.apply({ seed: -1 }, 'tablet').ok).toBe(false);
    expect(changes).toHaveLength(2);
    expect(changes[0]).toEqual({ patches: [{ seed: 5 }], source: 'tablet' });
    expect(changes[1]!.source).toBe('osc');
    expect(changes[1]!.origin).toBe('osc:1.2.3.4:9');
    expect(changes[1]!.patches[0]).toEqual({ glide: 2 });
    // The new face is replicated as the concrete seed it drew, not as the command.
    expect(changes[1]!.patches[1]).toEqual({ mode: 'walk', walk: { seed: store.state.walk.seed } });
  });

  it('adopts a valid state from elsewhere: listeners hear it, commit hooks do not', () => {
    const store = new Store();
    const heard: [number, string, string | undefined][] = [];
    let hooked = 0;
    store.subscribe((_s, version, source, origin) => heard.push([version, source, origin]));
    store.onCommit(() => hooked++);
    const next: LiveState = { ...structuredClone(DEFAULT_STATE), seed: 99, mode: 'seed' };
    expect(store.adopt(next, 'tablet', 'cluster:node-b')).toEqual({ ok: true, version: 1 });
    expect(store.state.seed).toBe(99);
    expect(heard).toEqual([[1, 'tablet', 'cluster:node-b']]);
    expect(hooked).toBe(0);
    // The same state again changes nothing and notifies no one.
    expect(store.adopt(structuredClone(next), 'system', 'cluster:node-b')).toEqual({ ok: true, version: 1 });
    expect(heard).toHaveLength(1);
  });

  it('refuses a state that fails the schema or the node-specific check', () => {
    const store = new Store({ validate: (s) => (s.dream.style === 'nope' ? 'dream.style: unknown' : null) });
    expect(store.adopt({ ...DEFAULT_STATE, seed: 'x' }, 'system').ok).toBe(false);
    expect(store.adopt({ ...DEFAULT_STATE, dream: { ...DEFAULT_STATE.dream, style: 'nope' } }, 'system')).toEqual({ ok: false, code: 'invalid', error: 'dream.style: unknown' });
    expect(store.version).toBe(0);
  });
});

describe('combinePatches', () => {
  const patch: fc.Arbitrary<StatePatch> = fc.record(
    {
      seed: fc.integer({ min: 0, max: 1000 }),
      glide: fc.double({ min: 0, max: 10, noNaN: true }),
      plane: fc.record({ x: fc.double({ min: 0, max: 16, noNaN: true }), y: fc.double({ min: 0, max: 16, noNaN: true }) }, { requiredKeys: [] }),
      display: fc.record({ caption: fc.boolean(), blackout: fc.double({ min: 0, max: 1, noNaN: true }) }, { requiredKeys: [] }),
      loop: fc.record({ seeds: fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 1, maxLength: 4 }) }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<StatePatch>;

  it('applies like the patches in order', () => {
    fc.assert(
      fc.property(fc.array(patch, { minLength: 1, maxLength: 6 }), (patches) => {
        const inOrder = patches.reduce<LiveState>((s, p) => mergeState(s, p), structuredClone(DEFAULT_STATE) as LiveState);
        const combined = mergeState(structuredClone(DEFAULT_STATE) as LiveState, patches.reduce<StatePatch>((a, p) => combinePatches(a, p), {}));
        expect(combined).toEqual(inOrder);
      }),
    );
  });
});
