"""A dependency-free progress bar with rate and ETA, on stderr (one line, redrawn)."""
import sys
import time


class Progress:
    def __init__(self, total: float, label: str, unit: str = "it", start: float = 0.0):
        self.total, self.label, self.unit = total, label, unit
        # `start` is work already done (a resumed run): it counts toward the bar, not the rate
        self.done, self.start, self.t0, self.last = start, start, time.time(), 0.0
        self.tty = sys.stderr.isatty()

    def update(self, n: float = 1, extra: str = "") -> None:
        self.done += n
        now = time.time()
        # Off a terminal (logs, CI) print a line every 10 s instead of redrawing.
        if now - self.last < (0.2 if self.tty else 10.0) and self.done < self.total:
            return
        self.last = now
        elapsed = now - self.t0
        rate = (self.done - self.start) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        frac = min(1.0, self.done / self.total) if self.total else 1.0
        bar = "#" * int(frac * 24)
        line = (f"{self.label} [{bar:<24}] {frac * 100:5.1f}% {self.done:.0f}/{self.total:.0f} "
                f"{rate:.1f} {self.unit}/s ETA {fmt(eta)} {extra}")
        sys.stderr.write(("\r" + line) if self.tty else (line + "\n"))
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
        sys.stderr.write(f"{self.label}: done in {fmt(time.time() - self.t0)}\n")


def fmt(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
