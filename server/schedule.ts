/**
 * Opening hours: when the portraits are shown. Outside them the display fades to black
 * and generation idles. Times are wall-clock times in the gallery's time zone, read
 * from the instant with Intl on every check, so daylight-saving changes, clock jumps
 * and NTP corrections need no special handling: 10:00 means 10:00 on the wall clock.
 * A range whose end is before its start runs past midnight into the next day.
 */
import { z } from 'zod';

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

const TIME = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/;
const time = z.string().regex(TIME, 'expected a 24-hour time "HH:MM", e.g. "09:30" (use "24:00" for midnight at the end of a day)');
const range = z
  .tuple([time, time])
  .refine(([start, end]) => start !== end, 'start and end are equal; use ["00:00", "24:00"] for a whole day')
  .refine(([start]) => start !== '24:00', 'a range cannot start at "24:00"; use "00:00"');

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const ScheduleSchema = z
  .object({
    /** IANA zone such as "Europe/Berlin"; the machine's own zone when absent. */
    timezone: z.string().refine(validTimeZone, 'unknown time zone; use an IANA name such as "Europe/Berlin" (see `timedatectl list-timezones`)').optional(),
    /** Per weekday, the ranges [start, end] when the piece is shown; a missing or empty day is closed. */
    days: z.object(Object.fromEntries(DAYS.map((d) => [d, z.array(range).max(8).optional()])) as Record<Day, z.ZodOptional<z.ZodArray<typeof range>>>).strict(),
  })
  .strict();

export type Schedule = z.output<typeof ScheduleSchema>;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(key, f);
  }
  return f;
}

/** Weekday and minutes since midnight of `date` on the wall clock of `timeZone` (the machine's zone if absent). */
export function wallClock(date: Date, timeZone?: string): { day: Day; minutes: number } {
  let day: Day | undefined;
  let hour = 0;
  let minute = 0;
  for (const part of formatter(timeZone).formatToParts(date)) {
    if (part.type === 'weekday') day = part.value.slice(0, 3).toLowerCase() as Day;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  if (!day || !DAYS.includes(day)) throw new Error(`cannot read the weekday of ${date.toISOString()} in ${timeZone ?? 'the local zone'}`);
  return { day, minutes: hour * 60 + minute };
}

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** True when `date` falls inside the opening hours. */
export function isOpen(schedule: Schedule, date: Date): boolean {
  const { day, minutes } = wallClock(date, schedule.timezone);
  const index = DAYS.indexOf(day);
  for (const [start, end] of schedule.days[day] ?? []) {
    const a = minutesOf(start);
    const b = minutesOf(end);
    if (a < b ? minutes >= a && minutes < b : minutes >= a) return true;
  }
  // Yesterday's ranges that run past midnight.
  const yesterday = DAYS[(index + 6) % 7]!;
  for (const [start, end] of schedule.days[yesterday] ?? []) {
    if (minutesOf(start) > minutesOf(end) && minutes < minutesOf(end)) return true;
  }
  return false;
}

/**
 * Follows the opening hours over time: checks every `pollMs` and reports each change.
 * Polling (rather than one timer to the next change) survives suspend, clock jumps
 * and DST without any arithmetic on offsets. No schedule means always open.
 */
export class OpeningHours {
  private current: boolean | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly schedule: Schedule | undefined,
    /** Called with the first state (initial = true) and then on every change. */
    private readonly onChange: (open: boolean, initial: boolean) => void,
    private readonly now: () => Date = () => new Date(),
    private readonly pollMs = 15_000,
  ) {}

  get open(): boolean {
    return this.current ?? this.evaluate();
  }

  start(): void {
    this.check();
    this.timer ??= setInterval(() => this.check(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Re-reads the clock; exposed so tests can step a fake clock. */
  check(): void {
    const open = this.evaluate();
    if (open === this.current) return;
    const initial = this.current === null;
    this.current = open;
    this.onChange(open, initial);
  }

  private evaluate(): boolean {
    return this.schedule ? isOpen(this.schedule, this.now()) : true;
  }
}
