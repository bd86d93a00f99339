/**
 * The face renderer's worker: onnxruntime-web (WebAssembly, one thread) runs here, off the
 * page's thread, so the pad and sliders stay responsive while faces render. Messages:
 *   { id, type: 'open', model: bytes, input, output, style? }           -> { id, ok }
 *   { id, type: 'run', latents: Float32Array, count, dim, truncation }  -> { id, ok, data: Float32Array }
 * and { id, ok: false, error } when anything fails. A generator with a W space (`style`) gets
 * its extra inputs as the server feeds them (common/generator-inputs.ts), without mixing.
 */
import * as ort from 'onnxruntime-web/wasm';
import { generatorFeeds, type FeedSpec } from '../common/generator-inputs.js';

type Request =
  | { id: number; type: 'open'; model: ArrayBuffer; input: string; output: string; style?: FeedSpec['style'] }
  | { id: number; type: 'run'; latents: Float32Array; count: number; dim: number; truncation: number };

ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;

let session: ort.InferenceSession | null = null;
let names: { input: string; output: string; style?: FeedSpec['style'] } = { input: '', output: '' };

const scope = self as unknown as { onmessage: ((e: MessageEvent<Request>) => void) | null; postMessage(message: unknown, transfer?: Transferable[]): void };

scope.onmessage = async (event) => {
  const request = event.data;
  try {
    if (request.type === 'open') {
      session = await ort.InferenceSession.create(new Uint8Array(request.model), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      names = { input: request.input, output: request.output, ...(request.style ? { style: request.style } : {}) };
      scope.postMessage({ id: request.id, ok: true });
      return;
    }
    if (!session) throw new Error('the face model is not open');
    const feeds: Record<string, ort.Tensor> = {};
    const spec = { input: names.input, latentSize: request.dim, style: names.style };
    for (const feed of generatorFeeds(spec, request.latents, request.count, { truncation: request.truncation, mix: 'off', mixSeed: 0 })) {
      feeds[feed.name] = new ort.Tensor('float32', feed.data, feed.dims);
    }
    const result = await session.run(feeds);
    const tensor = result[names.output];
    if (!tensor) throw new Error(`the face model has no output '${names.output}'`);
    const data = (tensor.data as Float32Array).slice();
    tensor.dispose();
    scope.postMessage({ id: request.id, ok: true, data }, [data.buffer]);
  } catch (error) {
    scope.postMessage({ id: request.id, ok: false, error: (error as Error).message ?? String(error) });
  }
};
