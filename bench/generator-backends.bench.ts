/**
 * Generator throughput per backend, on the same ONNX file in one run: onnxruntime for Node
 * on the CPU and on WebGPU where an adapter exists (both with the server's own session
 * options, server/onnx/runtime.ts), and onnxruntime-web's WebAssembly build running in Node. Images per
 * second at batch 1 (what the live frame path does) and at a larger batch, the ratio
 * between the backends, and how far their outputs agree.
 *
 * onnxruntime-web reads its thread count once per process, so each wasm thread count runs
 * in a child process (this script with --only-wasm, driven over IPC). The backends take
 * turns in short slices, round after round, so that anything else running on the machine
 * slows them all alike and the ratio stays fair.
 *
 *   npx tsx bench/generator-backends.bench.ts [--model default-face] [--batch 16]
 *                                             [--seconds 4] [--rounds 4] [--wasm-threads 1,<cores>]
 *
 * A figure, not a test: no thresholds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../server/config.js';
import { generatorSpec, readManifest } from '../server/models/registry.js';
import { createSession, floatTensor, openSession } from '../server/onnx/runtime.js';
import { generatorFeeds } from '../common/generator-inputs.js';
import { gaussian } from '../common/random.js';
import { DEFAULT_STATE } from '../common/state.js';
import { header, idleCheck, machineTicks } from './support/machine.js';
import { benchOptions, SERVER_OPTIONS, timingOptions } from './support/options.js';
import { processUsage } from './support/server-process.js';
import { fixed, percentile, table, timeRuns } from './support/stats.js';

const TITLE = 'generator throughput per backend (same ONNX file, one run)';
const { values, command } = benchOptions(import.meta.url, TITLE, {
  model: SERVER_OPTIONS.model,
  batch: { default: 16, help: 'the larger batch size (batch 1 is always run)' },
  ...timingOptions(4, 4),
  'wasm-threads': { default: [...new Set([1, os.cpus().length])], help: 'onnxruntime-web thread counts, one backend each' },
  'only-wasm': { help: 'serve onnxruntime-web with this many threads to the parent over IPC', internal: true },
});
const batches = [1, values.batch];
const { rounds } = values;
const sliceMs = (values.seconds * 1000) / rounds;

const config = resolveConfig({ model: values.model });
const dir = join(config.modelsDir, values.model);
const { file, spec } = generatorSpec(await readManifest(dir));
const bytes = readFileSync(join(dir, file));
const latents = new Map(batches.map((b) => [b, gaussian(1234, b * spec.latentSize)]));

/** What the node and web APIs have in common. */
interface Runner {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}
/** Makes a float32 input tensor for one API. */
type MakeTensor = (data: Float32Array, dims: readonly number[]) => unknown;

/** A backend that can time runs for a while at a batch size and hand back its batch-1 picture. */
interface Backend {
  name: string;
  detail: string;
  time(batch: number, ms: number): Promise<number[]>;
  output(): Promise<Float32Array>;
  close(): Promise<void>;
}

function localBackend(name: string, detail: string, runner: Runner, tensor: MakeTensor): Backend {
  // Fed as the server feeds it (a style generator's truncation and mixing inputs too), in this API's tensors.
  const feeds = new Map(batches.map((b) => [b, Object.fromEntries(generatorFeeds(spec, latents.get(b)!, b, DEFAULT_STATE.face).map((f) => [f.name, tensor(f.data, f.dims)]))]));
  const warm = new Set<number>();
  return {
    name,
    detail,
    async time(batch, ms) {
      const f = feeds.get(batch)!;
      if (!warm.has(batch)) for (let i = 0; i < 3; i++) await runner.run(f);
      warm.add(batch);
      return timeRuns(() => runner.run(f), { minRuns: 1, minMs: ms });
    },
    async output() {
      return (await runner.run(feeds.get(1)!))[spec.output]!.data as Float32Array;
    },
    close: () => runner.release(),
  };
}

