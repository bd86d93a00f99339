/**
 * What a generator is fed for a batch of latents and the live `face` settings, as plain
 * arrays that each runtime wraps in its own tensors: the server's frames and prints
 * (server/stages/generate.ts), `portraits doctor`, `portraits evaluate` and the tablet's
 * thumbnails (controller/faces-worker.ts), so all of them feed a generator the same way.
 *
 * A generator with a W space (manifest generator.style) takes the truncation as its own input
 * psi, and mixes styles with a second latent and a crossover layer. One crossover splits the
 * layers in two, so:
 *   coarse  the mix face goes first (its coarse layers), this face follows from the middle layers on
 *   middle  this face's coarse layers, the mix face's from the middle on (features and colouring)
 *   fine    this face up to the fine layers, the mix face's fine layers
 *   off     no crossover (mixFrom = the layer count)
 * A generator without a W space gets the classic z-space truncation: the latent scaled toward
 * 0 by the truncation. (Generators that normalise their latent first, as both of this project's
 * do, are unchanged by it; see docs/tablet.md.)
 */
import { seedToLatent } from './latent.js';
import type { StyleInfo } from './manifest.js';
import type { LiveState } from './state.js';

export type FaceSettings = LiveState['face'];
export type MixMode = FaceSettings['mix'];

/** One named input: its values and dims ([count, size]). */
export interface Feed {
  name: string;
  data: Float32Array;
  dims: [number, number];
}

/** The part of a generator's description the feeds depend on (GeneratorInfo and the server's GeneratorSpec both fit). */
export interface FeedSpec {
  input: string;
  latentSize: number;
  style?: Pick<StyleInfo, 'psi' | 'mixInput' | 'mixFrom' | 'layers' | 'groups'> | undefined;
}

/** Where the crossover sits for a mix mode, and whether the mix face goes first (coarse). */
export function crossover(style: Pick<StyleInfo, 'layers' | 'groups'>, mix: MixMode): { from: number; mixFirst: boolean } {
  switch (mix) {
    case 'coarse':
      return { from: style.groups.middle.first, mixFirst: true };
    case 'middle':
      return { from: style.groups.middle.first, mixFirst: false };
    case 'fine':
      return { from: style.groups.fine.first, mixFirst: false };
    default:
      return { from: style.layers, mixFirst: false };
  }
}

function filled(count: number, value: number): Float32Array {
  return new Float32Array(count).fill(value);
}

/** `count` copies of one latent, one after the other. */
function repeated(latent: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count * latent.length);
  for (let i = 0; i < count; i++) out.set(latent, i * latent.length);
  return out;
}

/**
 * The inputs for `latents` ([count, latentSize], row after row). Without a W space only the
 * latent is fed (scaled by the truncation) and the mix settings are ignored: the server's
 * store refuses them for such a generator, so only a hand-made snapshot can carry them here.
 */
export function generatorFeeds(spec: FeedSpec, latents: Float32Array, count: number, face: FaceSettings): Feed[] {
  const { input, latentSize, style } = spec;
  if (latents.length !== count * latentSize) throw new Error(`generatorFeeds: ${latents.length} values are not ${count} latents of ${latentSize}`);
  if (!style) {
    // z-space truncation: the latent's distance from 0 is how unusual the face is.
    const t = face.truncation;
    const z = t === 1 ? latents : latents.map((v) => v * t);
    return [{ name: input, data: z, dims: [count, latentSize] }];
  }
  const { from, mixFirst } = crossover(style, face.mix);
  const other = face.mix === 'off' ? latents : repeated(seedToLatent(face.mixSeed, latentSize), count);
  const [first, second] = mixFirst ? [other, latents] : [latents, other];
  return [
    { name: input, data: first, dims: [count, latentSize] },
    { name: style.psi, data: filled(count, face.truncation), dims: [count, 1] },
    { name: style.mixInput, data: second, dims: [count, latentSize] },
    { name: style.mixFrom, data: filled(count, from), dims: [count, 1] },
  ];
}

/**
 * What the state schema cannot check about `face`: style mixing needs a W space. The
 * server's store refuses such a state with this reason (server/app.ts), so the VJ hears why
 * instead of seeing nothing change.
 */
export function mixProblem(face: FaceSettings, model: { id: string; style?: unknown }): string | null {
  if (face.mix === 'off' || model.style) return null;
  return `face.mix: style mixing needs a generator with a W space (a style generator, manifest generator.style); model '${model.id}' has none, so only 'off' is possible`;
}
