/** Every CLI command, in the order `portraits help` lists them. Add a command: one file, one line here. */
import type { Command } from '../command.js';
import { convert } from './convert.js';
import { directions } from './directions.js';
import { doctor } from './doctor.js';
import { dream } from './dream.js';
import { models } from './models.js';
import { dataset, train } from './python-tools.js';
import { evaluateModel, exportModel } from './model-files.js';
import { oscTable } from './osc-table.js';
import { render } from './render.js';
import { video } from './video.js';

export const COMMANDS: readonly Command[] = [dataset, train, exportModel, evaluateModel, directions, convert, dream, render, video, models, doctor, oscTable];
