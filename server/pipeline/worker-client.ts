/**
 * The main thread's side of the frame worker (server/pipeline/worker.ts). To the frame
 * loop it is one stage, 'worker', that turns a job's state snapshot into encoded bytes
 * (and the picture, for captures); its own stages' times come back in the job's timings.
 *
 * A worker that dies (a native crash in a model, say) fails the frame in progress with a
 * message and is started again after a second, so the installation recovers by itself.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ResolvedConfig } from '../config.js';
import { logger } from '../log.js';
import { ModelError } from '../onnx/session.js';
import type { FrameJob, Stage } from '../stages/stage.js';
import type { AnchorStore } from '../wall/anchor-sync.js';
import type { MakeHooks } from './make-stages.js';
import { applyResult, type FromWorker, type GeneratorInfo, type ResultMessage, type ToWorker, type WorkerInit } from './worker-protocol.js';

const log = logger('frame-worker');
const RESTART_DELAY_MS = 1000;

interface Pending {
  id: number;
  resolve: (r: ResultMessage) => void;
  reject: (e: Error) => void;
}

/** Starts a worker thread running worker.ts; tsx compiles its TypeScript as it does the main thread's. */
function spawn(init: WorkerInit): Worker {
  // tsx's ESM entry sits beside the CommonJS one that require.resolve finds.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)})
  .then((api) => { api.register(); return import(${JSON.stringify(entry)}); })
  .catch((err) => require('node:worker_threads').parentPort.postMessage({ type: 'failed', error: String((err && err.stack) || err) }));`;
  return new Worker(code, { eval: true, workerData: init, execArgv: [] });
}

export class FrameWorker implements Stage {
  readonly name = 'worker';
  private worker: Worker;
  private ready: Promise<GeneratorInfo>;
  private pending: Pending | null = null;
  private jobNo = 0;
  private closing = false;
  private restarts = 0;

  private constructor(
    private readonly workerInit: WorkerInit,
    private readonly hooks: MakeHooks,
    first: { worker: Worker; ready: Promise<GeneratorInfo> },
    /** The generator the worker opened (after any fallback to the default model). */
    readonly generator: GeneratorInfo,
  ) {
    this.worker = first.worker;
    this.ready = first.ready;
    this.watch(this.worker);
  }

  /** Starts the worker and waits until its models are open; throws with the worker's reason if they cannot be. */
  static async start(config: ResolvedConfig, hooks: MakeHooks = {}): Promise<FrameWorker> {
    const init: WorkerInit = { config, sharedAnchors: hooks.wallAnchors !== undefined };
    const first = FrameWorker.launch(init, hooks);
    const generator = await first.ready;
    return new FrameWorker(init, hooks, first, generator);
  }

  /** How many times the worker has been restarted after dying. */
  get restartCount(): number {
    return this.restarts;
  }

  private static launch(init: WorkerInit, hooks: MakeHooks): { worker: Worker; ready: Promise<GeneratorInfo> } {
    const worker = spawn(init);
    const ready = new Promise<GeneratorInfo>((resolve, reject) => {
      const early = (m: FromWorker) => {
        if (m.type === 'ready') resolve(m.generator);
        else if (m.type === 'failed') reject(m.modelError ? new ModelError(m.error) : new Error(m.error));
      };
      worker.on('message', early);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the frame worker stopped while starting (exit code ${code})`)));
    });
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'loopWrap') hooks.onLoopWrap?.(m.passes);
      else if (m.type === 'anchor') answerAnchor(worker, hooks.wallAnchors, m.id, m.mine);
    });
    return { worker, ready };
  }

  private watch(worker: Worker): void {
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'result') return;
      // A result for a job nobody waits for any more (superseded, or from before a restart) is dropped.
      if (this.pending?.id !== m.id) return;
      const pending = this.pending;
      this.pending = null;
      pending.resolve(m);
    });
    worker.on('error', (err) => log.error({ err: err.message }, 'frame worker error'));
    worker.on('exit', (code) => {
      if (this.closing || worker !== this.worker) return;
      const reason = `the frame worker stopped (exit code ${code}); restarting it`;
      log.error({ code }, reason);
      this.pending?.reject(new Error(reason));
      this.pending = null;
      this.restarts++;
      this.ready = new Promise<void>((r) => setTimeout(r, RESTART_DELAY_MS)).then(() => {
        if (this.closing) throw new Error('closing');
        const next = FrameWorker.launch(this.workerInit, this.hooks);
        this.worker = next.worker;
        this.watch(next.worker);
        return next.ready;
      });
      this.ready.catch((err: Error) => log.error({ err: err.message }, 'the frame worker could not be restarted'));
    });
  }

  async run(job: FrameJob): Promise<void> {
    await this.ready;
    const id = ++this.jobNo;
    // The newest job wins: a caller still waiting on an older one hears it was superseded.
    this.pending?.reject(new Error('superseded by a newer frame'));
    const result = await new Promise<ResultMessage>((resolve, reject) => {
      this.pending = { id, resolve, reject };
      const message: ToWorker = { type: 'job', id, meta: job.meta, snapshot: job.snapshot, ...(job.screen ? { screen: job.screen } : {}) };
      this.worker.postMessage(message);
    });
    applyResult(job, result);
    if (!result.ok) throw new Error(result.error ?? 'the frame failed in the worker');
  }

  /** Lets the frame in progress finish, then closes the worker's models and the thread. */
  async dispose(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const worker = this.worker;
    const closed = new Promise<void>((resolve) => {
      worker.on('message', (m: FromWorker) => m.type === 'closed' && resolve());
      worker.once('exit', () => resolve());
    });
    worker.postMessage({ type: 'close' } satisfies ToWorker);
    const timeout = new Promise<void>((r) => setTimeout(r, 5000).unref());
    await Promise.race([closed, timeout]);
    await worker.terminate();
  }
}

function answerAnchor(worker: Worker, store: AnchorStore | undefined, id: number, mine: Parameters<AnchorStore['claim']>[0]): void {
  if (!store) {
    worker.postMessage({ type: 'anchor', id, error: 'no shared anchors on this node' } satisfies ToWorker);
    return;
  }
  store.claim(mine).then(
    (shared) => worker.postMessage({ type: 'anchor', id, shared } satisfies ToWorker),
    (err: Error) => worker.postMessage({ type: 'anchor', id, error: err.message } satisfies ToWorker),
  );
}
