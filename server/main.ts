/** `npm start`: flags -> config -> server; SIGINT/SIGTERM close it cleanly. */
import { parseArgs } from 'node:util';
import { ConfigError, ConfigSchema, kebab, type UserConfig } from './config.js';
import { ModelError } from './onnx/session.js';
import { startServer } from './app.js';
import { log } from './log.js';

const keys = Object.keys(ConfigSchema.shape) as (keyof UserConfig)[];
const options = Object.fromEntries(keys.map((k) => [kebab(k), { type: 'string' as const }]));

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ options: { ...options, config: { type: 'string' }, help: { type: 'boolean' } }, strict: true }));
  } catch (err) {
    console.error(`portraits server: ${(err as Error).message}\noptions: ${keys.map((k) => `--${kebab(k)}`).join(' ')} --config FILE`);
    process.exit(2);
  }
  if (values.help) {
    console.log(`usage: npm start -- [--config FILE] ${keys.map((k) => `[--${kebab(k)} VALUE]`).join(' ')}`);
    return;
  }
  if (typeof values.config === 'string') process.env.PORTRAITS_CONFIG = values.config;
  const overrides: Record<string, string> = {};
  for (const k of keys) {
    const v = values[kebab(k)];
    if (typeof v === 'string') overrides[k] = v;
  }
  try {
    const server = await startServer(overrides as UserConfig);
    console.log(`\n  Imaginary Portraits is running\n  display:    ${server.url}/\n  controller: ${server.url}/controller/\n  VJ:         ${server.url}/vj/\n  health:     ${server.url}/health\n`);
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      server.close().then(() => process.exit(0), () => process.exit(1));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ModelError) {
      console.error(`portraits server: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

void main();
