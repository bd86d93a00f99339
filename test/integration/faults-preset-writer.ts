/**
 * Child process for faults-presets.test.ts: saves presets through the project's preset
 * store as fast as it can, announcing each write before it starts and after it is done,
 * until the test kills it with SIGKILL. Usage: faults-preset-writer.ts DIR FIRST_NUMBER.
 * Each save stores its number in state.seed, so the test can tell old from new.
 */
import { DEFAULT_STATE } from '../../common/state.js';
import { PresetStore } from '../../server/presets.js';

export const WRITER_NAMES = ['Opening', 'Dusk', 'Night', 'Rain', 'Close'] as const;

async function main(): Promise<void> {
  const [dir, first] = process.argv.slice(2);
  if (!dir || first === undefined) throw new Error('usage: faults-preset-writer.ts DIR FIRST_NUMBER');
  const presets = await PresetStore.open(dir);
  // Pipes are written synchronously on Linux: a line printed here has left the process before the next step.
  process.stdout.write('ready\n');
  for (let n = Number(first); ; n++) {
    const name = WRITER_NAMES[n % WRITER_NAMES.length]!;
    process.stdout.write(`begin ${name} ${n}\n`);
    await presets.save(name, { ...DEFAULT_STATE, seed: n });
    process.stdout.write(`done ${name} ${n}\n`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  });
}
