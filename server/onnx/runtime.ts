/**
 * The only file that imports onnxruntime-node: the server, the CLI, the model tools, the
 * benches and the tests all open sessions and make tensors through what this file exports
 * (the runtime object itself is not exported). Execution providers come from a frozen
 * table; 'auto' tries WebGPU only where a GPU device exists (a software adapter would
 * be slower than the CPU) and falls back to CPU, logging why.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { logger } from '../log.js';

const log = logger('onnx');

export type ProviderChoice = 'auto' | 'webgpu' | 'cpu';
export type Provider = 'webgpu' | 'cpu';

const PROVIDERS: Readonly<Record<Provider, readonly string[]>> = Object.freeze({
  webgpu: Object.freeze(['webgpu']),
  cpu: Object.freeze(['cpu']),
});

export type Tensor = ort.Tensor;
export type Session = ort.InferenceSession;

/** The onnxruntime-node version in use, for logs and bench headers. */
export const RUNTIME_VERSION: string = ort.env.versions.node ?? ort.env.versions.common;

export function floatTensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

/** Named float32 inputs (e.g. common/generator-inputs.ts generatorFeeds) as one session.run() feed. */
export function floatFeeds(feeds: readonly { name: string; data: Float32Array; dims: readonly number[] }[]): Record<string, ort.Tensor> {
  return Object.fromEntries(feeds.map((f) => [f.name, floatTensor(f.data, f.dims)]));
}

export function int64Tensor(values: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), [values.length]);
}

/** Why WebGPU is not worth trying here, or null if a GPU device node exists. */
function noGpuReason(): string | null {
  if (!existsSync('/dev/dri')) return 'no GPU device (/dev/dri is absent)';
  const render = readdirSync('/dev/dri').filter((f) => f.startsWith('renderD'));
  return render.length ? null : 'no GPU render node in /dev/dri';
}

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: Provider;
  /** Set when 'auto' or 'webgpu' ended on the CPU: the reason, for logs and /health. */
  fallback?: string;
}

/**
 * No spinning: by default each session's worker threads busy-wait after every parallel
 * section. The server runs several sessions (generator, dream, upscalers) back to back
 * beside sharp and the display's browser on few cores, and the spinners then steal the
 * core the next step needs: on the 2-core gallery PC, generator runs went from ~6 ms to
 * ~14 ms (docs/performance.md, bench/generator-backends.bench.ts).
 */
function sessionOptions(provider: Provider, tuning: SessionTuning): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [...PROVIDERS[provider]],
    graphOptimizationLevel: tuning.optimize === false ? 'disabled' : 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    ...(tuning.threads !== undefined && { intraOpNumThreads: tuning.threads }),
    ...(tuning.profilePrefix !== undefined && { enableProfiling: true, profileFilePrefix: tuning.profilePrefix }),
  };
}

/**
 * What a caller may change about the project's session options; everything else
 * (provider table, no spinning) stays as above.
 */
export interface SessionTuning {
  /** Intra-op threads; onnxruntime's default (one per core) when omitted. */
  threads?: number;
  /** false: no graph optimisations (the graph runs node for node as written). Default: all. */
  optimize?: boolean;
  /** Write an onnxruntime profile (JSON) starting with this path; ended by session.endProfiling(). */
  profilePrefix?: string;
}

/**
 * A session on exactly this provider, with the project's options: no fallback, so a
 * provider or a graph that onnxruntime rejects throws onnxruntime's own error. `model` is
 * the model's bytes or the path of an .onnx file.
 */
export async function createSession(model: Uint8Array | string, provider: Provider, tuning: SessionTuning = {}): Promise<Session> {
  if (!(provider in PROVIDERS)) throw new Error(`unknown execution provider '${provider}'; valid: ${Object.keys(PROVIDERS).join(', ')}`);
  const options = sessionOptions(provider, tuning);
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

export async function openSession(model: Uint8Array, choice: ProviderChoice, name: string, tuning: SessionTuning = {}): Promise<OpenedSession> {
  if (!(choice in PROVIDERS) && choice !== 'auto') {
    throw new Error(`unknown execution provider '${choice}'; valid: auto, ${Object.keys(PROVIDERS).join(', ')}`);
  }
  let fallback: string | undefined;
  const wantGpu = choice === 'webgpu' || (choice === 'auto' && !(fallback = noGpuReason() ?? undefined));
  if (wantGpu) {
    try {
      const session = await createSession(model, 'webgpu', tuning);
      return { session, provider: 'webgpu' };
    } catch (err) {
      fallback = `WebGPU failed: ${(err as Error).message.split('\n')[0]}`;
      log.warn({ model: name, reason: fallback }, 'WebGPU unavailable, using CPU');
    }
  }
  const session = await createSession(model, 'cpu', tuning);
  return fallback ? { session, provider: 'cpu', fallback } : { session, provider: 'cpu' };
}
