/** A number that moves linearly to a target over a duration; the loop asks it where it is now. */
export class Tween {
  private from: number;
  private to: number;
  private start = 0;
  private duration = 0;

  constructor(private current: number) {
    this.from = current;
    this.to = current;
  }

  /** Starts moving from wherever the value is now, so a retarget never jumps. */
  go(to: number, durationMs: number, now: number): void {
    this.from = this.current;
    this.to = to;
    this.start = now;
    this.duration = Math.max(0, durationMs);
    if (this.duration === 0) this.current = to;
  }

  set(value: number): void {
    this.current = this.from = this.to = value;
    this.duration = 0;
  }

  /** Advances to `now`; returns true while still moving. */
  update(now: number): boolean {
    if (this.current === this.to) return false;
    // rAF stamps the frame's start, which can precede the event that started the tween.
    const t = this.duration > 0 ? Math.min(1, Math.max(0, (now - this.start) / this.duration)) : 1;
    this.current = this.from + (this.to - this.from) * t;
    if (t >= 1) this.current = this.to;
    return this.current !== this.to;
  }

  get value(): number {
    return this.current;
  }

  get target(): number {
    return this.to;
  }
}
