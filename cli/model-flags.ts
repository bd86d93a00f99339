/**
 * Flags several commands share (--models-dir), and the names a model flag accepts, read
 * from the models folder when help is asked for: generators for --model, dream networks for
 * --dream-model, a dream network's styles and layers for --style and --dream-layer.
 */
import { join } from 'node:path';
import { ROOT_DIR } from '../server/config.js';
import type { FlagSpec } from './flags.js';

/** Where the commands look for models unless --models-dir says otherwise. */
export const MODELS_DIR = join(ROOT_DIR, 'models');

export const MODELS_DIR_FLAG = {
  type: 'string',
  value: 'DIR',
  default: MODELS_DIR,
  help: 'folder whose sub-folders each hold one model (manifest.json + ONNX)',
} as const satisfies FlagSpec;

/** Model ids in the default models folder whose manifest has `part` (a generator, a dream network). */
async function modelsWith(part: 'generator' | 'dream'): Promise<string[]> {
  // Imported here: the registry loads onnxruntime, which a flag table alone does not need.
  const { listModels } = await import('../server/models/registry.js');
  const models = await listModels(MODELS_DIR);
  if (!models.length) throw new Error(`no models in ${MODELS_DIR}`);
  return models.filter((m) => m.manifest[part]).map((m) => m.id);
}

export const generatorNames = () => modelsWith('generator');
export const dreamNetworkNames = () => modelsWith('dream');

/** The default dream network's styles, then its layers by friendly name (LAYER:N picks a channel). */
export async function dreamStyleNames(): Promise<string[]> {
  const { openCliDream } = await import('./dream-style.js');
  const dream = await openCliDream(MODELS_DIR, undefined);
  const styles = dream.catalogue.styles.map((s) => s.name);
  return [...new Set([...styles, ...dream.catalogue.layerNames()])];
}
