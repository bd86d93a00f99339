/**
 * OSC bytes in and out: well-formed packets decode to exactly what was sent, timetags
 * convert to the millisecond, and anything malformed is an OscDecodeError, never a crash.
 */
import { describe, expect, it } from 'vitest';
import oscModule from 'osc-js';
import { splitmix32 } from '../../common/random.js';
import { OscDecodeError, decodePacket, encodeBundle, encodeMessage, timetagToMs } from '../../server/osc/codec.js';

const OSC: typeof oscModule.default = (oscModule as unknown as { default?: typeof oscModule.default }).default ?? (oscModule as unknown as typeof oscModule.default);

/** A bundle built by osc-js itself (types guessed from values), at `time` ms since the epoch. */
function bundleBytes(time: number, ...messages: [string, ...(number | string)[]][]): Uint8Array {
  return new OSC.Bundle(messages.map(([address, ...args]) => new OSC.Message(address, ...args)), time).pack();
}

describe('OSC codec', () => {
  it('round-trips typed messages', () => {
    const bytes = encodeMessage('/portraits/plane/xy', [{ type: 'f', value: 1.5 }, { type: 'f', value: 2 }]);
    expect(decodePacket(bytes)).toEqual({ kind: 'message', address: '/portraits/plane/xy', types: 'ff', args: [1.5, 2] });
    const all = encodeMessage('/a', [{ type: 'i', value: -3 }, { type: 's', value: 'walk' }, { type: 'T', value: true }, { type: 'F', value: false }]);
    expect(decodePacket(all)).toEqual({ kind: 'message', address: '/a', types: 'isTF', args: [-3, 'walk', true, false] });
  });

  it('sends only ASCII strings (osc-js would mangle others)', () => {
    const m = decodePacket(encodeMessage('/e', [{ type: 's', value: 'speed ≤ 2' }]));
    expect(m.kind === 'message' && m.args[0]).toBe('speed ? 2');
  });

  it('decodes bundles with their elements and the exact timetag', () => {
    const at = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
    const bytes = bundleBytes(at, ['/a', 1.5], ['/b', 2]);
    const packet = decodePacket(bytes);
    expect(packet.kind).toBe('bundle');
    if (packet.kind !== 'bundle') return;
    expect(Math.abs(packet.time! - at)).toBeLessThan(1);
    expect(packet.elements.map((e) => e.kind === 'message' && e.address)).toEqual(['/a', '/b']);
  });

  it('decodes a bundle that sits inside a larger buffer (as dgram hands them over)', () => {
    const bytes = bundleBytes(Date.now(), ['/a', 1.5], ['/b', 'text']);
    const pool = Buffer.alloc(bytes.length + 64, 0x2f);
    pool.set(bytes, 32);
    const packet = decodePacket(pool.subarray(32, 32 + bytes.length));
    expect(packet.kind === 'bundle' && packet.elements).toEqual([
      { kind: 'message', address: '/a', types: 'f', args: [1.5] },
      { kind: 'message', address: '/b', types: 's', args: ['text'] },
    ]);
  });

  it('treats timetag 1 as immediately and encodes feedback bundles that way', () => {
    expect(timetagToMs(0, 1)).toBeNull();
    expect(timetagToMs(2208988800, 2 ** 31)).toBe(500);
    const packet = decodePacket(encodeBundle([{ address: '/a', args: [] }, { address: '/b', args: [{ type: 'i', value: 1 }] }]));
    expect(packet).toMatchObject({ kind: 'bundle', time: null });
  });

  it('refuses packets that are not well-formed OSC', () => {
    const good = encodeMessage('/portraits/walk/speed', [{ type: 'f', value: 0.5 }]);
    const bundle = bundleBytes(Date.now(), ['/portraits/walk/speed', 0.5]);
    const lyingSize = bundle.slice();
    new DataView(lyingSize.buffer).setInt32(16, 4000);
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array([1, 2, 3]),
      new TextEncoder().encode('abcd'),
      good.slice(0, good.length - 4),
      Uint8Array.from([...good, 0, 0, 0, 0]),
      new TextEncoder().encode('/a\0\0'), // no type tag string
      new TextEncoder().encode('/a\0\0,q\0\0'), // unknown type
      new TextEncoder().encode('/a\0\0,i\0\0'), // int32 missing
      new TextEncoder().encode('#bundle\0'),
      lyingSize,
    ];
    for (const bytes of cases) expect(() => decodePacket(bytes), `${bytes.length} bytes`).toThrow(OscDecodeError);
  });

  it('limits bundle nesting', () => {
    let bytes = encodeMessage('/a');
    for (let i = 0; i < 12; i++) {
      const head = new Uint8Array(20);
      head.set(new TextEncoder().encode('#bundle\0'));
      new DataView(head.buffer).setUint32(12, 1);
      new DataView(head.buffer).setInt32(16, bytes.length);
      bytes = Uint8Array.from([...head, ...bytes]);
    }
    expect(() => decodePacket(bytes)).toThrow(/nested/);
  });

  it('fuzz: random and mutated bytes only ever throw OscDecodeError', () => {
    const rand = splitmix32(20261122);
    const seeds = [encodeMessage('/portraits/loop/seeds', [1, 2, 3].map((v) => ({ type: 'i' as const, value: v }))), bundleBytes(Date.now(), ['/b', 'xyz'], ['/c', 3])];
    for (let i = 0; i < 3000; i++) {
      let bytes: Uint8Array;
      if (i % 2) {
        bytes = Uint8Array.from({ length: 4 * Math.floor(rand() * 40) }, () => Math.floor(rand() * 256));
        if (rand() < 0.3) bytes.set(new TextEncoder().encode(rand() < 0.5 ? '/p\0\0' : '#bundle\0').slice(0, bytes.length));
      } else {
        bytes = seeds[i % 4 === 0 ? 0 : 1]!.slice();
        for (let k = 0; k < 3; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      }
      try {
        decodePacket(bytes);
      } catch (err) {
        if (!(err instanceof OscDecodeError)) throw new Error(`bytes [${[...bytes].join(',')}] threw ${(err as Error).stack}`);
      }
    }
  });
});
