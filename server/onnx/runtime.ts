/**
 * The only file that imports onnxruntime-node. Execution providers come from a frozen
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

export { ort };
export type Tensor = ort.Tensor;
export type Session = ort.InferenceSession;

export function floatTensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
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
function sessionOptions(provider: Provider): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [...PROVIDERS[provider]],
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

export async function openSession(model: Uint8Array, choice: ProviderChoice, name: string): Promise<OpenedSession> {
  if (!(choice in PROVIDERS) && choice !== 'auto') {
    throw new Error(`unknown execution provider '${choice}'; valid: auto, ${Object.keys(PROVIDERS).join(', ')}`);
  }
  let fallback: string | undefined;
  const wantGpu = choice === 'webgpu' || (choice === 'auto' && !(fallback = noGpuReason() ?? undefined));
  if (wantGpu) {
    try {
      const session = await ort.InferenceSession.create(model, sessionOptions('webgpu'));
      return { session, provider: 'webgpu' };
    } catch (err) {
      fallback = `WebGPU failed: ${(err as Error).message.split('\n')[0]}`;
      log.warn({ model: name, reason: fallback }, 'WebGPU unavailable, using CPU');
    }
  }
  const session = await ort.InferenceSession.create(model, sessionOptions('cpu'));
  return fallback ? { session, provider: 'cpu', fallback } : { session, provider: 'cpu' };
}
