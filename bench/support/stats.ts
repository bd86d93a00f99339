/** Small summaries of timing samples. */

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function mean(samples: readonly number[]): number {
  return samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : NaN;
}

/** Times `fn` until both `minRuns` runs and `minMs` milliseconds are done; returns ms per run. */
export async function timeRuns(fn: () => Promise<unknown>, opts: { minRuns: number; minMs: number; maxRuns?: number }): Promise<number[]> {
  const times: number[] = [];
  const start = performance.now();
  while (times.length < opts.minRuns || performance.now() - start < opts.minMs) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
    if (opts.maxRuns && times.length >= opts.maxRuns) break;
  }
  return times;
}

export function fixed(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

/** A plain text table: header row, then rows, columns padded to fit. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
