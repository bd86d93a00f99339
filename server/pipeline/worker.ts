/**
 * The frame worker: a worker thread that makes frames (latent -> generate -> dream ->
 * upscale -> encode), so the main thread's event loop keeps to sockets, OSC, HTTP and the
 * store. In the manner of stylegan3's AsyncRenderer: jobs arrive stamped with an id, the
 * newest waiting job wins (an older one still waiting is answered as superseded), each
 * result carries its job's id, and a failure comes back as data, never as a crash.
 * Started by server/pipeline/worker-client.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Anchor } from '../wall/walk-anchor.js';
import { newJob, type FrameJob } from '../stages/stage.js';
import { ModelError } from '../onnx/session.js';
import { runChain } from './chain.js';
import { openMakeStages, type OpenedMakeStages } from './make-stages.js';
import { resultOf, type FromWorker, type JobMessage, type ToWorker, type WorkerInit } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('server/pipeline/worker.ts runs as a worker thread (see worker-client.ts)');
const init = workerData as WorkerInit;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** Walk anchors claimed through the main thread (it holds the Redis connection). */
let anchorNo = 0;
const anchorWaits = new Map<number, { resolve: (a: Anchor) => void; reject: (e: Error) => void }>();
const anchors = {
  claim(mine: Anchor): Promise<Anchor> {
    const id = ++anchorNo;
    return new Promise<Anchor>((resolve, reject) => {
      anchorWaits.set(id, { resolve, reject });
      post({ type: 'anchor', id, mine });
    });
  },
};

let opened: OpenedMakeStages | null = null;
let waiting: JobMessage | null = null;
/** The frames being made now, if any: closing waits for it. */
let draining: Promise<void> | null = null;
let closing = false;

function drain(): void {
  if (draining || !opened) return;
  draining = makeWaiting(opened).finally(() => {
    draining = null;
  });
}

async function makeWaiting(opened: OpenedMakeStages): Promise<void> {
  while (waiting && !closing) {
    const message = waiting;
    waiting = null;
    const job: FrameJob = newJob(message.meta.frame, message.snapshot);
    Object.assign(job.meta, message.meta, { timings: {} });
    if (message.screen) job.screen = message.screen;
    const outcome = await runChain(opened.stages, job);
    const { message: result, transfer } = resultOf(message.id, job, outcome);
    post(result, transfer);
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'job': {
      const stale = waiting;
      if (stale) post({ type: 'result', id: stale.id, ok: false, stage: 'worker', error: 'worker: superseded by a newer frame', totalMs: 0, meta: stale.meta });
      waiting = message;
      drain();
      return;
    }
    case 'anchor': {
      const wait = anchorWaits.get(message.id);
      anchorWaits.delete(message.id);
      if (message.shared) wait?.resolve(message.shared);
      else wait?.reject(new Error(message.error ?? 'walk anchor unavailable'));
      return;
    }
    case 'close':
      closing = true;
      void (async () => {
        await draining;
        await opened?.close();
        post({ type: 'closed' });
        port.close();
      })();
      return;
  }
});

try {
  opened = await openMakeStages(init.config, {
    onLoopWrap: (passes) => post({ type: 'loopWrap', passes }),
    ...(init.sharedAnchors ? { wallAnchors: anchors } : {}),
  });
  post({ type: 'ready', generator: opened.generator });
  drain();
} catch (err) {
  post({ type: 'failed', error: (err as Error).message, ...(err instanceof ModelError ? { modelError: true } : {}) });
}
