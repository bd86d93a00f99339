/** encoded frame -> every connected display (each paced by its own acknowledgements). */
import type { DisplayHub } from '../displays.js';
import { need, type FrameJob, type Stage } from './stage.js';

export class SendStage implements Stage {
  readonly name = 'send';

  constructor(private readonly displays: DisplayHub) {}

  run(job: FrameJob): void {
    this.displays.broadcast(job.meta, need(job, 'encoded', this.name));
  }
}
