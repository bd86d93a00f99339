/**
 * The CLI's shared flag parsing (cli/flags.ts): parse errors and bad numbers are usage errors
 * naming the flag; a flag table gives both the parser's options and the help's lines.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/command.js';
import { describeFlags, flagOptions, flagTable, int, isOneOf, numberFlag, parseFlags, wrapList } from '../../cli/flags.js';

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

  const table = flagTable({
    out: { type: 'string', value: 'OUT.png', required: true, help: 'where the picture goes' },
    size: { type: 'string', value: 'PX', default: 256, help: 'side in pixels' },
    upscaler: { type: 'string', value: 'NAME', default: 'esrgan-slim', help: 'the ESRGAN family', names: ['esrgan-slim', 'esrgan-medium'] },
    model: { type: 'string', value: 'ID', help: 'the generator', names: async () => Promise.reject(new Error('no models in /nowhere')) },
    port: { type: 'string', value: 'N', default: 8080, env: 'PORT', help: 'HTTP port' },
    loop: { type: 'boolean', help: 'back to the first seed' },
  });

  it('derives the parser options from a flag table: types only, defaults stay with the code', () => {
    expect(flagOptions(table)).toEqual({ out: { type: 'string' }, size: { type: 'string' }, upscaler: { type: 'string' }, model: { type: 'string' }, port: { type: 'string' }, loop: { type: 'boolean' } });
    expect(parseFlags(['--size', '512', '--loop'], flagOptions(table)).values).toEqual({ size: '512', loop: true });
    expect(() => parseFlags(['--sise', '512'], flagOptions(table))).toThrow(UsageError);
  });

  it('describes every flag with its value, explanation, default and names, and says why names are missing', async () => {
    expect(await describeFlags(table)).toEqual([
      '  --out OUT.png    where the picture goes (required)',
      '  --size PX        side in pixels (default: 256)',
      '  --upscaler NAME  the ESRGAN family (default: esrgan-slim)',
      '                   one of: esrgan-slim, esrgan-medium',
      '  --model ID       the generator',
      '                   (the valid names are unavailable: no models in /nowhere)',
      '  --port N         HTTP port (default: 8080; environment: PORT)',
      '  --loop           back to the first seed',
    ]);
  });

  it('wraps long explanations within 100 columns under the explanation column', async () => {
    const lines = await describeFlags(flagTable({ 'a-rather-long-flag-name': { type: 'string', value: 'VALUE', help: 'word '.repeat(40).trim() } }));
    expect(lines[0]).toBe('  --a-rather-long-flag-name VALUE');
    expect(lines.slice(1).every((l) => l.startsWith(' '.repeat(32) + 'word') && l.length <= 100)).toBe(true);
  });

  it('wraps name lists between names and checks names with narrowing', () => {
    expect(wrapList(['kit fox', 'English setter', 'Siberian husky'], 20)).toEqual(['kit fox,', 'English setter,', 'Siberian husky']);
    expect(isOneOf(['cpu', 'auto'] as const, 'cpu')).toBe(true);
    expect(isOneOf(['cpu', 'auto'] as const, 'gpu')).toBe(false);
  });
});
