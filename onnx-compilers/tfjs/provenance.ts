/**
 * Where a model.json came from, under which licence, and what its inputs mean: a
 * TF.js model file says nothing about value ranges, so those come from the caller or
 * from this table of npm packages whose documentation we have checked.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

interface KnownPackage {
  inputRange: [number, number];
  outputRange?: [number, number];
}

/**
 * UpscalerJS' RDN models (esrgan-slim, esrgan-medium) take and return pixels in
 * [0, 255] (their model definitions' inputRange/outputRange); the RRDN "thick" ones use [0, 1].
 */
const KNOWN_PACKAGES: Readonly<Record<string, KnownPackage>> = {
  '@upscalerjs/esrgan-slim': { inputRange: [0, 255], outputRange: [0, 255] },
  '@upscalerjs/esrgan-medium': { inputRange: [0, 255], outputRange: [0, 255] },
};

export interface Provenance {
  from: string;
  /** "MIT (Copyright (c) 2022 Kevin Scott)", or null when nothing says. */
  licence: string | null;
  licenceFile: string | null;
  labelsFile: string | null;
  known: KnownPackage | null;
}

interface PackageJson {
  name?: string;
  version?: string;
  license?: string;
}

/** The npm package holding the model, if model.json lies inside node_modules. */
async function owningPackage(modelJsonPath: string): Promise<{ dir: string; pkg: PackageJson } | null> {
  if (!modelJsonPath.split(sep).includes('node_modules')) return null;
  for (let dir = dirname(modelJsonPath); dir.includes(`node_modules${sep}`); dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) return { dir, pkg: JSON.parse(await readFile(p, 'utf8')) as PackageJson };
  }
  return null;
}

/** "MIT License" and "Copyright (c) 2018 ml5" from a licence file's opening lines. */
async function licenceLines(path: string): Promise<{ title: string | null; copyright: string | null }> {
  const lines = (await readFile(path, 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return { title: lines[0] ?? null, copyright: lines.find((l) => /^copyright\b/i.test(l)) ?? null };
}

export async function provenance(modelJsonPath: string): Promise<Provenance> {
  const dir = dirname(modelJsonPath);
  const owner = await owningPackage(modelJsonPath);
  const besideOrPackage = (name: string): string | null => {
    for (const d of [dir, owner?.dir]) if (d && existsSync(join(d, name))) return join(d, name);
    return null;
  };
  const licenceFile = besideOrPackage('LICENSE') ?? besideOrPackage('LICENSE.txt') ?? besideOrPackage('LICENCE');
  const labelsFile = existsSync(join(dir, 'labels.txt')) ? join(dir, 'labels.txt') : null;
  const text = licenceFile ? await licenceLines(licenceFile) : { title: null, copyright: null };
  const name = owner?.pkg.license ?? text.title;
  const licence = name ? (text.copyright ? `${name} (${text.copyright})` : name) : null;
  const from = owner
    ? `npm ${owner.pkg.name}@${owner.pkg.version} ${relative(owner.dir, modelJsonPath).split(sep).join('/')}`
    : modelJsonPath;
  const known = owner?.pkg.name ? (KNOWN_PACKAGES[owner.pkg.name] ?? null) : null;
  return { from, licence, licenceFile, labelsFile, known };
}
