/** The CLI's shared flag parsing (cli/flags.ts): parse errors and bad numbers are usage errors naming the flag. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/command.js';
import { int, numberFlag, parseFlags } from '../../cli/flags.js';

describe('cli flags', () => {
  it('parses known flags and refuses unknown ones and positionals as usage errors', () => {
    expect(parseFlags(['--out', 'a.png', '--dream'], { out: { type: 'string' }, dream: { type: 'boolean' } }).values).toEqual({ out: 'a.png', dream: true });
    expect(() => parseFlags(['--nope'], { out: { type: 'string' } })).toThrow(UsageError);
    expect(() => parseFlags(['stray'], { out: { type: 'string' } })).toThrow(UsageError);
    expect(() => parseFlags(['--out'], { out: { type: 'string' } })).toThrow(/argument missing/);
  });

  it('checks numbers against their range and names the flag', () => {
    expect(numberFlag({}, 'size', 256, int(16, 4096))).toBe(256);
    expect(numberFlag({ size: '512' }, 'size', 256, int(16, 4096))).toBe(512);
    for (const bad of ['8', '5000', '12.5', 'x', 'Infinity']) expect(() => numberFlag({ size: bad }, 'size', 256, int(16, 4096))).toThrow(`--size ${bad} is out of range`);
    expect(numberFlag({ step: '0.5' }, 'step', 1, (n) => n > 0)).toBe(0.5);
  });
});
