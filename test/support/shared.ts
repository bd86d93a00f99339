/**
 * ../shared holds third-party data (UTKFace, Darknet tiny) that a user's machine lacks.
 * Tests that need it skip with a reason on such machines, but under CI (CI=true) its
 * absence is a failure, so CI can never pass by silently skipping them.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SHARED_DIR = fileURLToPath(new URL('../../../shared/', import.meta.url));

/** The absolute path of `rel` inside ../shared, or null (with a printed reason) when it is missing outside CI. */
export function sharedPath(rel: string): string | null {
  const path = SHARED_DIR + rel;
  if (existsSync(path)) return path;
  const why = `../shared/${rel} is not present (it is third-party data beside the checkout, see README)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
  console.warn(`skipped: ${why}`);
  return null;
}
