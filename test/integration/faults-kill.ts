/**
 * For the kill -9 fault tests: runs a writer script (node + tsx) that announces its work
 * on stdout line by line, and kills it with SIGKILL a random few milliseconds after its
 * `killAfter`-th "begin" line, i.e. at a random moment inside a write.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `script args`, passes each stdout line to `onLine`, and resolves once the SIGKILL has landed. */
export function killDuringWrites(script: string, args: readonly string[], killAfter: number, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    let stderr = '';
    let begun = 0;
    let killing = false;
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('begin ')) begun += 1;
        onLine(line);
      }
      if (!killing && begun >= killAfter) {
        killing = true;
        // A random moment inside the write that has just begun (open, write, fsync, rename, folder fsync).
        setTimeout(() => child.kill('SIGKILL'), Math.random() * 15);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited by itself (code ${code}): ${stderr}`));
      resolve();
    });
  });
}
