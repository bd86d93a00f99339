/**
 * Free space on the disk a video goes to. Video files grow for as long as they record,
 * so both the offline renderer and the live recorder check before they start (and the
 * recorder keeps checking), rather than finding out from a half-written file.
 */
import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export class DiskSpaceError extends Error {}

/** Bytes an unprivileged process may still write on the filesystem holding `path` (or its nearest existing parent). */
export async function freeBytes(path: string): Promise<number> {
  let dir = resolve(path);
  for (;;) {
    try {
      const s = await statfs(dir);
      return Number(s.bavail) * Number(s.bsize);
    } catch (err) {
      const parent = dirname(dir);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) throw err;
      dir = parent;
    }
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v >= 100 || u === 0 ? 0 : 1)} ${units[u]}`;
}

/** Throws a DiskSpaceError that says how much is free and how much is needed when `dir` has less than `needed` bytes free. */
export async function ensureFreeSpace(dir: string, needed: number, what: string): Promise<number> {
  const free = await freeBytes(dir);
  if (free < needed) {
    throw new DiskSpaceError(`not enough disk space for ${what}: ${formatBytes(free)} free in ${dir}, need about ${formatBytes(needed)}; free some space or choose another folder`);
  }
  return free;
}
