/** The model-making commands, each a thin wrapper over a script in models/tools. */
import { join, relative } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { TOOLS_DIR, pythonHelp, runPython, scriptDetails } from '../python.js';

function pythonCommand(name: string, script: string, summary: string, usage: string): Command {
  return { name, summary, usage, details: () => scriptDetails(script), run: (argv) => runPython(script, argv) };
}

export const dataset = pythonCommand(
  'dataset',
  'dataset.py',
  'curate a photo folder into a training set (rejects unreadable, tiny, blurry, near-duplicate)',
  'portraits dataset --from DIR --out DIR [--size 128] [--blur 40] [--dup-bits 4]',
);

/** Where the style trainer keeps its run folder and its compact, committed checkpoint unless told otherwise. */
export const STYLE_DEFAULTS = { out: 'runs/style-face', checkpoint: 'models/checkpoints/style-face.pt' } as const;
/** The face stage's trainer: run folder, checkpoint, and the generator's held-out photos (kept out of its training too). */
export const FACE_SR_DEFAULTS = { out: 'runs/face-sr', checkpoint: 'models/checkpoints/face-sr.pt', holdout: 'models/checkpoints/style-face.holdout.json' } as const;

/** The trainers that keep one compact checkpoint across sessions, with their default paths in the checkout. */
const SESSION_TRAINERS: Record<string, { script: string; defaults: Readonly<Record<string, string>> }> = {
  style: { script: 'train_style.py', defaults: STYLE_DEFAULTS },
  'face-sr': { script: 'train_face_sr.py', defaults: FACE_SR_DEFAULTS },
};

/** Every --arch, the default first, with its trainer script. */
const TRAINERS: Readonly<Record<string, string>> = { progressive: 'train.py', ...Object.fromEntries(Object.entries(SESSION_TRAINERS).map(([arch, t]) => [arch, t.script])) };

/** Each trainer's own help under a heading; the session trainers' path defaults, which portraits fills in, first. */
async function trainDetails(): Promise<string> {
  const sections = await Promise.all(
    Object.entries(TRAINERS).map(async ([arch, script], i) => {
      const defaults = SESSION_TRAINERS[arch]?.defaults;
      const filled = defaults ? `portraits fills in ${Object.entries(defaults).map(([k, v]) => `--${k} ${v}`).join(' ')} unless given.\n` : '';
      return `\n== --arch ${arch}${i === 0 ? ' (the default)' : ''}: models/tools/${script}\n${filled}\n${await pythonHelp(script)}`;
    }),
  );
  return sections.join('\n');
}

const hasFlag = (argv: readonly string[], flag: string) => argv.some((a) => a === flag || a.startsWith(`${flag}=`));

/**
 * `--arch progressive` (the default) runs train.py; `--arch style` runs train_style.py (a W-space
 * generator trained across sessions into one compact checkpoint), with --out and --checkpoint
 * defaulting to STYLE_DEFAULTS in the checkout, given relative to `cwd` as a user would type them.
 */
export function trainInvocation(argv: readonly string[], cwd = process.cwd()): { script: string; args: string[] } {
  const args: string[] = [];
  let arch = 'progressive';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--arch') {
      const value = argv[++i];
      if (value === undefined) throw new UsageError('--arch needs a value: progressive, style or face-sr');
      arch = value;
    } else if (a.startsWith('--arch=')) arch = a.slice('--arch='.length);
    else args.push(a);
  }
  if (arch === 'progressive') return { script: 'train.py', args };
  const trainer = SESSION_TRAINERS[arch];
  if (!trainer) throw new UsageError(`--arch ${arch}: expected progressive, ${Object.keys(SESSION_TRAINERS).join(' or ')}`);
  if (!hasFlag(args, '--help') && !hasFlag(args, '-h')) {
    const root = join(TOOLS_DIR, '..', '..');
    for (const [key, path] of Object.entries(trainer.defaults)) {
      if (!hasFlag(args, `--${key}`)) args.push(`--${key}`, relative(cwd, join(root, path)) || '.');
    }
  }
  return { script: trainer.script, args };
}

export const train: Command = {
  name: 'train',
  summary: 'train a face GAN on a curated set: progressive (default), a style generator with a W space (--arch style), or the x2 face stage (--arch face-sr); checkpoints, --resume, samples, loss curves',
  usage:
    'portraits train --data DIR --out RUN_DIR [--resolution 64] [--kimg 600 | --minutes 85] [--resume]\n' +
    `       portraits train --arch style --data DIR [--out ${STYLE_DEFAULTS.out}] [--checkpoint ${STYLE_DEFAULTS.checkpoint}] [--resolution 64|128] [--minutes 140] [--resume]\n` +
    `       portraits train --arch face-sr --data DIR(200 px set) [--out ${FACE_SR_DEFAULTS.out}] [--checkpoint ${FACE_SR_DEFAULTS.checkpoint}] [--holdout ${FACE_SR_DEFAULTS.holdout}] [--minutes 60] [--resume]`,
  details: trainDetails,
  run: (argv) => {
    const { script, args } = trainInvocation(argv);
    return runPython(script, args);
  },
};
