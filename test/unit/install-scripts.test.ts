/**
 * `npm install` prints no warnings and never fetches onnxruntime-node's CUDA libraries:
 * package.json's allowScripts must name every installed package that has an install script
 * (npm warns about the rest), and must deny onnxruntime-node's (its download fails offline).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };

function packagesWithInstallScripts(dir: string, found = new Set<string>()): Set<string> {
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (entry.startsWith('@')) {
      packagesWithInstallScripts(path, found);
      continue;
    }
    const manifest = join(path, 'package.json');
    if (existsSync(manifest)) {
      const { name, scripts = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; scripts?: Record<string, string> };
      if (name && ['preinstall', 'install', 'postinstall'].some((s) => s in scripts)) found.add(name);
    }
    packagesWithInstallScripts(join(path, 'node_modules'), found);
  }
  return found;
}

describe('install scripts', () => {
  it('allowScripts decides for every installed package with an install script', () => {
    const undecided = [...packagesWithInstallScripts(join(ROOT, 'node_modules'))].filter((name) => !(name in (pkg.allowScripts ?? {})));
    expect(undecided).toEqual([]);
  });

  it("denies onnxruntime-node's CUDA download, and no .npmrc key makes npm warn", () => {
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
    const npmrc = join(ROOT, '.npmrc');
    if (existsSync(npmrc)) expect(readFileSync(npmrc, 'utf8')).not.toMatch(/onnxruntime/);
  });
});
