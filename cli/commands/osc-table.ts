/**
 * `portraits osc-table`: prints the OSC address tables derived from the state schema, or
 * with --write rewrites them in docs/osc.md (test/unit/osc-docs.test.ts keeps it honest).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command.js';
import { flagOptions, flagTable, parseFlags } from '../flags.js';

export const OSC_DOC = fileURLToPath(new URL('../../docs/osc.md', import.meta.url));

const FLAGS = flagTable({
  write: { type: 'boolean', help: 'rewrite the tables in docs/osc.md instead of printing them' },
});

export const oscTable: Command = {
  name: 'osc-table',
  summary: 'print the OSC address table derived from the state schema (--write updates docs/osc.md)',
  usage: 'portraits osc-table [--write]',
  flags: async () => FLAGS,
  async run(argv) {
    const { write } = parseFlags(argv, flagOptions(FLAGS)).values;
    // Imported lazily so `portraits help` does not load zod schemas and osc-js.
    const { buildAddressSpace } = await import('../../server/osc/address-space.js');
    const { addressTables, updateDoc } = await import('../../server/osc/docs.js');
    const space = buildAddressSpace();
    for (const problem of space.unmapped) process.stderr.write(`warning: ${problem}\n`);
    if (!write) {
      process.stdout.write(addressTables(space) + '\n');
      return 0;
    }
    const before = await readFile(OSC_DOC, 'utf8');
    const after = updateDoc(before, space);
    if (after === before) {
      process.stdout.write(`${OSC_DOC} is up to date\n`);
      return 0;
    }
    await writeFile(OSC_DOC, after);
    process.stdout.write(`updated ${OSC_DOC}\n`);
    return 0;
  },
};
