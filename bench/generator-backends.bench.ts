/**
 * Generator throughput per backend, on the same ONNX file in one run: onnxruntime-node on
 * the CPU (with the server's own session options), onnxruntime-node on WebGPU where an
 * adapter exists, and onnxruntime-web's WebAssembly build running in Node. Images per
 * second at batch 1 (what the live frame path does) and at a larger batch, the ratio
 * between the backends, and how far their outputs agree.
 *
 * onnxruntime-web reads its thread count once per process, so each wasm thread count runs
 * in a child process (this script with --only-wasm) and the ratio uses the fastest of them.
 *
 *   npx tsx bench/generator-backends.bench.ts [--model default-face] [--batch 16]
 *                                             [--seconds 4] [--wasm-threads 1,<cores>]
 *
 * A figure, not a test: no thresholds.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../server/config.js';
import { generatorSpec, readManifest } from '../server/models/registry.js';
import { openSession, ort } from '../server/onnx/runtime.js';
import { gaussian } from '../common/random.js';
import { header, idleCheck } from './support/machine.js';
import { processUsage } from './support/server-process.js';
import { fixed, percentile, table, timeRuns } from './support/stats.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'default-face' },
    batch: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '4' },
    'wasm-threads': { type: 'string', default: [...new Set([1, os.cpus().length])].join(',') },
    /** Internal: measure onnxruntime-web alone with this many threads and print the result as JSON. */
    'only-wasm': { type: 'string' },
  },
});
const batches = [1, Number(values.batch)];
const minMs = Number(values.seconds) * 1000;
const wasmThreads = values['wasm-threads'].split(',').map(Number);
const child = values['only-wasm'] !== undefined;
/** In a child, progress goes to stderr and the result alone to stdout. */
const progress = (line: string) => (child ? process.stderr : process.stdout).write(line);

const config = resolveConfig({ model: values.model });
const dir = join(config.modelsDir, values.model);
const { file, spec } = generatorSpec(await readManifest(dir));
const bytes = readFileSync(join(dir, file));

if (!child) {
  console.log(header('generator throughput per backend (same ONNX file, one run)', `npx tsx bench/generator-backends.bench.ts --model ${values.model} --batch ${values.batch} --seconds ${values.seconds} --wasm-threads ${values['wasm-threads']}`));
  console.log(await idleCheck());
  console.log(`model: ${join(dir, file)} (${(bytes.length / 2 ** 20).toFixed(1)} MiB), input '${spec.input}' [N, ${spec.latentSize}] -> '${spec.output}' [N, 3, ${spec.resolution}, ${spec.resolution}]`);
  console.log(`each point: 3 warm-up runs, then runs for at least ${values.seconds} s (and 5 runs); images/s from the median run, the fastest beside it\n`);
}

/** Any session that takes feeds and returns float tensors: the node and web APIs have the same shape. */
interface Runner {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}
interface TensorCtor {
  new (type: 'float32', data: Float32Array, dims: readonly number[]): unknown;
}

interface Point {
  batch: number;
  msPerRun: number;
  bestMs: number;
  imagesPerSecond: number;
}
interface BackendResult {
  name: string;
  detail: string;
  points: Point[];
  /** Batch-1 output for comparing backends. */
  output?: Float32Array;
  skipped?: string;
}

const latents = new Map(batches.map((b) => [b, gaussian(1234, b * spec.latentSize)]));

async function measure(name: string, detail: string, runner: Runner, Tensor: TensorCtor): Promise<BackendResult> {
  const points: Point[] = [];
  let output: Float32Array | undefined;
  for (const batch of batches) {
    const feeds = { [spec.input]: new Tensor('float32', latents.get(batch)!, [batch, spec.latentSize]) };
    for (let i = 0; i < 3; i++) await runner.run(feeds);
    if (batch === 1) output = (await runner.run(feeds))[spec.output]!.data as Float32Array;
    const times = await timeRuns(() => runner.run(feeds), { minRuns: 5, minMs });
    const ms = percentile(times, 50);
    points.push({ batch, msPerRun: ms, bestMs: Math.min(...times), imagesPerSecond: (1000 * batch) / ms });
    progress(`  ${name}, batch ${batch}: ${fixed(ms, 2)} ms per run (median of ${times.length}), ${fixed((1000 * batch) / ms)} images/s\n`);
  }
  await runner.release();
  return output ? { name, detail, points, output } : { name, detail, points };
}

