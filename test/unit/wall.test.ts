import { describe, expect, it } from 'vitest';
import { cropBox, fitWindow, screenIndex, slotAt, slotStart, tileRect, wallView, WallSchema } from '../../common/wall.js';

describe('wall configuration', () => {
  it('defaults to a single screen, as before walls existed', () => {
    expect(WallSchema.parse({})).toEqual({ layout: 'single', columns: 1, rows: 1, screens: [], presentDelayMs: 150 });
  });

  it('refuses duplicate names, screens outside the grid, and wall layouts without screens', () => {
    const twice = WallSchema.safeParse({ layout: 'tile', columns: 2, screens: [{ name: 'a', column: 0, row: 0 }, { name: 'a', column: 1, row: 0 }] });
    expect(twice.success).toBe(false);
    expect(JSON.stringify(twice.error?.issues)).toContain("screen 'a' is listed twice");
    const outside = WallSchema.safeParse({ layout: 'tile', columns: 2, screens: [{ name: 'a', column: 2, row: 0 }] });
    expect(JSON.stringify(outside.error?.issues)).toContain('outside the 2 x 1 grid');
    expect(WallSchema.safeParse({ layout: 'mirror' }).success).toBe(false);
    expect(WallSchema.safeParse({ layout: 'mirror', screens: [{ name: 'bad name', column: 0, row: 0 }] }).success).toBe(false);
  });

  it('numbers screens row by row', () => {
    const wall = WallSchema.parse({ layout: 'gallery', columns: 3, rows: 2, screens: [{ name: 'a', column: 2, row: 1 }] });
    expect(screenIndex(wall, wall.screens[0]!)).toBe(5);
  });
});

describe('tile geometry', () => {
  it('the portrait covers the wall: a wide wall shows a horizontal band, a tall one a vertical band', () => {
    expect(wallView({ columns: 2, rows: 1 })).toEqual({ x0: 0, y0: 0.25, x1: 1, y1: 0.75 });
    expect(wallView({ columns: 1, rows: 2 })).toEqual({ x0: 0.25, y0: 0, x1: 0.75, y1: 1 });
    expect(wallView({ columns: 3, rows: 3 })).toEqual({ x0: 0, y0: 0, x1: 1, y1: 1 });
  });

  it('tiles partition the view without gaps or overlaps', () => {
    const wall = { columns: 3, rows: 2 };
    const view = wallView(wall);
    let area = 0;
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < 3; c++) {
        const t = tileRect(wall, { column: c, row: r });
        area += (t.x1 - t.x0) * (t.y1 - t.y0);
        if (c > 0) expect(t.x0).toBeCloseTo(tileRect(wall, { column: c - 1, row: r }).x1, 12);
        if (r > 0) expect(t.y0).toBeCloseTo(tileRect(wall, { column: c, row: r - 1 }).y1, 12);
      }
    }
    expect(area).toBeCloseTo((view.x1 - view.x0) * (view.y1 - view.y0), 12);
  });

  it('the crop holds the tile plus the margin, clipped to the picture', () => {
    const right = tileRect({ columns: 2, rows: 1 }, { column: 1, row: 0 });
    expect(cropBox(right, 64, 4)).toEqual({ x: 28, y: 12, width: 36, height: 40 });
  });

  it('the fit window maps the tile onto exactly the frame, at the same scale as the whole wall', () => {
    const wall = { columns: 2, rows: 1 };
    const right = tileRect(wall, { column: 1, row: 0 });
    const box = cropBox(right, 64, 4);
    // 32 picture pixels across become 128: x4; the crop's 36 x 40 becomes 144 x 160, the tile starts 4 px in
    expect(fitWindow(right, box, 64, 128)).toEqual({ width: 144, height: 160, left: 16, top: 16 });
    const left = tileRect(wall, { column: 0, row: 0 });
    expect(fitWindow(left, cropBox(left, 64, 4), 64, 128)).toEqual({ width: 144, height: 160, left: 0, top: 16 });
  });
});

describe('slots', () => {
  it('cut cluster time into frame periods', () => {
    const period = 1000 / 30;
    expect(slotAt(slotStart(1234, period), period)).toBe(1234);
    expect(slotAt(slotStart(1234, period) + period - 0.01, period)).toBe(1234);
    expect(slotAt(1_763_800_000_000, period)).toBe(Math.floor(1_763_800_000_000 / period));
  });
});
