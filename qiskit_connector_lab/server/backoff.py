"""When the server may call IBM Quantum again after a failure.

* A 429 with ``Retry-After`` waits exactly that long (up to an hour): IBM said when to come back.
* Anything else (5xx, unreachable, deadline, a 429 without ``Retry-After``) waits 2, 4, 8, ... seconds,
  capped (60 s by default), and starts again from 2 s after a success.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import ConnectorError, RateLimited

RETRY_AFTER_CAP = 3600.0


class Backoff:
    def __init__(self, *, base: float = 2.0, cap: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.base = base
        self.cap = cap
        self._clock = clock
        self.failures = 0  # consecutive failures since the last success
        self.until = 0.0  # no upstream call before this (clock) time
        self.last_error: ConnectorError | None = None
        self.last_delay = 0.0

    def active(self) -> bool:
        return self._clock() < self.until

    def remaining(self) -> float:
        return max(0.0, self.until - self._clock())

    def failed(self, error: ConnectorError) -> float:
        """Record a failure; return how long to wait before the next upstream call."""
        self.failures += 1
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        if retry_after is not None and retry_after > 0:
            delay = min(float(retry_after), RETRY_AFTER_CAP)
        else:
            delay = min(self.cap, self.base * 2 ** (self.failures - 1))
        self.until = self._clock() + delay
        self.last_error = error
        self.last_delay = delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self.until = 0.0
        self.last_error = None
        self.last_delay = 0.0
