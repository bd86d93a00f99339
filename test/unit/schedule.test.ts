/**
 * Opening hours: plain ranges, ranges past midnight, wall-clock time across
 * daylight-saving changes, validation messages, and the watcher's transitions.
 */
import { describe, expect, it } from 'vitest';
import { OpeningHours, ScheduleSchema, isOpen, wallClock, type Schedule } from '../../server/schedule.js';

const at = (iso: string) => new Date(iso);

describe('isOpen', () => {
  const gallery: Schedule = ScheduleSchema.parse({
    timezone: 'Europe/Berlin',
    days: { tue: [['10:00', '18:00']], wed: [['10:00', '13:00'], ['14:00', '20:00']], fri: [['18:00', '02:00']], sun: [['00:00', '24:00']] },
  });

  it('follows simple ranges: start inclusive, end exclusive', () => {
    // 2025-01-14 is a Tuesday; Berlin is UTC+1 in winter.
    expect(isOpen(gallery, at('2025-01-14T08:59:00Z'))).toBe(false);
    expect(isOpen(gallery, at('2025-01-14T09:00:00Z'))).toBe(true);
    expect(isOpen(gallery, at('2025-01-14T16:59:00Z'))).toBe(true);
    expect(isOpen(gallery, at('2025-01-14T17:00:00Z'))).toBe(false);
  });

  it('closes over a lunch break and on days without hours', () => {
    expect(isOpen(gallery, at('2025-01-15T11:30:00Z'))).toBe(true); // Wed 12:30
    expect(isOpen(gallery, at('2025-01-15T12:30:00Z'))).toBe(false); // Wed 13:30
    expect(isOpen(gallery, at('2025-01-15T13:00:00Z'))).toBe(true); // Wed 14:00
    expect(isOpen(gallery, at('2025-01-13T11:00:00Z'))).toBe(false); // Monday: no entry
    expect(isOpen(gallery, at('2025-01-16T11:00:00Z'))).toBe(false); // Thursday: no entry
  });

  it('runs a range past midnight into the next day', () => {
    expect(isOpen(gallery, at('2025-01-17T16:59:00Z'))).toBe(false); // Fri 17:59
    expect(isOpen(gallery, at('2025-01-17T22:30:00Z'))).toBe(true); // Fri 23:30
    expect(isOpen(gallery, at('2025-01-18T00:30:00Z'))).toBe(true); // Sat 01:30, from Friday's range
    expect(isOpen(gallery, at('2025-01-18T01:00:00Z'))).toBe(false); // Sat 02:00
    expect(isOpen(gallery, at('2025-01-18T22:30:00Z'))).toBe(false); // Sat 23:30: Saturday has no range
  });

  it('a whole day is 00:00-24:00, and a Sunday range does not spill into Monday', () => {
    expect(isOpen(gallery, at('2025-01-18T23:00:00Z'))).toBe(true); // Sun 00:00
    expect(isOpen(gallery, at('2025-01-19T22:59:00Z'))).toBe(true); // Sun 23:59
    expect(isOpen(gallery, at('2025-01-19T23:00:00Z'))).toBe(false); // Mon 00:00
  });

  it('opens at 10:00 on the wall clock on both sides of a daylight-saving change', () => {
    const daily: Schedule = ScheduleSchema.parse({ timezone: 'Europe/Berlin', days: { sat: [['10:00', '18:00']], sun: [['10:00', '18:00']] } });
    // Saturday 2025-03-29: CET (UTC+1), 10:00 = 09:00Z. Sunday 2025-03-30: CEST (UTC+2), 10:00 = 08:00Z.
    expect(isOpen(daily, at('2025-03-29T08:59:00Z'))).toBe(false);
    expect(isOpen(daily, at('2025-03-29T09:00:00Z'))).toBe(true);
    expect(isOpen(daily, at('2025-03-30T07:59:00Z'))).toBe(false);
    expect(isOpen(daily, at('2025-03-30T08:00:00Z'))).toBe(true);
    // Autumn: Sunday 2025-10-26 is back on CET, so 18:00 = 17:00Z.
    const autumn: Schedule = ScheduleSchema.parse({ timezone: 'Europe/Berlin', days: { sun: [['10:00', '18:00']] } });
    expect(isOpen(autumn, at('2025-10-26T16:59:00Z'))).toBe(true);
    expect(isOpen(autumn, at('2025-10-26T17:00:00Z'))).toBe(false);
  });

  it('treats the repeated hour of a fall-back night by its wall-clock time', () => {
    // 2025-11-02 in New York: 01:00-02:00 happens twice (EDT, then EST).
    const night: Schedule = ScheduleSchema.parse({ timezone: 'America/New_York', days: { sun: [['01:00', '01:30']] } });
    expect(isOpen(night, at('2025-11-02T05:15:00Z'))).toBe(true); // 01:15 EDT
    expect(isOpen(night, at('2025-11-02T06:15:00Z'))).toBe(true); // 01:15 EST, the second time
    expect(isOpen(night, at('2025-11-02T05:45:00Z'))).toBe(false); // 01:45 EDT
    expect(wallClock(at('2025-11-02T06:15:00Z'), 'America/New_York')).toEqual({ day: 'sun', minutes: 75 });
  });

  it('reads different time zones for the same instant', () => {
    const s = (timezone: string): Schedule => ScheduleSchema.parse({ timezone, days: { mon: [['09:00', '17:00']] } });
    const instant = at('2025-01-13T08:30:00Z'); // Monday
    expect(isOpen(s('Europe/London'), instant)).toBe(false); // 08:30
    expect(isOpen(s('Europe/Helsinki'), instant)).toBe(true); // 10:30
    expect(isOpen(s('Asia/Tokyo'), instant)).toBe(false); // 17:30
  });
});

