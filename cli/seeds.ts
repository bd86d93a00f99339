/**
 * Seed lists on the command line: `5,17,99`, `1-300`, or both mixed (`1-10,42`), in the
 * order given. Used by `portraits render --seeds` and `portraits video --seeds`.
 */
import { UsageError } from './command.js';

const MAX_SEED = 2 ** 31 - 1;
/** A batch larger than this is almost certainly a typo (1-30000 for 1-300). */
export const MAX_SEEDS = 10_000;

function seedOf(text: string): number {
  const n = Number(text);
  if (text === '' || !Number.isInteger(n) || n < 0 || n > MAX_SEED) throw new UsageError(`--seeds: '${text}' is not a seed (an integer 0 to ${MAX_SEED})`);
  return n;
}

export function parseSeedList(raw: string | undefined, example = '1,2,3'): number[] {
  if (!raw || raw.trim() === '') throw new UsageError(`--seeds is required, e.g. --seeds ${example}`);
  const seeds: number[] = [];
  for (const part of raw.split(',').map((s) => s.trim())) {
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(part);
    if (!range) {
      seeds.push(seedOf(part));
    } else {
      const [from, to] = [seedOf(range[1]!), seedOf(range[2]!)];
      if (to < from) throw new UsageError(`--seeds: the range '${part}' runs backwards; write ${to}-${from}`);
      if (seeds.length + (to - from + 1) > MAX_SEEDS) throw new UsageError(`--seeds: more than ${MAX_SEEDS} seeds; render them in several batches`);
      for (let s = from; s <= to; s++) seeds.push(s);
    }
    if (seeds.length > MAX_SEEDS) throw new UsageError(`--seeds: more than ${MAX_SEEDS} seeds; render them in several batches`);
  }
  return seeds;
}
