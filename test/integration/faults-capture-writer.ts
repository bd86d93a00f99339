/**
 * Child process for faults-captures.test.ts: saves captures through the project's capture
 * store (server/captures.ts), feeding it small synthetic frames, announcing each save
 * before it starts and its id when it is done, until the test kills it with SIGKILL.
 * Usage: faults-capture-writer.ts DIR.
 */
import { DEFAULT_STATE } from '../../common/state.js';
import { Captures } from '../../server/captures.js';
import { fixedSnapshot, type FrameJob } from '../../server/stages/stage.js';

async function main(): Promise<void> {
  const [dir] = process.argv.slice(2);
  if (!dir) throw new Error('usage: faults-capture-writer.ts DIR');
  const captures = await Captures.open(dir, { keep: 1_000_000, size: 64, model: { id: 'fault-test', licence: { model: 'test fixture' } } as never });
  process.stdout.write('ready\n');
  for (let n = 0; ; n++) {
    const side = 64;
    const data = new Float32Array(3 * side * side).map((_, i) => ((i * 7 + n * 13) % 255) / 255);
    const job: FrameJob = { snapshot: fixedSnapshot(), meta: { frame: n, serverTime: Date.now(), stateVersion: n, mode: 'walk', seeds: [n, n + 1], t: 0, width: side, height: side, format: 'jpeg', timings: {} }, image: { data, width: side, height: side }, latent: new Float32Array(8) };
    process.stdout.write(`begin ${n}\n`);
    const saved = captures.save(DEFAULT_STATE);
    // The capture waits for the next frame; hand it one as the frame loop would.
    const feed = setInterval(() => captures.offer(job), 1);
    const id = await saved.finally(() => clearInterval(feed));
    process.stdout.write(`done ${id}\n`);
  }
}

if (process.argv[1]?.endsWith('faults-capture-writer.ts')) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  });
}
