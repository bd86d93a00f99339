/**
 * `portraits directions`: finds the tablet's semantic sliders for a generator (GANSpace
 * components named by what they change, plus an age direction fitted to UTKFace labels)
 * and writes them into its manifest; see models/tools/directions.py. The manifest is then
 * checked against common/manifest.ts, so a folder the server would refuse never leaves here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { ManifestSchema } from '../../common/manifest.js';
import { describeError } from '../../common/state.js';
import { runPython, scriptDetails } from '../python.js';

function argValue(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(flag + '='))?.slice(flag.length + 1);
}

export const directions: Command = {
  name: 'directions',
  summary: "find the tablet's semantic sliders (GANSpace + UTKFace age) and write them into a generator's manifest",
  usage: 'portraits directions --model models/ID --data DATA_DIR [--run RUN_DIR] [--samples 10000] [--components 5] [--threads 1]',
  details: () => scriptDetails('directions.py'),
  async run(argv) {
    const help = argv.includes('--help') || argv.includes('-h');
    const model = argValue(argv, '--model');
    if (!help && (!model || !argValue(argv, '--data'))) throw new UsageError('--model and --data are required');
    const code = await runPython('directions.py', argv);
    if (code !== 0 || help) return code;
    const path = join(model!.replace(/\/+$/, ''), 'manifest.json');
    const parsed = ManifestSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success) throw new Error(`${path} does not match common/manifest.ts: ${describeError(parsed.error)}`);
    const names = Object.keys(parsed.data.directions ?? {});
    process.stderr.write(`${path}: valid manifest with ${names.length} directions (${names.join(', ')})\n`);
    return 0;
  },
};
