/**
 * Where frames are made: in the frame worker thread (the default, config.frameWorker) or,
 * with it off, in the main thread. Either way the frame loop sees a list of stages that
 * turns a job's state snapshot into encoded bytes, followed by the delivery stages.
 */
import type { ResolvedConfig } from '../config.js';
import type { Stage } from '../stages/stage.js';
import { openMakeStages, type MakeHooks } from './make-stages.js';
import { FrameWorker } from './worker-client.js';
import type { GeneratorInfo } from './worker-protocol.js';

export interface FrameMaker {
  generator: GeneratorInfo;
  /** 'worker' or 'main thread', for the start log and /health. */
  where: string;
  stages: Stage[];
  close(): Promise<void>;
}

export async function openFrameMaker(config: ResolvedConfig, hooks: MakeHooks): Promise<FrameMaker> {
  if (config.frameWorker) {
    const worker = await FrameWorker.start(config, hooks);
    return { generator: worker.generator, where: 'worker', stages: [worker], close: () => worker.dispose() };
  }
  const local = await openMakeStages(config, hooks);
  return { ...local, where: 'main thread' };
}
