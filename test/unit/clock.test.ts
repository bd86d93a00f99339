import { describe, expect, it } from 'vitest';
import { clockSample, measureOffset, OffsetEstimator } from '../../common/clock.js';
import { splitmix32 } from '../../common/random.js';

describe('clock offset estimation', () => {
  it('a symmetric exchange gives the exact offset and its round trip', () => {
    // local 1000 -> remote answers 5050 at local 1050 -> back at local 1100
    expect(clockSample(1000, 5050, 1100)).toEqual({ offset: 4000, rtt: 100, at: 1050 });
  });

  it('keeps the minimum-round-trip sample: asymmetric queueing delays cannot fool it', async () => {
    const trueOffset = 123_456.7;
    const random = splitmix32(9);
    let local = 0;
    const estimator = new OffsetEstimator();
    const exchange = async () => {
      // outbound and return delays differ a lot, except for one lucky exchange
      const out = 1 + random() * 40;
      const back = 1 + random() * 5;
      local += out;
      const remote = local + trueOffset;
      local += back;
      return remote;
    };
    const best = await measureOffset(estimator, exchange, () => local, { count: 12, gapMs: 0 });
    expect(best).not.toBeNull();
    // the error of a sample is at most half its round trip
    expect(Math.abs(best!.offset - trueOffset)).toBeLessThanOrEqual(best!.rtt / 2 + 1e-9);
    expect(estimator.count).toBe(12);
  });

  it('skips failed exchanges, forgets old samples, and resets', async () => {
    let local = 0;
    const estimator = new OffsetEstimator({ maxAgeMs: 1000, keep: 4 });
    let n = 0;
    const exchange = async () => {
      n++;
      local += 2;
      if (n % 2 === 0) throw new Error('lost');
      return local + 50;
    };
    let answered = 0;
    await measureOffset(estimator, exchange, () => local, { count: 6, gapMs: 0, onSample: () => answered++ });
    expect(estimator.count).toBe(3);
    expect(answered).toBe(3);
    // the remote reading came at the end of each 2 ms round trip: off by exactly half of it
    expect(estimator.best(local)!.offset).toBeCloseTo(51, 6);
    expect(estimator.best(local + 5000)).toBeNull();
    for (let i = 0; i < 10; i++) estimator.add(clockSample(i, i + 7, i));
    expect(estimator.count).toBe(4);
    estimator.reset();
    expect(estimator.best(local)).toBeNull();
  });
});

describe('the cluster clock', () => {
  it('follows its reference, and a reference that hangs does not hold it up', async () => {
    const { ClusterClock } = await import('../../server/wall/clock.js');
    let local = 1000;
    const clock = new ClusterClock({ local: () => local, source: async () => local + 250, samples: 3 });
    await clock.refresh();
    expect(clock.now()).toBe(1250);
    expect(clock.estimate).toMatchObject({ offsetMs: 250, rttMs: 0, reference: true });
    const hanging = new ClusterClock({ local: () => local, source: () => new Promise<number>(() => {}), samples: 2 });
    const started = Date.now();
    await hanging.refresh();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(hanging.now()).toBe(local);
    local += 10;
    expect(clock.now()).toBe(1260);
  });
});
