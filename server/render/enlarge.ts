/**
 * From the generator's (or dream's) small picture to a video frame's size: the print
 * stack of ESRGAN passes (x4, then x2 or x4, server/upscale/plan.ts), each in feathered
 * tiles once the picture is larger than a tile (server/upscale/stack.ts), then the live
 * encoder's bicubic resize to the exact size (server/image/display-pixels.ts). With upscaling
 * off, the resize alone: softer, much faster.
 */
import type { ProviderChoice } from '../onnx/runtime.js';
import type { PlanarImage } from '../image/planar-image.js';
import type { UpscaleFactor, UpscalerFamily } from '../upscale/converted.js';
import { planName, stackToSize } from '../upscale/plan.js';
import { upscaleStack } from '../upscale/stack.js';
import { Upscaler } from '../upscale/upscaler.js';

export type UpscaleChoice = 'off' | UpscalerFamily;

export interface Enlarger {
  readonly description: string;
  enlarge(img: PlanarImage): Promise<PlanarImage>;
  dispose(): Promise<void>;
}

/** Tiles as `portraits render` uses them: a 256 px tile (a 1024 px x4 output) keeps memory bounded; the first passes need none. */
export const TILE = { tile: 256, overlap: 32 } as const;

export async function openEnlarger(
  choice: UpscaleChoice,
  from: number,
  to: number,
  opts: { provider: ProviderChoice; cacheDir: string },
  onNote: (note: string) => void = () => {},
): Promise<Enlarger> {
  const plan = choice === 'off' || from >= to ? [] : stackToSize(from, to);
  if (plan.length === 0) {
    return { description: from === to ? 'none' : `bicubic resize ${from} -> ${to} px`, enlarge: async (img) => img, dispose: async () => {} };
  }
  const family = choice as UpscalerFamily;
  const upscalers = new Map<UpscaleFactor, Upscaler>();
  try {
    for (const f of new Set(plan)) {
      onNote(`loading ${family} x${f} (converted once, then cached in ${opts.cacheDir})`);
      const { upscaler } = await Upscaler.load(family, f, opts.provider, { cacheDir: opts.cacheDir });
      upscalers.set(f, upscaler);
    }
  } catch (err) {
    await Promise.allSettled([...upscalers.values()].map((u) => u.dispose()));
    throw err;
  }
  const reached = plan.reduce((s, f) => s * f, from);
  return {
    description: `${family} ${planName(plan)} ${from} -> ${reached} px${reached !== to ? `, bicubic to ${to} px` : ''}`,
    enlarge: (img) => upscaleStack(img, plan, upscalers, TILE),
    async dispose() {
      await Promise.allSettled([...upscalers.values()].map((u) => u.dispose()));
    },
  };
}
