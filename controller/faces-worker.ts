/**
 * The face renderer's worker: onnxruntime-web (WebAssembly, one thread) runs here, off the
 * page's thread, so the pad and sliders stay responsive while faces render. Messages:
 *   { id, type: 'open', model: bytes, input, output }        -> { id, ok }
 *   { id, type: 'run', latents: Float32Array, count, dim }   -> { id, ok, data: Float32Array }
 * and { id, ok: false, error } when anything fails.
 */
import * as ort from 'onnxruntime-web/wasm';

type Request =
  | { id: number; type: 'open'; model: ArrayBuffer; input: string; output: string }
  | { id: number; type: 'run'; latents: Float32Array; count: number; dim: number };

ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;

let session: ort.InferenceSession | null = null;
let names = { input: '', output: '' };

const scope = self as unknown as { onmessage: ((e: MessageEvent<Request>) => void) | null; postMessage(message: unknown, transfer?: Transferable[]): void };

scope.onmessage = async (event) => {
  const request = event.data;
  try {
    if (request.type === 'open') {
      session = await ort.InferenceSession.create(new Uint8Array(request.model), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      names = { input: request.input, output: request.output };
      scope.postMessage({ id: request.id, ok: true });
      return;
    }
    if (!session) throw new Error('the face model is not open');
    const result = await session.run({ [names.input]: new ort.Tensor('float32', request.latents, [request.count, request.dim]) });
    const tensor = result[names.output];
    if (!tensor) throw new Error(`the face model has no output '${names.output}'`);
    const data = (tensor.data as Float32Array).slice();
    tensor.dispose();
    scope.postMessage({ id: request.id, ok: true, data }, [data.buffer]);
  } catch (error) {
    scope.postMessage({ id: request.id, ok: false, error: (error as Error).message ?? String(error) });
  }
};
