/**
 * Random and mutated inputs for the fuzz tests, cheap enough to make 100,000 a second.
 * fast-check draws a pool of arbitrary JSON once (seeded, so a failure can be replayed
 * with FUZZ_SEED); a seeded PRNG then picks, mutates and combines. Two kinds of patch:
 * `invalidPatch()` is invalid by construction (the state must not change), `anyPatch()`
 * may or may not be valid (every change it makes must be acknowledged).
 */
import fc from 'fast-check';
import { splitmix32 } from '../../common/random.js';
import { DEFAULT_STATE } from '../../common/state.js';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

/** Values that have broken parsers before: edge numbers, odd strings, prototype keys, deep and wide shapes. */
const SPECIALS: readonly unknown[] = [
  null,
  0,
  -0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53 + 1,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  '',
  ' ',
  '0.5',
  'NaN',
  'true',
  '\u0000',
  '\ud800',
  '../../etc/passwd',
  '%2e%2e%2f',
  '<script>alert(1)</script>',
  'x'.repeat(4096),
  [],
  [[[]]],
  {},
  true,
  false,
  JSON.parse('{"__proto__":{"polluted":true}}'),
  { constructor: { prototype: { polluted: true } } },
  { toString: 'x', valueOf: 1, hasOwnProperty: 'y' },
  Array.from({ length: 1000 }, (_, i) => i),
  nest(200),
];

function nest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

export class Fuzz {
  readonly seed: number;
  private readonly next: () => number;
  private readonly pool: unknown[];

  constructor(seed = FUZZ_SEED) {
    this.seed = seed;
    this.next = splitmix32(seed);
    this.pool = fc.sample(fc.jsonValue({ maxDepth: 4 }), { numRuns: 3000, seed });
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  /** Anything at all. */
  anything(): unknown {
    return this.chance(0.3) ? this.pick(SPECIALS) : this.pick(this.pool);
  }

  /** A random string, often near the shapes that matter (names, addresses, keys). */
  text(max = 80): string {
    const alphabet = 'abcXYZ019 _-./\\%:?#&=\u0000\u00e9\u{1f600}';
    let s = '';
    const n = this.int(max);
    for (let i = 0; i < n; i++) s += this.pick([...alphabet]);
    return s;
  }

  /** A patch that the schema accepts, over visitor and VJ keys alike. */
  validPatch(): Record<string, unknown> {
    const seed = () => this.int(2 ** 31);
    const makers: (() => Record<string, unknown>)[] = [
      () => ({ mode: this.pick(['walk', 'loop', 'plane', 'seed']) }),
      () => ({ seed: seed() }),
      () => ({ walk: { speed: this.next() * 2 } }),
      () => ({ walk: { seed: seed() } }),
      () => ({ loop: { seeds: Array.from({ length: 1 + this.int(8) }, seed), period: 1 + this.next() * 100 } }),
      () => ({ plane: { x: this.next() * 16, y: this.next() * 16 } }),
      () => ({ glide: this.next() * 10 }),
      () => ({ display: { crossfade: this.next() * 5, caption: this.chance(0.5) } }),
      () => ({ display: { blackout: this.next() } }),
      () => ({ dream: { strength: this.next(), octaves: 1 + this.int(6) } }),
      () => ({ visitorLock: false }),
    ];
    const patch = this.pick(makers)();
    return this.chance(0.3) ? { ...patch, ...this.pick(makers)() } : patch;
  }

  /** Invalid whatever else it holds: an unknown key, a value out of range, a wrong type, or not an object. */
  invalidPatch(): unknown {
    const poison: (() => unknown)[] = [
      () => ({ ...this.validPatch(), [this.pick(['speed', 'walkk', 'Mode', '__proto__x', 'constructor', 'polluted', this.text(12) + '!'])]: this.anything() }),
      () => ({ ...this.validPatch(), walk: { speed: this.pick([-0.001, 2.0001, 1e9, -1e9, '0.5', null, true, [], {}]) } }),
      () => ({ ...this.validPatch(), seed: this.pick([-1, 2 ** 31, 1.5, '42', null, [42]]) }),
      () => ({ ...this.validPatch(), mode: this.pick(['fly', '', 'WALK', 3, null, ['walk']]) }),
      () => ({ ...this.validPatch(), glide: this.pick([-1, 10.5, 'slow', null]) }),
      () => ({ ...this.validPatch(), display: { blackout: this.pick([1.01, -0.5, '1', null]) } }),
      () => ({ ...this.validPatch(), dream: { octaves: this.pick([0, 7, 2.5, '2']) } }),
      () => ({ ...this.validPatch(), loop: { seeds: this.pick([[], Array.from({ length: 65 }, (_, i) => i), [1, -2], ['a']]) } }),
      () => ({ ...this.validPatch(), plane: { x: this.pick([16.5, -1, 'mid']), q: 1 } }),
      () => ({ ...this.validPatch(), walk: this.pick(['fast', 1, null, [1]]) }),
      () => ({ ...this.validPatch(), visitorLock: this.pick([1, 'yes', null]) }),
      () => this.pick([null, 0, 1, '', 'patch', true, [], [this.validPatch()], 1e308]),
    ];
    return this.pick(poison)();
  }

  /** Deep mutation of a valid patch: replace a value, add or drop a key, change a type. Often still valid. */
  mutate(value: Record<string, unknown>): unknown {
    const copy: Record<string, unknown> = structuredClone(value);
    const keys = Object.keys(copy);
    const key = keys.length ? this.pick(keys) : 'walk';
    switch (this.int(6)) {
      case 0:
        copy[key] = this.anything();
        break;
      case 1: {
        const inner = copy[key];
        if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
          const innerKeys = Object.keys(inner);
          (inner as Record<string, unknown>)[innerKeys.length && this.chance(0.7) ? this.pick(innerKeys) : this.text(8)] = this.anything();
        } else copy[key] = typeof inner === 'number' ? inner * this.pick([-1, 1.0001, 1e6, 0.5, 2]) : this.anything();
        break;
      }
      case 2:
        delete copy[key];
        break;
      case 3:
        copy[this.text(10)] = this.anything();
        break;
      case 4:
        return this.pick([[copy], JSON.stringify(copy), { patch: copy }]);
      default:
        return { ...copy, ...this.validPatch() };
    }
    return copy;
  }

  anyPatch(): unknown {
    const roll = this.next();
    if (roll < 0.25) return this.validPatch();
    if (roll < 0.75) return this.mutate(this.validPatch());
    return this.anything();
  }

  command(): unknown {
    return this.pick([{ type: 'newFace' }, { type: this.text(10) }, { type: 'newFace', extra: this.anything() }, this.anything(), { kind: 'newFace' }]);
  }

  invalidCommand(): unknown {
    return this.pick([{ type: this.text(10) + '?' }, { kind: 'newFace' }, { type: null }, null, 'newFace', [{ type: 'newFace' }], 42]);
  }
}

export const DEFAULT_LOOK = DEFAULT_STATE;
