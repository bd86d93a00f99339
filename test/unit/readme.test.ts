/** The README's configuration table names every configuration key, so it cannot silently drift. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigSchema, ENV_KEYS } from '../../server/config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it.each(Object.keys(ConfigSchema.shape))('documents the config key %s', (key) => {
    expect(readme).toContain(`| \`${key}\` |`);
  });

  it.each(Object.keys(ENV_KEYS))('documents the environment variable %s', (name) => {
    expect(readme).toContain(`\`${name}\``);
  });
});
