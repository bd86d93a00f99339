import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseBenchOptions, usage } from '../../bench/support/options.js';

const SPEC = {
  seconds: { default: 20, help: 'measured seconds' },
  model: { default: 'default-face', help: 'the model' },
  displays: { default: [1, 4], help: 'display counts' },
  dream: { default: ['off', 'gentle'], help: 'dream modes' },
  upscale: { help: 'upscale mode' },
  child: { help: 'internal', internal: true },
} as const;

describe('bench options', () => {
  it('take their type from the default, and say the command line that reproduces the run', () => {
    const { values, command } = parseBenchOptions('bench/x.bench.ts', SPEC, []);
    expect(values).toEqual({ seconds: 20, model: 'default-face', displays: [1, 4], dream: ['off', 'gentle'], upscale: undefined, child: undefined });
    expect(command).toBe('npx tsx bench/x.bench.ts --seconds 20 --model default-face --displays 1,4 --dream off,gentle');
    const given = parseBenchOptions('bench/x.bench.ts', SPEC, ['--seconds', '2.5', '--displays', '2', '--dream', 'zoom,off', '--upscale', 'x2', '--child', '3']);
    expect(given.values).toEqual({ seconds: 2.5, model: 'default-face', displays: [2], dream: ['zoom', 'off'], upscale: 'x2', child: '3' });
    expect(given.command).toBe('npx tsx bench/x.bench.ts --seconds 2.5 --model default-face --displays 2 --dream zoom,off --upscale x2');
  });

  it('refuse a wrong number or an unknown option, and answer --help', () => {
    expect(() => parseBenchOptions('b', SPEC, ['--seconds', 'soon'])).toThrow(BenchUsageError);
    expect(() => parseBenchOptions('b', SPEC, ['--displays', '1,x'])).toThrow(/--displays takes a number/);
    expect(() => parseBenchOptions('b', SPEC, ['--nope', '1'])).toThrow(/nope/);
    let helped = false;
    parseBenchOptions('b', SPEC, ['--help'], () => (helped = true));
    expect(helped).toBe(true);
    const text = usage('bench/x.bench.ts', 'what it measures', SPEC);
    expect(text).toMatch(/--displays\s+display counts \(default 1,4\)/);
    expect(text).not.toMatch(/--child/);
  });
});
