import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopDelay } from '../../server/event-loop.js';

let watch: EventLoopDelay | null = null;
afterEach(() => watch?.stop());

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('event-loop delay', () => {
  it('reports a stall of the main thread in the window that saw it, without the timer resolution', async () => {
    watch = new EventLoopDelay(400, 5);
    await new Promise((r) => setTimeout(r, 100));
    block(150);
    await new Promise((r) => setTimeout(r, 50));
    const during = watch.report();
    expect(during.max).toBeGreaterThanOrEqual(130);
    expect(during.p50).toBeLessThan(100);
    // once the window rolls over, an idle window no longer shows the stall
    await new Promise((r) => setTimeout(r, 900));
    expect(watch.report().max).toBeLessThan(130);
    expect(watch.report().seconds).toBeGreaterThan(0.3);
  });
});
