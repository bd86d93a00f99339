/** `.ci/run` adds bookworm-backports from the machine's own Debian source (install/debian-mirror.sh), never a fixed mirror. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function mirrorFor(files: Record<string, string>): string {
  const etc = mkdtempSync(join(tmpdir(), 'apt-'));
  mkdirSync(join(etc, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(etc, name), text);
  return execFileSync('bash', ['-c', '. install/debian-mirror.sh && debian_mirror'], { env: { ...process.env, APT_ETC: etc }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

describe('the Debian mirror for backports', () => {
  it('reads a one-line source, options and all, and skips other suites', () => {
    const list = ['deb http://security.example/debian-security bookworm-security main', 'deb [signed-by=/k.gpg] http://mirror.gallery.local/debian bookworm main contrib', ''].join('\n');
    expect(mirrorFor({ 'sources.list': list })).toBe('http://mirror.gallery.local/debian');
  });

  it('reads a deb822 stanza whose suites include bookworm', () => {
    const sources = [
      'Types: deb',
      'URIs: http://proxy.example:3142/debian-security',
      'Suites: bookworm-security',
      '',
      'Types: deb',
      '# a comment inside the stanza',
      'URIs: http://proxy.example:3142/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      '',
    ].join('\n');
    expect(mirrorFor({ 'sources.list.d/debian.sources': sources })).toBe('http://proxy.example:3142/debian');
  });

  it('falls back to deb.debian.org only when no source names bookworm', () => {
    expect(mirrorFor({ 'sources.list': 'deb http://archive.example/ubuntu jammy main\n' })).toBe('http://deb.debian.org/debian');
  });
});
