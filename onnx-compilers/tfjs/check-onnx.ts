/**
 * Opens a freshly built model in onnxruntime (on the CPU, with the server's session
 * options: server/onnx/runtime.ts) and runs it once, so a graph ORT rejects,
 * or one whose output shapes differ from what the manifest promises, fails the conversion
 * instead of the server's start.
 */
import { createSession, floatTensor, type Session } from '../../server/onnx/runtime.js';
import { ConvertError } from './errors.js';

/** Runs zeros of [1, channels, h, w] through `bytes`; each output must have the dims given. */
export async function checkWithOnnxRuntime(
  bytes: Uint8Array,
  input: string,
  channels: number,
  [h, w]: [number, number],
  expected: readonly { name: string; dims: number[] }[],
): Promise<void> {
  let session: Session;
  try {
    session = await createSession(bytes, 'cpu');
  } catch (err) {
    throw new ConvertError(`onnxruntime rejects the converted graph: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    const result = await session.run({ [input]: floatTensor(new Float32Array(channels * h * w), [1, channels, h, w]) });
    for (const { name, dims } of expected) {
      const got = result[name]?.dims;
      if (!got || got.length !== dims.length || got.some((d, k) => d !== dims[k])) {
        throw new ConvertError(`output ${name}: onnxruntime gives [${got}] for a ${h}x${w} input, the converter expected [${dims}]`);
      }
    }
  } finally {
    await session.release();
  }
}
