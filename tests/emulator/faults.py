"""Fault injection table for the IBM Quantum Platform emulator.

A fault is matched on the *normalised* request path (``/experimental`` is
stripped, so ``/experimental/api/v1/backends`` matches ``/api/v1/backends``)
and optionally on the HTTP method.  Faults are consulted in injection order;
the first live match is consumed (``times`` counts down; ``None`` = forever).

Fault kinds
-----------
``int`` HTTP status (401, 403, 404, 429, 500, 502, 503, ...)
    Reply with that status and IBM's error body.  ``retry_after`` adds a
    ``Retry-After`` header (urllib3 in the client honours it for 429/503).
``"stall"``
    Wait ``seconds`` (default 30) before handling the request normally.  The
    wait is interruptible: :meth:`IBMQuantumEmulator.stop` wakes it up and the
    connection is dropped.
``"refuse"``
    Read the request, then close the connection without any reply (FIN).
``"reset"``
    Read the request, then abort the connection (RST, ``SO_LINGER`` 0).
``"malformed"``
    ``200 OK`` with ``Content-Type: application/json`` and a truncated body.
``"empty"``
    Handle normally but with nothing in it: ``/backends`` -> ``{"devices": []}``,
    global search -> ``{"items": []}``, anything else -> ``{}``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

DROP_KINDS = frozenset({"refuse", "reset"})
CONTENT_KINDS = frozenset({"stall", "malformed", "empty"})
KINDS = DROP_KINDS | CONTENT_KINDS


def normalise_kind(fault: int | str) -> int | str:
    if isinstance(fault, bool):
        raise TypeError("fault must be an HTTP status or a fault name")
    if isinstance(fault, int):
        if not 400 <= fault <= 599:
            raise ValueError(f"HTTP fault status must be 4xx/5xx, got {fault}")
        return fault
    if isinstance(fault, str):
        kind = fault.strip().lower()
        if kind.isdigit():
            return normalise_kind(int(kind))
        if kind == "timeout":
            kind = "stall"
        if kind not in KINDS:
            raise ValueError(f"unknown fault {fault!r}; expected an HTTP status or one of {sorted(KINDS)}")
        return kind
    raise TypeError(f"fault must be an int or str, got {type(fault).__name__}")


@dataclass
class Fault:
    """One row of the fault table (returned by ``inject`` so tests can inspect it)."""

    kind: int | str
    path: str | None = "/api/v1/backends"
    method: str | None = None
    times: int | None = 1
    prefix: bool = False
    retry_after: float | None = None
    seconds: float = 30.0
    hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def remaining(self) -> int | None:
        with self._lock:
            return None if self.times is None else max(self.times - self.hits, 0)

    @property
    def exhausted(self) -> bool:
        return self.remaining == 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path is None:
            return True
        if self.prefix:
            if self.path.endswith("/"):  # from "/x/*": sub-paths only
                return path.startswith(self.path)
            return path == self.path or path.startswith(self.path + "/")
        return path == self.path

    def try_consume(self) -> bool:
        with self._lock:
            if self.times is not None and self.hits >= self.times:
                return False
            self.hits += 1
            return True


class FaultTable:
    """Thread-safe ordered list of :class:`Fault` rows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        fault: int | str,
        path: str | None = "/api/v1/backends",
        method: str | None = None,
        times: int | None = 1,
        *,
        retry_after: float | None = None,
        seconds: float = 30.0,
        prefix: bool = False,
    ) -> Fault:
        kind = normalise_kind(fault)
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None (forever)")
        if path is not None:
            if not path.startswith("/"):
                path = "/" + path
            if path.endswith("*"):  # "/a/b/*": sub-paths of /a/b; "/a/b*": /a/b and below
                path, prefix = path.rstrip("*") or "/", True
                if not path.endswith("/"):
                    path = path.rstrip("/")
            if path.startswith("/experimental/"):
                path = path[len("/experimental") :]
        row = Fault(
            kind=kind,
            path=path,
            method=method.upper() if method else None,
            times=times,
            prefix=prefix,
            retry_after=retry_after,
            seconds=float(seconds),
        )
        with self._lock:
            self._faults.append(row)
        return row

    def take(self, method: str, path: str) -> Fault | None:
        """Consume and return the first live fault matching this request."""
        with self._lock:
            rows = list(self._faults)
        for row in rows:
            if row.matches(method, path) and row.try_consume():
                return row
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def snapshot(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)
