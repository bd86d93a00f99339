/**
 * One loaded model: opened on the chosen execution provider, its inputs and outputs
 * checked against what the caller expects (names, fixed dims), runs that log shapes
 * (never data) when they fail, and a release() that frees the native session.
 */
import { readFile } from 'node:fs/promises';
import { logger } from '../log.js';
import { openSession, type ProviderChoice, type Provider, type Session, type Tensor } from './runtime.js';

const log = logger('onnx');

/** An expected tensor: its name and dims; null (or a string) accepts any size on that axis. */
export interface IoSpec {
  name: string;
  /** Omitted: only the name is checked. */
  dims?: readonly (number | string | null)[];
}

export class ModelError extends Error {}

type Expect = { inputs: readonly IoSpec[]; outputs: readonly IoSpec[] };

export class ModelSession {
  private released = false;

  private constructor(
    readonly name: string,
    private readonly session: Session,
    readonly provider: Provider,
    readonly fallback: string | undefined,
    private readonly source: () => Promise<ModelSession>,
  ) {}

  static async open(
    path: string,
    choice: ProviderChoice,
    expect: { inputs: readonly IoSpec[]; outputs: readonly IoSpec[] },
  ): Promise<ModelSession> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new ModelError(`cannot read model file ${path}: ${(err as Error).message}`);
    }
    // Reopening reads the file again: a model replaced on disk is picked up, a vanished one is a clear error.
    return ModelSession.create(bytes, path, choice, expect, () => ModelSession.open(path, choice, expect));
  }

  /** A session from model bytes (graphs the project builds in memory, e.g. dream graphs). */
  static async fromBytes(bytes: Uint8Array, name: string, choice: ProviderChoice, expect: Expect): Promise<ModelSession> {
    return ModelSession.create(bytes, name, choice, expect, () => ModelSession.fromBytes(bytes, name, choice, expect));
  }

  private static async create(bytes: Uint8Array, name: string, choice: ProviderChoice, expect: Expect, source: () => Promise<ModelSession>): Promise<ModelSession> {
    let opened;
    try {
      opened = await openSession(bytes, choice, name);
    } catch (err) {
      throw new ModelError(`${name} is not a loadable ONNX model: ${(err as Error).message.split('\n')[0]}`);
    }
    const s = new ModelSession(name, opened.session, opened.provider, opened.fallback, source);
    try {
      s.check(expect);
    } catch (err) {
      await s.release();
      throw err;
    }
    return s;
  }

  private check(expect: { inputs: readonly IoSpec[]; outputs: readonly IoSpec[] }): void {
    const problems: string[] = [];
    const compare = (kind: string, actual: readonly { name: string; shape?: readonly (number | string)[] }[], specs: readonly IoSpec[]) => {
      for (const spec of specs) {
        const found = actual.find((a) => a.name === spec.name);
        if (!found) {
          problems.push(`${kind} '${spec.name}' is missing (the model has: ${actual.map((a) => a.name).join(', ')})`);
          continue;
        }
        if (!spec.dims) continue;
        const shape = found.shape ?? [];
        if (shape.length && shape.length !== spec.dims.length) {
          problems.push(`${kind} '${spec.name}' has ${shape.length} dims, expected ${spec.dims.length}`);
          continue;
        }
        spec.dims.forEach((d, i) => {
          const a = shape[i];
          if (typeof d === 'number' && typeof a === 'number' && a !== d) problems.push(`${kind} '${spec.name}' dim ${i} is ${a}, expected ${d}`);
        });
      }
    };
    const meta = (list: readonly unknown[]) => list.map((m) => m as { name: string; shape?: readonly (number | string)[] });
    compare('input', meta(this.session.inputMetadata), expect.inputs);
    compare('output', meta(this.session.outputMetadata), expect.outputs);
    if (problems.length) throw new ModelError(`${this.name} does not match its manifest: ${problems.join('; ')}`);
  }

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    if (this.released) throw new ModelError(`${this.name}: run after release`);
    try {
      return await this.session.run(feeds);
    } catch (err) {
      const shapes = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, `${t.type}[${t.dims.join(',')}]`]));
      log.error({ model: this.name, inputs: shapes, err: (err as Error).message }, 'inference failed');
      throw err;
    }
  }

  /**
   * A new native session for the same model, opened the same way. For recovery: a run
   * that fails (a lost GPU device, a native error) may leave this one unusable.
   */
  reopen(): Promise<ModelSession> {
    return this.source();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}
