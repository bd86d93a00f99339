/**
 * The ESRGAN upscalers, converted from the TF.js models their npm packages ship into
 * ONNX by the project's converter, once, and cached in <cacheDir>/<family>-x<scale>/.
 * The cache is keyed by package name and version (and the converter's opset): a package
 * update converts again. A fresh conversion is compared with the original in tfjs on a
 * small tile before it is kept, so a wrong translation never reaches a display.
 * Conversion goes to a private folder and is renamed into place, so two processes
 * starting at once (a server and a test) never see half a model.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { convertTfjsModel, MODEL_FILE, OPSET, type ConvertProgress } from '../../onnx-compilers/tfjs/convert.js';
import type { ConvertedManifest } from '../../onnx-compilers/tfjs/manifest.js';
import type { Logger } from '../log.js';
import { compareWithTfjs, TFJS_TOLERANCE, type TfjsCheck } from './tfjs-check.js';

export const UPSCALER_FAMILIES = ['esrgan-slim', 'esrgan-medium'] as const;
export type UpscalerFamily = (typeof UPSCALER_FAMILIES)[number];
export type UpscaleFactor = 2 | 4;

const PACKAGES: Readonly<Record<UpscalerFamily, string>> = Object.freeze({
  'esrgan-slim': '@upscalerjs/esrgan-slim',
  'esrgan-medium': '@upscalerjs/esrgan-medium',
});

const STAMP_FILE = 'cache.json';

/** What a cached conversion was made from; any difference means "convert again". */
export interface CacheKey {
  package: string;
  version: string;
  scale: UpscaleFactor;
  opset: number;
}

interface Stamp {
  key: CacheKey;
  converted: string;
  /** The tfjs comparison made right after converting (or why it was skipped). */
  check: TfjsCheck;
}

export interface ConvertedUpscaler {
  id: string;
  family: UpscalerFamily;
  scale: UpscaleFactor;
  dir: string;
  /** The ONNX file. */
  file: string;
  manifest: ConvertedManifest;
  key: CacheKey;
  check: TfjsCheck;
  /** True when this call converted it (first start or a new package version). */
  fresh: boolean;
}

export interface EnsureOptions {
  cacheDir: string;
  /** Conversion steps (only reported when a conversion runs). */
  onProgress?: (p: ConvertProgress & { id: string }) => void;
}

export class UpscalerCacheError extends Error {}

/** The installed package's folder and version (npm resolution from this file). */
export async function locatePackage(family: UpscalerFamily): Promise<{ name: string; dir: string; version: string }> {
  const name = PACKAGES[family];
  const roots = createRequire(import.meta.url).resolve.paths(name) ?? [];
  for (const root of roots) {
    const manifest = join(root, name, 'package.json');
    if (!existsSync(manifest)) continue;
    const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version?: string };
    if (!version) throw new UpscalerCacheError(`${manifest} has no version`);
    return { name, dir: join(root, name), version };
  }
  throw new UpscalerCacheError(`the npm package ${name} is not installed; run \`npm install\` (it ships the ${family} weights)`);
}

export function upscalerId(family: UpscalerFamily, scale: UpscaleFactor): string {
  return `${family}-x${scale}`;
}

