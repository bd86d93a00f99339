/**
 * The dream network and style a CLI command dreams with: `--model` (default: the shipped
 * Darknet tiny, else the generator's critic) and a name its catalogue resolves (a curated
 * style, a layer's friendly name, or LAYER:N), with the style's tuned settings under
 * whatever the command's flags say. Unknown names are usage errors that list the valid ones.
 */
import { join } from 'node:path';
import type { Manifest } from '../common/manifest.js';
import { DEFAULT_DREAM, type DreamSettings } from '../server/dream/engine.js';
import { DreamCatalogue, type DreamStyle } from '../server/dream/styles.js';
import { DEFAULT_DREAM_MODEL, dreamModelId, readManifest } from '../server/models/registry.js';
import { UsageError } from './command.js';

export interface CliDream {
  id: string;
  dir: string;
  manifest: Manifest;
  catalogue: DreamCatalogue;
}

/** Opens the dream network `id` (or the default one) from `modelsDir`. */
export async function openCliDream(modelsDir: string, id: string | undefined, generator?: Manifest): Promise<CliDream> {
  const chosen = dreamModelId(modelsDir, id ?? '', generator) ?? 'default-face-critic';
  const dir = join(modelsDir, chosen);
  let manifest: Manifest;
  try {
    manifest = await readManifest(dir);
  } catch (err) {
    const hint = chosen === DEFAULT_DREAM_MODEL ? `; it ships in models/${DEFAULT_DREAM_MODEL} (restore it with \`git checkout -- models/${DEFAULT_DREAM_MODEL}\`)` : '';
    throw new UsageError(`${(err as Error).message}${hint}`);
  }
  if (!manifest.dream) throw new UsageError(`model '${chosen}' is not a dream network (its manifest has no "dream" section)`);
  return { id: chosen, dir, manifest, catalogue: new DreamCatalogue(chosen, dir, manifest) };
}

/** A style by name (undefined: the default style); `channel` picks one channel of a layer. */
export function cliStyle(dream: CliDream, name: string | undefined, channel?: number): DreamStyle {
  try {
    if (channel !== undefined) {
      const layer = name ?? dream.catalogue.layerNames()[0]!;
      const style = dream.catalogue.resolve(layer);
      if (style.kind !== 'layer') throw new Error(`--channel needs a layer, and '${layer}' is a style; ${dream.catalogue.valid()}`);
      return dream.catalogue.resolve(`${style.name}:${channel}`);
    }
    return dream.catalogue.resolve(name ?? '');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}

/** How help states the default of a setting a style tunes: the style's own value, else the engine's. */
export const styleDefault = (key: keyof DreamSettings): string => `the style's, else ${String(DEFAULT_DREAM[key])}`;

/** The style's tuned settings under the defaults, with `flags` (already parsed, undefined = not given) on top. */
export function styleSettings(style: DreamStyle, flags: Partial<DreamSettings>): DreamSettings {
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as Partial<DreamSettings>;
  const { liveStep: _live, ...tuned } = style.tuning;
  return { ...DEFAULT_DREAM, ...tuned, ...defined };
}
