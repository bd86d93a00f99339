/**
 * The machine's measured fp32 matrix-multiply peak (square MatMuls in onnxruntime on the
 * CPU, opened with the server's session options and a set thread count: all cores, and one
 * core for reference), and the share of it the generator
 * achieves: its FLOPs counted from its ONNX graph (Conv/Gemm/MatMul multiply-adds x 2,
 * bench/support/onnx-flops.ts) over its measured run time, per batch size. An
 * onnxruntime profile then says where the generator's time goes (convolutions versus
 * everything else), which is why it reaches the share it does.
 *
 *   npx tsx bench/matmul-peak.bench.ts [--model default-face] [--sizes 512,1024,2048]
 *                                      [--batches 1,4,16,64] [--seconds 3] [--rounds 3]
 *
 * A figure, not a test: no thresholds.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { encodeModel, floatTensor as protoFloat, model, node, valueInfo } from '../onnx-compilers/proto.js';
import { resolveConfig } from '../server/config.js';
import { generatorSpec, readManifest } from '../server/models/registry.js';
import { createSession, floatFeeds, floatTensor, openSession, type Session, type Tensor } from '../server/onnx/runtime.js';
import { generatorFeeds } from '../common/generator-inputs.js';
import { gaussian } from '../common/random.js';
import { DEFAULT_STATE } from '../common/state.js';
import { header, idleCheck, machineTicks } from './support/machine.js';
import { countFlops } from './support/onnx-flops.js';
import { benchOptions, SERVER_OPTIONS, timingOptions } from './support/options.js';
import { fixed, percentile, table, timeRuns } from './support/stats.js';

const TITLE = "fp32 matrix-multiply peak and the generator's share of it";
const { values, command } = benchOptions(import.meta.url, TITLE, {
  model: SERVER_OPTIONS.model,
  sizes: { default: [512, 1024, 2048], help: 'square MatMul sizes' },
  batches: { default: [1, 4, 16, 64], help: 'generator batch sizes' },
  ...timingOptions(3, 3),
});
const { sizes, batches, rounds } = values;
/** Each subject is timed for `seconds` in all, split into one slice per round. */
const sliceMs = (values.seconds * 1000) / rounds;
const cores = os.cpus().length;

console.log(header(TITLE, command));
console.log(await idleCheck());
console.log(`each subject: 2 warm-up runs, then ${values.seconds} s of runs in ${rounds} slices, taken in turns with the others;`);
console.log('peak and achieved share both use the fastest run (robust to other processes taking the CPU now and then);');
console.log('the median run is shown beside it\n');

// --- peak: C = A x B, square, fp32, B a constant (as weights are) ---
function matmulModel(n: number): Uint8Array {
  return encodeModel(
    model({
      name: `matmul${n}`,
      input: [valueInfo('a', [n, n])],
      output: [valueInfo('c', [n, n])],
      initializer: [protoFloat('b', [n, n], gaussian(7, n * n))],
      node: [node('MatMul', ['a', 'b'], ['c'])],
    }),
  );
}

// --- the generator ---
const config = resolveConfig({ model: values.model });
const dir = join(config.modelsDir, values.model);
const { file, spec } = generatorSpec(await readManifest(dir));
const bytes = readFileSync(join(dir, file));
// Fed as the server feeds it (a style generator's truncation and mixing inputs too).
const latent = (batch: number) =>
  floatFeeds(generatorFeeds(spec, gaussian(11, batch * spec.latentSize), batch, DEFAULT_STATE.face));
const counted = await countFlops(bytes, latent(1));

/** Something to time: a session, its feeds, and the FLOPs of one run. */
interface Subject {
  label: string;
  session: Session;
  feeds: Record<string, Tensor>;
  flops: number;
  times: number[];
}
const subjects: Subject[] = [];
for (const n of sizes) {
  for (const threads of [...new Set([cores, 1])]) {
    const session = await createSession(matmulModel(n), 'cpu', { threads });
    subjects.push({ label: `matmul ${n} ${threads}t`, session, feeds: { a: floatTensor(gaussian(3, n * n), [n, n]) }, flops: 2 * n ** 3, times: [] });
  }
}
const generator = await openSession(bytes, 'cpu', file);
for (const batch of batches) subjects.push({ label: `generator ${batch}`, session: generator.session, feeds: latent(batch), flops: batch * counted.flops, times: [] });

