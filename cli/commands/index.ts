/** Every CLI command, in the order `portraits help` lists them. Add a command: one file, one line here. */
import type { Command } from '../command.js';
import { convert } from './convert.js';
import { doctor } from './doctor.js';
import { dataset, train } from './python-tools.js';

export const COMMANDS: readonly Command[] = [dataset, train, convert, doctor];
