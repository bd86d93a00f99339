"""What every time-budgeted trainer needs around its loop: a stop flag that SIGINT and SIGTERM
set (so the loop ends at a step boundary and checkpoints), and timers for 'every N minutes'."""
import signal
import sys
import time


class StopFlag:
    """Set by SIGINT or SIGTERM once installed; the loop checks `.now` between steps."""

    def __init__(self):
        self.now = False
        signal.signal(signal.SIGINT, self._set)
        signal.signal(signal.SIGTERM, self._set)

    def _set(self, sig, _frame):
        self.now = True
        print(f"signal {sig}: checkpointing and stopping", file=sys.stderr)


class Every:
    """`due()` is true once every `minutes` (counted from creation, then from each true)."""

    def __init__(self, minutes: float):
        self.seconds = minutes * 60
        self.last = time.time()

    def due(self) -> bool:
        if time.time() - self.last <= self.seconds:
            return False
        self.last = time.time()
        return True
