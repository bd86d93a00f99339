/**
 * Runs a frame through the stages in order, timing each one. Errors are data: a failed
 * frame comes back with the stage and message instead of throwing into the loop.
 */
import type { FrameJob, Stage } from '../stages/stage.js';

export interface ChainResult {
  ok: boolean;
  /** `stage: message` when a stage failed. */
  error?: string;
  stage?: string;
  totalMs: number;
}

export async function runChain(stages: readonly Stage[], job: FrameJob): Promise<ChainResult> {
  const start = performance.now();
  for (const stage of stages) {
    const t0 = performance.now();
    try {
      await stage.run(job);
    } catch (err) {
      return { ok: false, stage: stage.name, error: `${stage.name}: ${(err as Error).message}`, totalMs: performance.now() - start };
    }
    job.meta.timings[stage.name] = Math.round((performance.now() - t0) * 100) / 100;
  }
  return { ok: true, totalMs: performance.now() - start };
}

export async function initChain(stages: readonly Stage[]): Promise<void> {
  for (const stage of stages) await stage.init?.();
}

/** Disposes every stage even if some fail; safe to call twice (stages guard themselves). */
export async function disposeChain(stages: readonly Stage[]): Promise<void> {
  await Promise.allSettled(stages.map(async (s) => s.dispose?.()));
}