// Warm up, then take turns in slices, round after round: the peak and the generator see the same machine.
for (const s of subjects) for (let i = 0; i < 2; i++) await s.session.run(s.feeds);
const m0 = machineTicks();
for (let r = 0; r < rounds; r++) {
  for (const s of subjects) s.times.push(...(await timeRuns(() => s.session.run(s.feeds), { minRuns: 2, minMs: sliceMs })));
  process.stdout.write(`  round ${r + 1}/${rounds} done\n`);
}
const m1 = machineTicks();
console.log(`whole machine busy during the measurement: ${fixed((100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total), 0)} % of all cores (this bench included)`);
const gflops = (s: Subject, p: 'best' | 'median') => s.flops / ((p === 'best' ? Math.min(...s.times) : percentile(s.times, 50)) / 1000) / 1e9;
const find = (label: string) => subjects.find((s) => s.label === label)!;

const peakRows: string[][] = [];
let peak = 0;
let peakOne = 0;
for (const n of sizes) {
  const all = find(`matmul ${n} ${cores}t`);
  const one = find(`matmul ${n} 1t`);
  peak = Math.max(peak, gflops(all, 'best'));
  peakOne = Math.max(peakOne, gflops(one, 'best'));
  peakRows.push([`${n}x${n} x ${n}x${n}`, fixed(gflops(all, 'best')), fixed(gflops(all, 'median')), fixed(gflops(one, 'best')), fixed(gflops(one, 'median'))]);
}
console.log('\nmeasured fp32 MatMul (onnxruntime CPU / MLAS, the server\'s session options: server/onnx/runtime.ts), GFLOP/s');
console.log(table(['shape', `${cores} threads best`, 'median', '1 thread best', 'median'], peakRows));
console.log(`peak: ${fixed(peak)} GFLOP/s on ${cores} threads (${fixed(peakOne)} on one core)\n`);

console.log(`generator: ${join(dir, file)}`);
console.log(`  ${(counted.flops / 1e6).toFixed(1)} MFLOP per image, counted from the graph (${counted.layers.length} Conv/Gemm/MatMul layers; multiply-adds x 2):`);
console.log(`  ${counted.layers.map((l) => `${l.op} -> ${l.output.slice(1).join('x')} ${(l.flops / 1e6).toFixed(1)}`).join(', ')}`);
console.log(`  nodes: ${Object.entries(counted.ops).map(([k, v]) => `${k} ${v}`).join(', ')}`);
const genRows = batches.map((batch) => {
  const s = find(`generator ${batch}`);
  const best = Math.min(...s.times);
  const median = percentile(s.times, 50);
  return [String(batch), fixed(best, 2), fixed(median, 2), fixed((1000 * batch) / best), fixed(gflops(s, 'best')), `${fixed((100 * gflops(s, 'best')) / peak)} %`, `${fixed((100 * gflops(s, 'median')) / peak)} %`];
});
console.log('\ngenerator on onnxruntime CPU with the server\'s session options (server/onnx/runtime.ts)');
console.log(table(['batch', 'ms/run best', 'median', 'images/s (best)', 'GFLOP/s (best)', 'of MatMul peak', 'median run'], genRows));
for (const s of subjects) if (!s.label.startsWith('generator')) await s.session.release();
await generator.session.release();

// --- where the time goes: onnxruntime's own profile, per operator type ---
async function profile(batch: number): Promise<{ byOp: Map<string, number>; total: number; runs: number }> {
  const tmp = mkdtempSync(join(os.tmpdir(), 'portraits-profile-'));
  try {
    const session = await createSession(bytes, 'cpu', { threads: cores, profilePrefix: join(tmp, 'gen') });
    const feeds = latent(batch);
    const runs = Math.max(3, Math.round(64 / batch));
    for (let i = 0; i < runs; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const events = JSON.parse(readFileSync(join(tmp, readdirSync(tmp)[0]!), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
    const byOp = new Map<string, number>();
    for (const e of events) if (e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.args?.op_name) byOp.set(e.args.op_name, (byOp.get(e.args.op_name) ?? 0) + e.dur);
    return { byOp, total: [...byOp.values()].reduce((a, b) => a + b, 0), runs };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const isMatrixOp = (op: string) => /Conv|Gemm|MatMul/.test(op);
console.log('\nwhere the generator\'s kernel time goes (onnxruntime profile after its graph optimisations; share of kernel time)');
for (const batch of [batches[0]!, batches[batches.length - 1]!]) {
  const { byOp, total } = await profile(batch);
  const sorted = [...byOp].sort((a, b) => b[1] - a[1]);
  const matrix = sorted.filter(([op]) => isMatrixOp(op)).reduce((s, [, d]) => s + d, 0);
  console.log(`  batch ${batch}: ${sorted.slice(0, 8).map(([op, d]) => `${op} ${fixed((100 * d) / total, 0)}%`).join(', ')}`);
  console.log(`    matrix ops (Conv/Gemm/MatMul, fused or not) take ${fixed((100 * matrix) / total, 0)} % of kernel time; the rest is resizes, layout reorders and element-wise ops`);
}
process.exit(0);
