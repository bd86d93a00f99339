/**
 * The e2e tests drive the built pages (dist/pages), as the server serves them. If the
 * build is missing or older than its sources, it is rebuilt once; a lock directory
 * keeps parallel test files from building over each other.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, 'dist/pages');
const OUTPUTS = ['display/index.html', 'controller/index.html', 'vj/index.html'].map((p) => join(OUT, p));
const SOURCES = ['display', 'controller', 'vj', 'common', 'vite.config.ts'].map((p) => join(ROOT, p));
const LOCK = join(ROOT, 'dist/.pages-build.lock');
/** A lock older than this was left by a killed run. */
const STALE_LOCK_MS = 120_000;

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), stat.mtimeMs);
}

function isFresh(): boolean {
  if (!OUTPUTS.every((p) => existsSync(p))) return false;
  const built = Math.min(...OUTPUTS.map((p) => statSync(p).mtimeMs));
  return SOURCES.every((p) => !existsSync(p) || newestMtime(p) <= built);
}

function tryLock(): boolean {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  try {
    mkdirSync(LOCK);
    return true;
  } catch {
    if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
}

export async function ensurePagesBuilt(): Promise<void> {
  while (!isFresh()) {
    if (!tryLock()) {
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      if (isFresh()) return;
      console.log('e2e: dist/pages is missing or stale, running vite build…');
      await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: ROOT });
      console.log('e2e: pages built');
      return;
    } finally {
      rmSync(LOCK, { recursive: true, force: true });
    }
  }
}
