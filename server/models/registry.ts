/**
 * The model registry: each folder in the models dir with a manifest.json is a model.
 * A missing or broken configured model falls back to the default with the reason
 * logged; a broken default stops the start with a message that says what to do.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ManifestSchema, type FaceStage, type Manifest } from '../../common/manifest.js';
import { describeError } from '../../common/state.js';
import type { ResolvedConfig } from '../config.js';
import { logger } from '../log.js';
import { ModelError, ModelSession, type IoSpec } from '../onnx/session.js';
import type { GeneratorSpec } from '../stages/generate.js';
import { layerObjective } from '../dream/library.js';
import { DreamCatalogue } from '../dream/styles.js';
import type { DreamNetSpec } from '../dream/net.js';

const log = logger('models');
export const DEFAULT_MODEL = 'default-face';

export interface ModelEntry {
  id: string;
  dir: string;
  manifest: Manifest;
}

export interface OpenedGenerator {
  id: string;
  file: string;
  spec: GeneratorSpec;
  session: ModelSession;
  manifest: Manifest;
}

export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, 'manifest.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelError(missingModel(dir));
    throw new ModelError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) throw new ModelError(`${path} is not a valid manifest: ${describeError(parsed.error)}`);
  return parsed.data;
}

/** "no model 'x' in DIR; the models there: a, b" (the folders that hold a manifest), for every lookup by id. */
function missingModel(dir: string): string {
  const parent = dirname(dir);
  let ids: string[] = [];
  try {
    ids = readdirSync(parent, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(parent, d.name, 'manifest.json')))
      .map((d) => d.name)
      .sort();
  } catch {
    return `no model '${basename(dir)}': the models folder ${parent} cannot be read`;
  }
  return `no model '${basename(dir)}' in ${parent} (no ${join(basename(dir), 'manifest.json')}); the models there: ${ids.length ? ids.join(', ') : 'none'}`;
}

