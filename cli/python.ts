/**
 * Model tooling (dataset curation, training, export) is PyTorch; users never call
 * Python themselves. This runs a script from models/tools with Debian's python3,
 * which is the one that has python3-torch (the `python3` on PATH may be another).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TOOLS_DIR = fileURLToPath(new URL('../models/tools/', import.meta.url));

/** The interpreter to use: $PORTRAITS_PYTHON, else /usr/bin/python3 where it exists, else python3. */
export function pythonPath(): string {
  if (process.env.PORTRAITS_PYTHON) return process.env.PORTRAITS_PYTHON;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Says what is missing (and how to install it) when the Python side cannot start. */
export function checkPython(modules: readonly string[] = ['torch', 'numpy', 'cv2']): string | null {
  const py = pythonPath();
  const probe = spawnSync(py, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (probe.error) return `${py} was not found. Install Python 3 (Debian: apt-get install -y python3).`;
  if (probe.status !== 0) {
    const missing = /No module named '([^']+)'/.exec(probe.stderr)?.[1] ?? probe.stderr.trim();
    return `${py} lacks ${missing}. On Debian: apt-get install -y python3-torch python3-torchvision python3-onnx python3-opencv`;
  }
  return null;
}

/** The tools import each other by name, so models/tools is on the path. */
const pythonEnv = (): NodeJS.ProcessEnv => ({ ...process.env, PYTHONPATH: TOOLS_DIR, PYTHONUNBUFFERED: '1' });

/** Runs models/tools/<script> with the given arguments, streaming its output; resolves to the exit code. */
export function runPython(script: string, args: readonly string[]): Promise<number> {
  const problem = checkPython();
  if (problem) {
    process.stderr.write(`portraits: ${problem}\n`);
    return Promise.resolve(1);
  }
  return new Promise((resolve) => {
    const child = spawn(pythonPath(), [TOOLS_DIR + script, ...args], { stdio: 'inherit', env: pythonEnv() });
    child.on('error', (err) => {
      process.stderr.write(`portraits: could not start Python: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * A script's own argparse help (`--help`), so `portraits help` and the script cannot disagree.
 * When Python or a module it imports is missing, one line says so instead.
 */
export function pythonHelp(script: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(pythonPath(), [TOOLS_DIR + script, '--help'], { stdio: ['ignore', 'pipe', 'pipe'], env: pythonEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const unavailable = (why: string) => resolve(`(the options of models/tools/${script} cannot be shown: ${why})`);
    child.on('error', (err) => unavailable(`could not start ${pythonPath()}: ${err.message}`));
    child.on('close', (code) => {
      if (code === 0) return resolve(stdout.trimEnd());
      // Most often a missing module (torch, cv2): say which, and how to install it.
      unavailable(checkPython() ?? (stderr.trim().split('\n').at(-1) || `exit code ${code}`));
    });
  });
}

/** `portraits help` for a Python-backed command: its script's own help, the one description of its options. */
export async function scriptDetails(script: string): Promise<string> {
  return `\nmodels/tools/${script} takes these options (its own --help):\n\n${await pythonHelp(script)}`;
}
