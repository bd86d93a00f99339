import { describe, expect, it } from 'vitest';
import { describeTurn } from '../../controller/widgets/turn.js';
import type { TabletStatus } from '../../common/protocol.js';

const attract: TabletStatus = { turn: 'free', position: 0, queue: 0, seconds: null, attract: true };

describe("the tablet's turn line in attract mode", () => {
  it('says the portraits dream only while a dream pass is on', () => {
    expect(describeTurn(attract, false).text).toBe('The portraits are wandering by themselves. Touch anything to take over.');
    expect(describeTurn(attract, true).text).toBe('The portraits are dreaming by themselves. Touch anything to take over.');
    expect(describeTurn({ ...attract, attract: false }, true).text).toBe('Touch the faces to steer the portrait.');
  });
});