/** Every model whose manifest parses; broken ones are logged and skipped. */
export async function listModels(modelsDir: string): Promise<ModelEntry[]> {
  let names: string[];
  try {
    names = (await readdir(modelsDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
  const out: ModelEntry[] = [];
  for (const name of names.sort()) {
    const dir = join(modelsDir, name);
    // Folders without a manifest (checkpoints/, tools/, eval/) are not models: skipped without a word.
    if (!existsSync(join(dir, 'manifest.json'))) continue;
    try {
      out.push({ id: name, dir, manifest: await readManifest(dir) });
    } catch (err) {
      log.warn({ dir, err: (err as Error).message }, 'skipping model');
    }
  }
  return out;
}

export function generatorSpec(manifest: Manifest): { file: string; spec: GeneratorSpec } {
  const g = manifest.generator;
  if (!g) throw new ModelError(`model '${manifest.id}' has no generator`);
  return {
    file: g.file,
    spec: { input: g.input, output: g.output, latentSize: g.latentSize, resolution: g.resolution, range: g.range, ...(g.style ? { style: g.style } : {}) },
  };
}

/** The inputs and outputs a generator's ONNX file must have, by its manifest (checked when a session opens). */
export function generatorIo(spec: GeneratorSpec): { inputs: IoSpec[]; outputs: IoSpec[] } {
  const style = spec.style;
  return {
    inputs: [
      { name: spec.input, dims: [null, spec.latentSize] },
      ...(style
        ? [
            { name: style.psi, dims: [null, 1] },
            { name: style.mixInput, dims: [null, spec.latentSize] },
            { name: style.mixFrom, dims: [null, 1] },
          ]
        : []),
    ],
    outputs: [{ name: spec.output, dims: [null, 3, spec.resolution, spec.resolution] }],
  };
}

async function openOne(config: ResolvedConfig, id: string): Promise<OpenedGenerator> {
  const dir = join(config.modelsDir, id);
  const manifest = await readManifest(dir);
  const { file, spec } = generatorSpec(manifest);
  const path = join(dir, file);
  const session = await ModelSession.open(path, config.provider, generatorIo(spec));
  return { id, file: path, spec, session, manifest };
}

export async function openGenerator(config: ResolvedConfig): Promise<OpenedGenerator> {
  try {
    return await openOne(config, config.model);
  } catch (err) {
    const reason = (err as Error).message;
    if (config.model === DEFAULT_MODEL) {
      throw new ModelError(
        `the default model cannot be used: ${reason}\n` +
          `  It ships with the installation in models/${DEFAULT_MODEL}; restore it with \`git checkout -- models/${DEFAULT_MODEL}\`, ` +
          `or point --models-dir / PORTRAITS_MODELS_DIR at a folder that holds it.`,
      );
    }
    log.error({ model: config.model, reason }, `model '${config.model}' cannot be used; falling back to '${DEFAULT_MODEL}'`);
    return openOne(config, DEFAULT_MODEL);
  }
}

/** The face stage model to use: the configured one, 'off' for none, else the generator's related face model when installed. */
export function faceModelId(modelsDir: string, configured: string, generator: Manifest): string | null {
  if (configured === 'off') return null;
  if (configured) return configured;
  const related = generator.related?.face;
  return related && existsSync(join(modelsDir, related, 'manifest.json')) ? related : null;
}

/**
 * The face stage's session and spec, or null when none is configured or installed. A
 * configured model that cannot be used is an error naming it (the technician asked for it);
 * the generator's own related one is optional.
 */
export async function openFaceModel(config: Pick<ResolvedConfig, 'modelsDir' | 'faceModel' | 'provider'>, generator: Manifest): Promise<{ id: string; spec: FaceStage; session: ModelSession } | null> {
  const id = faceModelId(config.modelsDir, config.faceModel, generator);
  if (!id) return null;
  const dir = join(config.modelsDir, id);
  const manifest = await readManifest(dir);
  if (!manifest.face) throw new ModelError(`model '${id}' is not a face stage (its manifest has no "face" section)`);
  const spec = manifest.face;
  const session = await ModelSession.open(join(dir, spec.file), config.provider, { inputs: [{ name: spec.input }], outputs: [{ name: spec.output }] });
  log.info({ model: id, maxInput: spec.maxInput, provider: session.provider }, 'face stage loaded');
  return { id, spec, session };
}

/** The dream network that ships with the installation (Darknet tiny, MIT; models/darknet-tiny). */
export const DEFAULT_DREAM_MODEL = 'darknet-tiny';

/** Which dream network to use: the configured one, else the shipped default, else the generator's related critic. */
export function dreamModelId(modelsDir: string, configured: string, generator?: Manifest): string | null {
  if (configured) return configured;
  if (existsSync(join(modelsDir, DEFAULT_DREAM_MODEL, 'manifest.json'))) return DEFAULT_DREAM_MODEL;
  return generator?.related?.critic ?? null;
}

/**
 * The dream network's styles (server/dream/styles.ts): the configured dream network, else
 * Darknet tiny, else the generator's related critic. No dream network means no styles,
 * and the store then refuses dream modes with a reason.
 */
export async function dreamCatalogue(config: Pick<ResolvedConfig, 'modelsDir' | 'dreamModel'>, generator: Manifest): Promise<DreamCatalogue | null> {
  const id = dreamModelId(config.modelsDir, config.dreamModel, generator);
  if (!id) {
    log.warn({ model: generator.id }, 'no dream network is installed or configured; dreaming is off');
    return null;
  }
  const dir = join(config.modelsDir, id);
  let manifest: Manifest;
  try {
    manifest = await readManifest(dir);
  } catch (err) {
    log.error({ model: id, err: (err as Error).message }, 'dream network unavailable; dreaming is off');
    return null;
  }
  if (!manifest.dream) {
    log.error({ model: id }, `model '${id}' has no "dream" section in its manifest; dreaming is off`);
    return null;
  }
  try {
    return new DreamCatalogue(id, dir, manifest);
  } catch (err) {
    log.error({ model: id, err: (err as Error).message }, 'dream styles unusable; dreaming is off');
    return null;
  }
}

/** How to dream on tensor `tensor` (or one channel of it) of the model in `dir`. */
export function dreamSpec(dir: string, manifest: Manifest, tensor: string, channel?: number): DreamNetSpec {
  const dream = manifest.dream;
  if (!dream) throw new ModelError(`model '${manifest.id}' has no "dream" section in its manifest`);
  return { file: join(dir, dream.file), input: dream.input, range: dream.range, objective: layerObjective(tensor, channel) };
}

/** A friendly layer name from the manifest, or a raw tensor name, to the tensor. */
export function dreamTensor(manifest: Manifest, layer: string | undefined): string {
  const layers = manifest.dream?.layers ?? [];
  if (layer === undefined) {
    const first = layers[0];
    if (!first) throw new ModelError(`model '${manifest.id}' lists no dream layers; pass a tensor name with --layer`);
    return first.tensor;
  }
  return layers.find((l) => l.name === layer)?.tensor ?? layer;
}
