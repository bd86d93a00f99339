/** The model-making commands, each a thin wrapper over a script in models/tools. */
import type { Command } from '../command.js';
import { runPython } from '../python.js';

function pythonCommand(name: string, script: string, summary: string, usage: string): Command {
  return { name, summary, usage, run: (argv) => runPython(script, argv) };
}

export const dataset = pythonCommand(
  'dataset',
  'dataset.py',
  'curate a photo folder into a training set (rejects unreadable, tiny, blurry, near-duplicate)',
  'portraits dataset --from DIR --out DIR [--size 128] [--blur 40] [--dup-bits 4]',
);

export const train = pythonCommand(
  'train',
  'train.py',
  'train a progressive face GAN on a curated set (checkpoints, --resume, samples, loss curves)',
  'portraits train --data DIR --out RUN_DIR [--resolution 64] [--kimg 600 | --minutes 85] [--resume]',
);
