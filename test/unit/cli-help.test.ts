/**
 * `portraits help NAME` for every command: each flag a TypeScript command parses is explained
 * with its default and the names it accepts (from the same table the parser uses), and a
 * Python-backed command shows its script's own help, in which every option has a help string
 * that shows its default.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../cli/commands/index.js';
import { main } from '../../cli/main.js';
import { openCliDream } from '../../cli/dream-style.js';
import { MODELS_DIR } from '../../cli/model-flags.js';
import { checkPython, pythonPath, TOOLS_DIR } from '../../cli/python.js';
import { ConfigSchema, kebab } from '../../server/config.js';

async function helpOf(name: string): Promise<string> {
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    expect(await main(['help', name])).toBe(0);
  } finally {
    write.mockRestore();
  }
  return out;
}

/** Help wraps its lines: compare texts with every run of white space as one space. */
const flat = (text: string) => text.replace(/\s+/g, ' ');
const flagsIn = (usage: string) => [...new Set([...usage.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!))];

const typescriptCommands = COMMANDS.filter((c) => c.flags);
const pythonCommands = COMMANDS.filter((c) => !c.flags);

describe('portraits help, TypeScript commands', () => {
  it('covers every command that is not a Python script', () => {
    expect(typescriptCommands.map((c) => c.name).sort()).toEqual(['convert', 'doctor', 'dream', 'models', 'osc-table', 'render', 'video']);
  });

  it.each(typescriptCommands.map((c) => [c.name, c] as const))('%s explains every flag it parses, with its default and valid names', async (name, command) => {
    const help = await helpOf(name);
    const table = await command.flags!();
    for (const [flag, spec] of Object.entries(table)) {
      expect(help, `--${flag} starts an options line`).toMatch(new RegExp(`^  --${flag}( |$)`, 'm'));
      expect(flat(help), `--${flag}'s explanation`).toContain(flat(spec.help));
      if (spec.default !== undefined) expect(flat(help), `--${flag}'s default`).toContain(flat(`default: ${spec.default}`));
      if (Array.isArray(spec.names)) for (const n of spec.names) expect(flat(help), `--${flag} lists ${n}`).toContain(n);
    }
    // The usage line is written by hand: it may only name flags the table has.
    for (const flag of flagsIn(command.usage)) expect(Object.keys(table), `--${flag} in the usage`).toContain(flag);
  }, 60_000);

  it('dream lists the styles, the layers and the classes of the shipped dream network', async () => {
    const help = await helpOf('dream');
    const dream = await openCliDream(MODELS_DIR, undefined);
    for (const style of dream.catalogue.styles) expect(help).toMatch(new RegExp(`^  ${style.name} `, 'm'));
    for (const layer of dream.catalogue.layerNames()) expect(help).toContain(layer);
    const labels = (await readFile(join(dream.dir, dream.manifest.dream!.labels!), 'utf8')).split('\n').filter(Boolean);
    expect(help).toContain(`${labels.length} from`);
    expect(flat(help)).toContain(`${labels[0]},`);
  });

  it('render and video list the generators and dream networks found in the models folder', async () => {
    for (const name of ['render', 'video']) {
      const help = flat(await helpOf(name));
      expect(help).toMatch(/--model ID .*one of: [^(]*default-face/);
      expect(help).toMatch(/--dream-model ID .*one of: [^(]*darknet-tiny/);
    }
  });

  it('doctor takes every server setting, described from server/config.ts, with its default', async () => {
    const doctor = COMMANDS.find((c) => c.name === 'doctor')!;
    const table = await doctor.flags!();
    const defaults = ConfigSchema.parse({}) as Record<string, unknown>;
    for (const key of Object.keys(ConfigSchema.shape)) {
      const spec = table[kebab(key)];
      expect(spec, key).toBeDefined();
      expect(spec!.help, `${key} has a description`).not.toMatch(/^the server's "/);
      if (typeof defaults[key] === 'number') expect(spec!.default).toBe(String(defaults[key]));
    }
    expect(table.port!.help).toContain('HTTP port');
    expect(table.provider!.names).toEqual(['auto', 'webgpu', 'cpu']);
    expect(flat(await helpOf('doctor'))).toContain('--frame-size N Side in pixels of the square frames sent to displays. (default: 256; environment: PORTRAITS_FRAME_SIZE)');
  });
});

const torchMissing = checkPython(['torch']);
if (torchMissing) console.warn(`skipping the Python commands' help: ${torchMissing}`);

describe('portraits help, Python commands', () => {
  it.skipIf(torchMissing !== null).each(pythonCommands.map((c) => [c.name, c] as const))("%s shows its script's own help with defaults", async (name, command) => {
    const help = await helpOf(name);
    expect(help).toContain('options:');
    expect(help).toContain('(default: ');
    expect(help).not.toContain('cannot be shown');
    for (const flag of flagsIn(command.usage)) expect(help, `--${flag} from the usage`).toContain(`--${flag}`);
  }, 120_000);

  it.skipIf(torchMissing !== null)('train shows each architecture\'s trainer under its own heading', async () => {
    const help = await helpOf('train');
    for (const heading of ['--arch progressive (the default): models/tools/train.py', '--arch style: models/tools/train_style.py', '--arch face-sr: models/tools/train_face_sr.py']) {
      expect(help).toContain(`== ${heading}`);
    }
    expect(help).toContain('portraits fills in --out runs/style-face');
  }, 120_000);

  it('every option of the scripts has a help string that shows its default', () => {
    // Read from the source (no torch needed): add_argument calls whose default is not None, "" or False must say it.
    const check = [
      'import ast, sys',
      'for path in sys.argv[1:]:',
      '    for node in ast.walk(ast.parse(open(path).read())):',
      '        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":',
      '            kw = {k.arg: k.value for k in node.keywords}',
      '            flag = path.split("/")[-1] + " " + ast.unparse(node.args[0])',
      '            if "help" not in kw: print(flag, "has no help")',
      '            elif not (kw.get("default") is None or (isinstance(kw["default"], ast.Constant) and kw["default"].value in (None, "", False))):',
      '                text = ast.unparse(kw["help"])',
      '                if "%(default)s" not in text and "default:" not in text: print(flag, "does not show its default")',
    ].join('\n');
    const scripts = ['dataset.py', 'train.py', 'train_style.py', 'train_face_sr.py', 'export.py', 'evaluate.py', 'directions.py'].map((s) => join(TOOLS_DIR, s));
    const result = spawnSync(pythonPath(), ['-c', check, ...scripts], { encoding: 'utf8' });
    expect(result.error, `${pythonPath()} runs`).toBeUndefined();
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('');
  });
});