/** onnxruntime-web, WebAssembly (SIMD; threads through worker_threads), in Node: it takes the model's bytes. */
async function wasmBackend(threads: number): Promise<Backend> {
  const web = await import('onnxruntime-web');
  web.env.wasm.numThreads = threads;
  const before = processUsage(process.pid).threads;
  const session = await web.InferenceSession.create(new Uint8Array(bytes), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const after = processUsage(process.pid).threads;
  const detail = `onnxruntime-web ${web.env.versions.web}, wasm execution provider, env.wasm.numThreads = ${threads} (process threads ${before} -> ${after} after session create)`;
  return localBackend(`web-wasm-${threads}t`, detail, session as unknown as Runner, (data, dims) => new web.Tensor('float32', data, dims));
}

type Ask = { op: 'time'; batch: number; ms: number } | { op: 'output' } | { op: 'close' };
type Request = Ask & { id: number };

if (values['only-wasm'] !== undefined) {
  // Child: serve one wasm backend until told to close.
  const backend = await wasmBackend(Number(values['only-wasm']));
  process.send!({ ready: true, name: backend.name, detail: backend.detail });
  process.on('message', async (req: Request) => {
    if (req.op === 'time') process.send!({ id: req.id, times: await backend.time(req.batch, req.ms) });
    else if (req.op === 'output') process.send!({ id: req.id, output: Buffer.from((await backend.output()).buffer).toString('base64') });
    else {
      await backend.close();
      process.send!({ id: req.id }, () => process.exit(0));
    }
  });
} else {
  await main();
}

/** A wasm backend in its own process, so it gets its own thread count. */
async function wasmInChild(threads: number): Promise<Backend> {
  const script = fileURLToPath(import.meta.url);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, '--model', values.model, '--batch', String(values.batch), '--only-wasm', String(threads)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ name: string; detail: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { name: string; detail: string }));
    child.once('exit', (code) => reject(new Error(`the wasm process (${threads} threads) exited with code ${code} before it was ready`)));
  });
  child.removeAllListeners('exit');
  let nextId = 0;
  const ask = <T>(req: Ask): Promise<T> =>
    new Promise((resolve) => {
      const id = nextId++;
      const onMessage = (m: { id: number } & T) => {
        if (m.id !== id) return;
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      child.send({ ...req, id });
    });
  return {
    ...ready,
    time: async (batch, ms) => (await ask<{ times: number[] }>({ op: 'time', batch, ms })).times,
    output: async () => {
      const b = Buffer.from((await ask<{ output: string }>({ op: 'output' })).output, 'base64');
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    },
    close: async () => void (await ask({ op: 'close' })),
  };
}

