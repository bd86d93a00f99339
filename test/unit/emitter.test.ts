import { describe, expect, it } from 'vitest';
import { Emitter } from '../../common/emitter.js';
import { Store } from '../../server/store.js';

describe('Emitter', () => {
  it('calls every listener in order with the arguments, once each, until it unsubscribes', () => {
    const emitter = new Emitter<[string, number]>();
    const heard: string[] = [];
    const a = (s: string, n: number) => heard.push(`a ${s} ${n}`);
    const offA = emitter.on(a);
    emitter.on(a);
    const offB = emitter.on((s, n) => heard.push(`b ${s} ${n}`));
    emitter.emit('x', 1);
    expect(heard).toEqual(['a x 1', 'b x 1']);
    offA();
    emitter.emit('y', 2);
    offB();
    offB();
    emitter.emit('z', 3);
    expect(heard).toEqual(['a x 1', 'b x 1', 'b y 2']);
  });

  it('a listener removed during an emit is not called after', () => {
    const emitter = new Emitter<[]>();
    const heard: string[] = [];
    let offB = () => {};
    emitter.on(() => {
      heard.push('a');
      offB();
    });
    offB = emitter.on(() => heard.push('b'));
    emitter.emit();
    expect(heard).toEqual(['a']);
  });

  it('with onError, one throwing listener is reported and the others still run', () => {
    const errors: unknown[] = [];
    const emitter = new Emitter<[number]>((err) => errors.push((err as Error).message));
    const heard: number[] = [];
    emitter.on(() => {
      throw new Error('boom');
    });
    emitter.on((n) => heard.push(n));
    expect(() => emitter.emit(7)).not.toThrow();
    expect(heard).toEqual([7]);
    expect(errors).toEqual(['boom']);
  });

  it('without onError, a throw ends the emit and reaches the caller', () => {
    const emitter = new Emitter<[]>();
    const heard: string[] = [];
    emitter.on(() => {
      throw new Error('boom');
    });
    emitter.on(() => heard.push('second'));
    expect(() => emitter.emit()).toThrow('boom');
    expect(heard).toEqual([]);
  });

  it('the store keeps telling its other listeners and hooks when one throws', () => {
    const store = new Store();
    const heard: number[] = [];
    store.subscribe(() => {
      throw new Error('listener');
    });
    store.subscribe((_state, version) => heard.push(version));
    store.onCommit(() => {
      throw new Error('hook');
    });
    let hooked = 0;
    store.onCommit(() => hooked++);
    expect(store.apply({ walk: { speed: 0.5 } }, 'osc')).toMatchObject({ ok: true, version: 1 });
    expect(heard).toEqual([1]);
    expect(hooked).toBe(1);
  });
});
