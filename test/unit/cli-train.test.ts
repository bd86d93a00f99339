/** `portraits train --arch`: which trainer runs, with which arguments (cli/commands/python-tools.ts). */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/command.js';
import { STYLE_DEFAULTS, trainInvocation } from '../../cli/commands/python-tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('portraits train --arch', () => {
  it('runs the progressive trainer by default, with the arguments as given', () => {
    expect(trainInvocation(['--data', 'd', '--out', 'runs/x', '--minutes', '80'], ROOT)).toEqual({ script: 'train.py', args: ['--data', 'd', '--out', 'runs/x', '--minutes', '80'] });
    expect(trainInvocation(['--arch', 'progressive', '--data', 'd'], ROOT)).toEqual({ script: 'train.py', args: ['--data', 'd'] });
  });

  it('runs the style trainer with its run folder and committed checkpoint as defaults, relative to where it is called', () => {
    expect(trainInvocation(['--arch', 'style', '--data', 'data/utk128', '--resume'], ROOT)).toEqual({
      script: 'train_style.py',
      args: ['--data', 'data/utk128', '--resume', '--out', STYLE_DEFAULTS.out, '--checkpoint', STYLE_DEFAULTS.checkpoint],
    });
    const fromTools = trainInvocation(['--arch=style', '--data', 'x'], join(ROOT, 'models', 'tools'));
    expect(fromTools.args).toEqual(['--data', 'x', '--out', '../../runs/style-face', '--checkpoint', '../checkpoints/style-face.pt']);
  });

  it('keeps an explicit --out and --checkpoint, adds nothing to --help, and refuses an unknown architecture', () => {
    expect(trainInvocation(['--arch', 'style', '--data', 'd', '--out', 'r', '--checkpoint=c.pt'], ROOT).args).toEqual(['--data', 'd', '--out', 'r', '--checkpoint=c.pt']);
    expect(trainInvocation(['--arch', 'style', '--help'], ROOT).args).toEqual(['--help']);
    expect(() => trainInvocation(['--arch', 'stylegan3'], ROOT)).toThrow(UsageError);
  });

  it('runs the face stage trainer with its checkpoint and the generator\'s held-out photos as defaults', () => {
    expect(trainInvocation(['--arch', 'face-sr', '--data', 'data/utk200'], ROOT)).toEqual({
      script: 'train_face_sr.py',
      args: ['--data', 'data/utk200', '--out', 'runs/face-sr', '--checkpoint', 'models/checkpoints/face-sr.pt', '--holdout', 'models/checkpoints/style-face.holdout.json'],
    });
    expect(() => trainInvocation(['--arch'], ROOT)).toThrow(/--arch needs a value/);
  });
});