async function main(): Promise<void> {
  console.log(header(TITLE, command));
  console.log(await idleCheck());
  console.log(`model: ${join(dir, file)} (${(bytes.length / 2 ** 20).toFixed(1)} MiB), input '${spec.input}' [N, ${spec.latentSize}] -> '${spec.output}' [N, 3, ${spec.resolution}, ${spec.resolution}]`);
  console.log(`each backend and batch: 3 warm-up runs, then ${rounds} slices of ${fixed(sliceMs / 1000, 1)} s taken in turns with the other backends;`);
  console.log('images/s from the median run; the fastest run beside it\n');

  const backends: Backend[] = [];
  const skipped: { name: string; detail: string; reason: string }[] = [];

  // 1. onnxruntime for Node, CPU, exactly as the server opens it.
  const opened = await openSession(bytes, 'cpu', file);
  backends.push(localBackend('node-cpu', "onnxruntime for Node, CPU execution provider, the server's session options (server/onnx/runtime.ts)", opened.session, floatTensor));

  // 2. onnxruntime for Node, WebGPU (the server's options, no CPU fallback): tried for real; without an adapter the reason is printed.
  const dri = existsSync('/dev/dri') ? readdirSync('/dev/dri').join(', ') || 'empty' : 'absent';
  // Without a GPU device the only adapter Dawn can find is a software Vulkan driver (Mesa's lavapipe):
  // good for checking correctness (test/integration/webgpu.test.ts), meaningless as a speed.
  const software = dri === 'absent' || !dri.includes('renderD') ? '; no GPU device, so a software Vulkan adapter (lavapipe): its speed says nothing about a GPU' : '';
  const webgpuDetail = `onnxruntime for Node, WebGPU execution provider (/dev/dri: ${dri}${software})`;
  try {
    const session = await createSession(bytes, 'webgpu');
    backends.push(localBackend('node-webgpu', webgpuDetail, session, floatTensor));
  } catch (err) {
    const message = (err as Error).message;
    // onnxruntime prefixes its source location; the sentence after it is the reason
    const reason = message.match(/Failed to get a WebGPU adapter[^\n]*/)?.[0] ?? message.split('\n')[0]!;
    skipped.push({ name: 'node-webgpu', detail: webgpuDetail, reason });
  }

  // 3. onnxruntime-web wasm, one process per thread count.
  for (const threads of values['wasm-threads']) backends.push(await wasmInChild(threads));

  const times = new Map(backends.map((b) => [b.name, new Map(batches.map((n) => [n, [] as number[]]))]));
  const m0 = machineTicks();
  for (let r = 0; r < rounds; r++) {
    for (const batch of batches) for (const b of backends) times.get(b.name)!.get(batch)!.push(...(await b.time(batch, sliceMs)));
    process.stdout.write(`  round ${r + 1}/${rounds} done\n`);
  }
  const m1 = machineTicks();
  const outputs = new Map<string, Float32Array>();
  for (const b of backends) outputs.set(b.name, await b.output());
  for (const b of backends) await b.close();

  console.log(`\nwhole machine busy during the measurement: ${fixed((100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total), 0)} % of all cores (this bench included)`);
  console.log('\nbackends');
  for (const b of backends) console.log(`  ${b.name}: ${b.detail}`);
  for (const s of skipped) console.log(`  ${s.name}: ${s.detail}\n    skipped, no WebGPU adapter on this machine: ${s.reason}`);

  const ms = (name: string, batch: number, p: 'median' | 'best') => {
    const t = times.get(name)!.get(batch)!;
    return p === 'best' ? Math.min(...t) : percentile(t, 50);
  };
  const ips = (name: string, batch: number, p: 'median' | 'best' = 'median') => (1000 * batch) / ms(name, batch, p);
  console.log('\nimages per second');
  console.log(
    table(
      ['backend', ...batches.map((b) => `batch ${b} median (best)`), ...batches.map((b) => `ms/run @${b} median (best)`), 'runs'],
      [
        ...backends.map((b) => [
          b.name,
          ...batches.map((n) => `${fixed(ips(b.name, n))} (${fixed(ips(b.name, n, 'best'))})`),
          ...batches.map((n) => `${fixed(ms(b.name, n, 'median'), 2)} (${fixed(ms(b.name, n, 'best'), 2)})`),
          batches.map((n) => times.get(b.name)!.get(n)!.length).join('/'),
        ]),
        ...skipped.map((s) => [s.name, ...batches.map(() => 'skipped'), ...batches.map(() => '-'), '-']),
      ],
    ),
  );

  const wasms = backends.filter((b) => b.name.startsWith('web-wasm')).map((b) => b.name);
  console.log('\nratio node-cpu / web-wasm (images/s), against the fastest wasm thread count at each batch');
  for (const n of batches) {
    for (const p of ['median', 'best'] as const) {
      const best = wasms.reduce((x, y) => (ips(y, n, p) > ips(x, n, p) ? y : x));
      console.log(`  batch ${n}, ${p} runs: ${fixed(ips('node-cpu', n, p) / ips(best, n, p), 2)}x (vs ${best}; ${wasms.map((w) => `${w} ${fixed(ips('node-cpu', n, p) / ips(w, n, p), 2)}x`).join(', ')})`);
    }
  }
  if (backends.some((b) => b.name === 'node-webgpu')) {
    for (const n of batches) console.log(`  node-webgpu / node-cpu, batch ${n}: ${fixed(ips('node-webgpu', n) / ips('node-cpu', n), 2)}x`);
  }

  console.log(`\nagreement with node-cpu at batch 1 (max |difference| over all pixels; output range [${spec.range.join(', ')}])`);
  const reference = outputs.get('node-cpu')!;
  for (const [name, out] of outputs) {
    if (name === 'node-cpu') continue;
    let max = 0;
    for (let i = 0; i < out.length; i++) max = Math.max(max, Math.abs(out[i]! - reference[i]!));
    console.log(`  ${name}: ${max.toExponential(2)}`);
  }
  process.exit(0);
}