/** onnxruntime-web, WebAssembly (SIMD; threads through worker_threads), in Node: it takes the model's bytes. */
async function measureWasm(threads: number): Promise<BackendResult> {
  const web = await import('onnxruntime-web');
  web.env.wasm.numThreads = threads;
  const threadsBefore = processUsage(process.pid).threads;
  const session = await web.InferenceSession.create(new Uint8Array(bytes), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const threadsAfter = processUsage(process.pid).threads;
  const detail = `onnxruntime-web ${web.env.versions.web}, wasm execution provider, env.wasm.numThreads = ${threads} (process threads ${threadsBefore} -> ${threadsAfter} after session create)`;
  return measure(`web-wasm-${threads}t`, detail, session as unknown as Runner, web.Tensor as unknown as TensorCtor);
}

if (child) {
  const r = await measureWasm(Number(values['only-wasm']));
  const output = r.output ? Buffer.from(r.output.buffer, r.output.byteOffset, r.output.byteLength).toString('base64') : undefined;
  // exit only once the pipe has taken the whole line
  await new Promise((resolve) => process.stdout.write(JSON.stringify({ ...r, output }) + '\n', resolve));
  process.exit(0);
}

/** Runs this script with --only-wasm in a fresh process and reads its result. */
function wasmInChild(threads: number): Promise<BackendResult> {
  const script = fileURLToPath(import.meta.url);
  const args = ['--import', 'tsx', script, '--model', values.model, '--batch', values.batch, '--seconds', values.seconds, '--only-wasm', String(threads)];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`wasm measurement with ${threads} thread(s) failed (exit ${code})`));
      const parsed = JSON.parse(out.trim().split('\n').pop()!) as Omit<BackendResult, 'output'> & { output?: string };
      const bytes = parsed.output ? Buffer.from(parsed.output, 'base64') : null;
      resolve({ ...parsed, output: bytes ? new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) : undefined });
    });
  });
}

const results: BackendResult[] = [];

// 1. onnxruntime-node, CPU, exactly as the server opens it.
{
  const opened = await openSession(bytes, 'cpu', file);
  results.push(await measure('node-cpu', 'onnxruntime-node, CPU execution provider, the server\'s session options (server/onnx/runtime.ts)', opened.session, ort.Tensor));
}

// 2. onnxruntime-node, WebGPU: tried for real; without an adapter the reason is printed.
{
  const dri = existsSync('/dev/dri') ? readdirSync('/dev/dri').join(', ') || 'empty' : 'absent';
  try {
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
    results.push(await measure('node-webgpu', `onnxruntime-node, WebGPU execution provider (/dev/dri: ${dri})`, session, ort.Tensor));
  } catch (err) {
    const message = (err as Error).message;
    // onnxruntime prefixes its source location; the sentence after it is the reason
    const reason = message.match(/Failed to get a WebGPU adapter[^\n]*/)?.[0] ?? message.split('\n')[0]!;
    results.push({ name: 'node-webgpu', detail: `onnxruntime-node, WebGPU execution provider (/dev/dri: ${dri})`, points: [], skipped: reason });
    console.log(`  node-webgpu: skipped, no WebGPU adapter on this machine (/dev/dri ${dri}): ${reason}`);
  }
}

// 3. onnxruntime-web wasm, once per thread count.
for (const threads of wasmThreads) results.push(await wasmInChild(threads));

console.log('\nbackends');
for (const r of results) console.log(`  ${r.name}: ${r.detail}${r.skipped ? `\n    skipped: ${r.skipped}` : ''}`);

console.log('\nimages per second (median run)');
console.log(
  table(
    ['backend', ...batches.map((b) => `batch ${b}`), ...batches.map((b) => `ms/run @${b} median (best)`)],
    results.map((r) => [
      r.name,
      ...batches.map((b) => (r.skipped ? 'skipped' : fixed(r.points.find((p) => p.batch === b)!.imagesPerSecond))),
      ...batches.map((b) => {
        const p = r.points.find((q) => q.batch === b);
        return p ? `${fixed(p.msPerRun, 2)} (${fixed(p.bestMs, 2)})` : '-';
      }),
    ]),
  ),
);

const cpu = results.find((r) => r.name === 'node-cpu')!;
const wasms = results.filter((r) => r.name.startsWith('web-wasm'));
const ips = (r: BackendResult, b: number) => r.points.find((p) => p.batch === b)!.imagesPerSecond;
console.log('\nratio node-cpu / web-wasm (images/s, median runs; against the fastest wasm thread count at each batch)');
for (const b of batches) {
  const best = wasms.reduce((x, y) => (ips(y, b) > ips(x, b) ? y : x));
  console.log(`  batch ${b}: ${fixed(ips(cpu, b) / ips(best, b), 2)}x (vs ${best.name}; ${wasms.map((w) => `${w.name} ${fixed(ips(cpu, b) / ips(w, b), 2)}x`).join(', ')})`);
}
const webgpu = results.find((r) => r.name === 'node-webgpu')!;
if (!webgpu.skipped) {
  for (const b of batches) {
    const ratio = webgpu.points.find((p) => p.batch === b)!.imagesPerSecond / cpu.points.find((p) => p.batch === b)!.imagesPerSecond;
    console.log(`  node-webgpu / node-cpu, batch ${b}: ${fixed(ratio, 2)}x`);
  }
}

console.log('\nagreement with node-cpu at batch 1 (max |difference| over all pixels, output range is ' + `[${spec.range.join(', ')}])`);
for (const r of results) {
  if (r === cpu || !r.output) continue;
  let max = 0;
  for (let i = 0; i < r.output.length; i++) max = Math.max(max, Math.abs(r.output[i]! - cpu.output![i]!));
  console.log(`  ${r.name}: ${max.toExponential(2)}`);
}
process.exit(0);
