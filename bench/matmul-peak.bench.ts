/**
 * The machine's measured fp32 matrix-multiply peak (square MatMuls in onnxruntime-node on
 * the CPU, all cores, and one core for reference), and the share of it the generator
 * achieves: its FLOPs counted from its ONNX graph (Conv/Gemm/MatMul multiply-adds x 2,
 * bench/support/onnx-flops.ts) over its measured run time, per batch size. An
 * onnxruntime profile then says where the generator's time goes (convolutions versus
 * everything else), which is why it reaches the share it does.
 *
 *   npx tsx bench/matmul-peak.bench.ts [--model default-face] [--sizes 512,1024,2048]
 *                                      [--batches 1,4,16,64] [--seconds 3]
 *
 * A figure, not a test: no thresholds.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeModel, floatTensor as protoFloat, model, node, valueInfo } from '../models/onnx/proto.js';
import { resolveConfig } from '../server/config.js';
import { generatorSpec, readManifest } from '../server/models/registry.js';
import { openSession, ort } from '../server/onnx/runtime.js';
import { gaussian } from '../common/random.js';
import { header, idleCheck } from './support/machine.js';
import { countFlops } from './support/onnx-flops.js';
import { fixed, percentile, table, timeRuns } from './support/stats.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'default-face' },
    sizes: { type: 'string', default: '512,1024,2048' },
    batches: { type: 'string', default: '1,4,16,64' },
    seconds: { type: 'string', default: '3' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const batches = values.batches.split(',').map(Number);
const minMs = Number(values.seconds) * 1000;
const cores = os.cpus().length;

console.log(header('fp32 matrix-multiply peak and the generator\'s share of it', `npx tsx bench/matmul-peak.bench.ts --model ${values.model} --sizes ${values.sizes} --batches ${values.batches} --seconds ${values.seconds}`));
console.log(await idleCheck());
console.log(`each point: 2 warm-up runs, then runs for at least ${values.seconds} s (and 5 runs); peak and achieved share both use the fastest run`);
console.log('(robust to other processes taking the CPU now and then); the median run is shown beside it\n');

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

/** GFLOP/s of the fastest and of the median run. */
async function matmulGflops(n: number, threads: number): Promise<{ best: number; median: number }> {
  const session = await ort.InferenceSession.create(matmulModel(n), { intraOpNumThreads: threads, graphOptimizationLevel: 'all' });
  const feeds = { a: new ort.Tensor('float32', gaussian(3, n * n), [n, n]) };
  for (let i = 0; i < 2; i++) await session.run(feeds);
  const times = await timeRuns(() => session.run(feeds), { minRuns: 5, minMs });
  await session.release();
  const gflops = (ms: number) => (2 * n ** 3) / (ms / 1000) / 1e9;
  return { best: gflops(Math.min(...times)), median: gflops(percentile(times, 50)) };
}

const peakRows: string[][] = [];
let peak = 0;
let peakOne = 0;
for (const n of sizes) {
  const all = await matmulGflops(n, cores);
  const one = await matmulGflops(n, 1);
  peak = Math.max(peak, all.best);
  peakOne = Math.max(peakOne, one.best);
  peakRows.push([`${n}x${n} x ${n}x${n}`, fixed(all.best), fixed(all.median), fixed(one.best), fixed(one.median)]);
  process.stdout.write(`  MatMul ${n}: ${fixed(all.best)} GFLOP/s on ${cores} threads, ${fixed(one.best)} on 1\n`);
}
console.log('\nmeasured fp32 MatMul (onnxruntime-node CPU / MLAS), GFLOP/s');
console.log(table(['shape', `${cores} threads best`, 'median', '1 thread best', 'median'], peakRows));
console.log(`peak: ${fixed(peak)} GFLOP/s on ${cores} threads (${fixed(peakOne)} on one core)\n`);

// --- the generator ---
const config = resolveConfig({ model: values.model });
const dir = join(config.modelsDir, values.model);
const { file, spec } = generatorSpec(await readManifest(dir));
const bytes = readFileSync(join(dir, file));
const latent = (batch: number) => ({ [spec.input]: new ort.Tensor('float32', gaussian(11, batch * spec.latentSize), [batch, spec.latentSize]) });
const counted = await countFlops(bytes, latent(1));
console.log(`generator: ${join(dir, file)}`);
console.log(`  ${(counted.flops / 1e6).toFixed(1)} MFLOP per image, counted from the graph (${counted.layers.length} Conv/Gemm/MatMul layers; multiply-adds x 2)`);
console.log(`  nodes: ${Object.entries(counted.ops).map(([k, v]) => `${k} ${v}`).join(', ')}`);

const genRows: string[][] = [];
const opened = await openSession(bytes, 'cpu', file);
for (const batch of batches) {
  const feeds = latent(batch);
  for (let i = 0; i < 2; i++) await opened.session.run(feeds);
  const times = await timeRuns(() => opened.session.run(feeds), { minRuns: 5, minMs });
  const ms = Math.min(...times);
  const median = percentile(times, 50);
  const gflops = (batch * counted.flops) / (ms / 1000) / 1e9;
  genRows.push([String(batch), fixed(ms, 2), fixed(median, 2), fixed((1000 * batch) / ms), fixed(gflops), `${fixed((100 * gflops) / peak)} %`, `${fixed((100 * (batch * counted.flops) / (median / 1000) / 1e9) / peak)} %`]);
  process.stdout.write(`  generator batch ${batch}: ${fixed(ms, 2)} ms, ${fixed(gflops)} GFLOP/s\n`);
}
await opened.session.release();
console.log('\ngenerator on onnxruntime-node CPU with the server\'s session options');
console.log(table(['batch', 'ms/run best', 'median', 'images/s', 'GFLOP/s', 'of MatMul peak', 'at median'], genRows));

// --- where the time goes: onnxruntime's own profile, per operator type ---
async function profile(batch: number): Promise<{ byOp: Map<string, number>; total: number; runs: number }> {
  const tmp = mkdtempSync(join(os.tmpdir(), 'portraits-profile-'));
  try {
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: cores, graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: join(tmp, 'gen') });
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
  const { byOp, total, runs } = await profile(batch);
  const sorted = [...byOp].sort((a, b) => b[1] - a[1]);
  const matrix = sorted.filter(([op]) => isMatrixOp(op)).reduce((s, [, d]) => s + d, 0);
  console.log(`  batch ${batch}: ${sorted.slice(0, 8).map(([op, d]) => `${op} ${fixed((100 * d) / total, 0)}%`).join(', ')}`);
  const inMatrix = (runs * batch * counted.flops) / (matrix / 1e6) / 1e9;
  console.log(`    matrix ops (Conv/Gemm/MatMul, fused or not) take ${fixed((100 * matrix) / total, 0)} % of kernel time, and run at ${fixed(inMatrix)} GFLOP/s (${fixed((100 * inMatrix) / peak)} % of peak) while they run`);
}
process.exit(0);
