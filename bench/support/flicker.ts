/**
 * Flicker of the live dream: the same latent walk made frame by frame at 30 fps (time driven
 * by the bench, so every run sees the same faces), dreamed by the live dream stage, and the
 * mean absolute difference between consecutive dreamed frames, in grey levels (0-255). The
 * undreamed walk's own figure is the floor: what the face's motion alone changes.
 *
 * That plain difference rewards detail that stays put while the face moves under it (the
 * "shower door"). So a second figure compensates the face's motion: the previous frame is
 * warped by the optical flow between the two undreamed portraits before the difference is
 * taken, which is what a viewer sees flicker on the face itself.
 */
import { resolveConfig, type ResolvedConfig } from '../../server/config.js';
import { openMakeStages } from '../../server/pipeline/make-stages.js';
import { runChain } from '../../server/pipeline/chain.js';
import { fixedSnapshot, newJob } from '../../server/stages/stage.js';
import type { LiveState } from '../../common/state.js';
import { FLOW_SIDE, lumaAt, opticalFlow, warpByFlow } from '../../server/dream/flow.js';
import type { PlanarImage } from '../../server/image/planar-image.js';

function meanAbs(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error('flicker: frames of different sizes');
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / a.length;
}

export interface FlickerRun {
  /** Mean |frame(t) - frame(t-1)| over pixels and channels, grey levels. */
  flicker: number;
  /** The same after moving frame(t-1) with the face (flow between the undreamed portraits). */
  onTheFace: number;
  /** Mean milliseconds of the dream stage per frame. */
  dreamMs: number;
}

export async function measureFlicker(config: Partial<ResolvedConfig>, dream: LiveState['dream'], frames: number, speed = 0.15, walkSeed = 1): Promise<FlickerRun> {
  let now = 0;
  const made = await openMakeStages(resolveConfig({ provider: 'cpu', upscaler: 'off', ...config }, {}), { clock: () => now });
  try {
    const snapshot = fixedSnapshot({ mode: 'walk', walk: { seed: walkSeed, speed }, dream });
    // The dream styles compile in the background: until then frames pass undreamed.
    if (dream.mode !== 'off') await dreamReady(made.stages, snapshot);
    let previous: PlanarImage | null = null;
    let previousLuma: Float32Array | null = null;
    let sum = 0;
    let compensated = 0;
    let dreamMs = 0;
    for (let f = 0; f < frames; f++) {
      now = 1_000 + (f * 1000) / 30;
      const job = newJob(f, snapshot, now);
      // The chain stage by stage, to keep the undreamed portrait (the generator's output) for the flow.
      let portrait: PlanarImage | null = null;
      for (const stage of made.stages) {
        const t0 = performance.now();
        await stage.run(job);
        if (stage.name === 'dream') dreamMs += performance.now() - t0;
        if (stage.name === 'generate') portrait = { ...job.image!, data: job.image!.data.slice() };
      }
      const image = job.image!;
      const luma = lumaAt(portrait!, FLOW_SIDE);
      if (previous && previousLuma) {
        sum += meanAbs(image.data, previous.data);
        const moved = warpByFlow(previous, opticalFlow(luma, previousLuma, FLOW_SIDE));
        compensated += meanAbs(image.data, moved.data);
      }
      previous = { ...image, data: image.data.slice() };
      previousLuma = luma;
    }
    const pairs = Math.max(1, frames - 1);
    return { flicker: (255 * sum) / pairs, onTheFace: (255 * compensated) / pairs, dreamMs: dreamMs / frames };
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