describe('ScheduleSchema', () => {
  const problems = (input: unknown) => {
    const r = ScheduleSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('names the offending key and says what is expected', () => {
    expect(problems({ days: { mon: [['9:00', '17:00']] } })[0]).toMatch(/^days\.mon\.0\.0: expected a 24-hour time "HH:MM"/);
    expect(problems({ days: { tue: [['25:00', '26:00']] } })[0]).toMatch(/^days\.tue\.0\.0:/);
    expect(problems({ days: { wed: [['10:00', '10:00']] } })[0]).toMatch(/^days\.wed\.0: start and end are equal/);
    expect(problems({ timezone: 'Mars/Olympus', days: {} })[0]).toMatch(/^timezone: unknown time zone/);
    expect(problems({ days: { monday: [['10:00', '18:00']] } })[0]).toMatch(/monday/);
    expect(problems({ days: { mon: [['10:00']] } })).not.toEqual([]);
    expect(problems({ hours: {} }).length).toBeGreaterThan(0);
  });

  it('accepts a valid week', () => {
    expect(problems({ timezone: 'UTC', days: { mon: [['00:00', '24:00']], sat: [['22:00', '03:00']] } })).toEqual([]);
  });
});

describe('OpeningHours', () => {
  it('reports the first state, then only changes', () => {
    const schedule = ScheduleSchema.parse({ timezone: 'UTC', days: { mon: [['10:00', '18:00']] } });
    let now = at('2025-01-13T09:59:00Z');
    const seen: [boolean, boolean][] = [];
    const hours = new OpeningHours(schedule, (open, initial) => seen.push([open, initial]), () => now);
    hours.check();
    now = at('2025-01-13T09:59:30Z');
    hours.check();
    now = at('2025-01-13T10:00:00Z');
    hours.check();
    now = at('2025-01-13T12:00:00Z');
    hours.check();
    now = at('2025-01-13T18:00:00Z');
    hours.check();
    expect(seen).toEqual([
      [false, true],
      [true, false],
      [false, false],
    ]);
    expect(hours.open).toBe(false);
  });

  it('without a schedule is always open', () => {
    const seen: boolean[] = [];
    const hours = new OpeningHours(undefined, (open) => seen.push(open));
    hours.check();
    expect(seen).toEqual([true]);
    expect(hours.open).toBe(true);
  });
});