/** The cached conversion of `family` at `scale`, converting (and checking) it first if needed. */
export async function ensureConverted(family: UpscalerFamily, scale: UpscaleFactor, opts: EnsureOptions): Promise<ConvertedUpscaler> {
  const pkg = await locatePackage(family);
  const key: CacheKey = { package: pkg.name, version: pkg.version, scale, opset: OPSET };
  const id = upscalerId(family, scale);
  const dir = join(opts.cacheDir, id);
  const cached = await readCache(dir, key);
  if (cached) return { id, family, scale, dir, file: join(dir, MODEL_FILE), ...cached, key, fresh: false };

  const modelJson = join(pkg.dir, 'models', `x${scale}`, 'model.json');
  if (!existsSync(modelJson)) throw new UpscalerCacheError(`${pkg.name}@${pkg.version} has no ${modelJson}`);
  await mkdir(opts.cacheDir, { recursive: true });
  const tmp = join(opts.cacheDir, `.tmp-${id}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const manifest = await convertTfjsModel(modelJson, tmp, { id, onProgress: (p) => opts.onProgress?.({ ...p, id }) });
    if (manifest.kind !== 'upscaler' || manifest.scale !== scale) {
      throw new UpscalerCacheError(`${modelJson} converted to a ${manifest.kind} of scale ${manifest.scale}, expected an x${scale} upscaler`);
    }
    const check = await compareWithTfjs(modelJson, join(tmp, MODEL_FILE));
    if ('maxAbsDiff' in check && !(check.maxAbsDiff <= TFJS_TOLERANCE)) {
      throw new UpscalerCacheError(
        `the converted ${id} differs from the original tfjs model by ${check.maxAbsDiff} pixel units on a ${check.size.join('x')} tile (allowed ${TFJS_TOLERANCE}); not caching it`,
      );
    }
    const stamp: Stamp = { key, converted: new Date().toISOString(), check };
    await writeFile(join(tmp, STAMP_FILE), JSON.stringify(stamp, null, 2) + '\n');
    // Another process may have won the race with its own (equally valid) conversion: keep
    // theirs (deleting it could pull it from under a reader) and use what is there.
    if (!(await readCache(dir, key))) await moveIntoPlace(tmp, dir);
    const placed = await readCache(dir, key);
    if (!placed) throw new UpscalerCacheError(`the conversion of ${id} vanished from ${dir}`);
    return { id, family, scale, dir, file: join(dir, MODEL_FILE), ...placed, key, fresh: true };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function moveIntoPlace(tmp: string, dir: string): Promise<void> {
  if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
  try {
    await rename(tmp, dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
}

/** The cached manifest and check when the folder holds an intact conversion for exactly `key`. */
async function readCache(dir: string, key: CacheKey): Promise<{ manifest: ConvertedManifest; check: TfjsCheck } | null> {
  let stamp: Stamp;
  let manifest: ConvertedManifest;
  try {
    stamp = JSON.parse(await readFile(join(dir, STAMP_FILE), 'utf8')) as Stamp;
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ConvertedManifest;
  } catch {
    return null;
  }
  if (JSON.stringify(stamp.key) !== JSON.stringify(key)) return null;
  // A truncated or edited model file is as good as none.
  const entry = manifest.files?.find((f) => f.path === MODEL_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, MODEL_FILE));
  } catch {
    return null;
  }
  if (!entry?.sha256 || createHash('sha256').update(bytes).digest('hex') !== entry.sha256) return null;
  return { manifest, check: stamp.check };
}

/** Logs a conversion's steps (start and end of each) on a server logger: one line per step, not per layer. */
export function logConversion(log: Logger): (p: ConvertProgress & { id: string }) => void {
  let last = '';
  return (p) => {
    const key = `${p.id}:${p.step}`;
    if (key !== last) {
      last = key;
      log.info({ model: p.id, step: p.step, total: p.total }, `converting ${p.id}: ${p.step} (0/${p.total})`);
    }
    if (p.done === p.total && p.total > 0) log.info({ model: p.id, step: p.step }, `converting ${p.id}: ${p.step} done (${p.done}/${p.total})`);
  };
}

/** One line about a conversion's tfjs check, for logs and the CLI. */
export function describeCheck(u: ConvertedUpscaler): string {
  const c = u.check;
  return 'maxAbsDiff' in c
    ? `matches the original tfjs model on a ${c.size.join('x')} tile: max abs difference ${c.maxAbsDiff.toExponential(2)} of 255 (allowed ${TFJS_TOLERANCE.toExponential(2)})`
    : `not compared with tfjs here (${c.skipped}); test/integration/convert-esrgan.test.ts compares the converter's ESRGAN output with tfjs`;
}
