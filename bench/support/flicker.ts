/**
 * Flicker of the live dream: the same latent walk made frame by frame at 30 fps (time driven
 * by the bench, so every run sees the same faces), dreamed by the live dream stage, and the
 * mean absolute difference between consecutive dreamed frames, in grey levels (0-255). The
 * undreamed walk's own figure is the floor: what the face's motion alone changes.
 */
import { resolveConfig, type ResolvedConfig } from '../../server/config.js';
import { openMakeStages } from '../../server/pipeline/make-stages.js';
import { runChain } from '../../server/pipeline/chain.js';
import { fixedSnapshot, newJob } from '../../server/stages/stage.js';
import type { LiveState } from '../../common/state.js';

export interface FlickerRun {
  /** Mean |frame(t) - frame(t-1)| over pixels and channels, grey levels. */
  flicker: number;
  /** Mean milliseconds of the dream stage per frame. */
  dreamMs: number;
}

export async function measureFlicker(config: Partial<ResolvedConfig>, dream: LiveState['dream'], frames: number, walkSeed = 1): Promise<FlickerRun> {
  let now = 0;
  const made = await openMakeStages(resolveConfig({ provider: 'cpu', upscaler: 'off', ...config }, {}), { clock: () => now });
  try {
    const snapshot = fixedSnapshot({ mode: 'walk', walk: { seed: walkSeed, speed: 0.15 }, dream });
    // The dream styles compile in the background: until then frames pass undreamed.
    if (dream.mode !== 'off') await dreamReady(made.stages, snapshot);
    let previous: Float32Array | null = null;
    let sum = 0;
    let dreamMs = 0;
    for (let f = 0; f < frames; f++) {
      now = 1_000 + (f * 1000) / 30;
      const job = newJob(f, snapshot, now);
      const result = await runChain(made.stages, job);
      if (!result.ok) throw new Error(`frame ${f}: ${result.error}`);
      dreamMs += job.meta.timings.dream ?? 0;
      const image = job.image!.data;
      if (previous) {
        let d = 0;
        for (let i = 0; i < image.length; i++) d += Math.abs(image[i]! - previous[i]!);
        sum += d / image.length;
      }
      previous = image.slice();
    }
    return { flicker: (255 * sum) / Math.max(1, frames - 1), dreamMs: dreamMs / frames };
  } finally {
    await made.close();
  }
}

async function dreamReady(stages: Parameters<typeof runChain>[0], snapshot: ReturnType<typeof fixedSnapshot>): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < 60_000) {
    const job = newJob(0, snapshot, 0);
    await runChain(stages, job);
    if (job.meta.dream) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the dream network did not compile within 60 s');
}
