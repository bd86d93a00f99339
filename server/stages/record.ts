/**
 * encoded frame -> the live recorder, right after it has gone to the displays, so a
 * recording holds exactly what they were sent. Costs nothing while not recording.
 */
import type { FrameMeta } from '../../common/frame.js';
import { need, type FrameJob, type Stage } from './stage.js';

/** Whatever records frames (server/recording/recorder.ts); it must never block. */
export interface FrameTap {
  offer(meta: FrameMeta, encoded: Buffer): void;
}

export class RecordStage implements Stage {
  readonly name = 'record';

  constructor(private readonly tap: FrameTap) {}

  run(job: FrameJob): void {
    this.tap.offer(job.meta, need(job, 'encoded', this.name));
  }
}
