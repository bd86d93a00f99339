/** `portraits <command>`: offline work on models, datasets, renders and the installation. */
import { COMMANDS } from './commands/index.js';
import { UsageError, type Command } from './command.js';
import { describeFlags } from './flags.js';

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return ['Imaginary Portraits: offline tools', '', 'usage: npx portraits <command> [options]', '', 'commands:', ...lines, '', 'portraits help <command> shows its options.'].join('\n');
}

/** `portraits help NAME`: the summary, the usage, every flag with its default, then the command's details. */
async function commandHelp(command: Command): Promise<string> {
  const lines = [command.summary, '', `usage: ${command.usage}`];
  if (command.flags) lines.push('', 'options:', ...(await describeFlags(await command.flags())));
  if (command.details) lines.push(await command.details());
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const target = COMMANDS.find((c) => c.name === rest[0]);
    process.stdout.write((target ? await commandHelp(target) : help()) + '\n');
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`portraits: unknown command '${name}'\n\n${help()}\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`portraits ${name}: ${err.message}\nusage: ${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`portraits ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
