"""The interface both QPU providers share (IBM Quantum and the local fleet), with its listing cache.

A provider is built once per configuration and reused (:func:`qiskit_connector_lab.providers.provider_for`), so a
second connect in the same process reuses the IBM service and pays only for the queue refresh. The listing is cached
for the settings' ``listing_ttl`` and fetched by one caller at a time (single flight): concurrent callers share one
request.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config import Settings
from ..jobs.records import JobRecord
from ..plans import InstanceInfo, PlanCheck
from ..qpus import Listing


@dataclass(frozen=True)
class Usage:
    """Quantum time used and allowed on the instance, in seconds (None where IBM does not say)."""

    consumed_seconds: float | None
    limit_seconds: float | None
    limit_reached: bool = False

    @property
    def remaining_seconds(self) -> float | None:
        if self.limit_seconds is None or self.consumed_seconds is None:
            return None
        return max(0.0, self.limit_seconds - self.consumed_seconds)

    def as_dict(self) -> dict[str, Any]:
        return {
            "consumed_seconds": self.consumed_seconds,
            "limit_seconds": self.limit_seconds,
            "remaining_seconds": self.remaining_seconds,
            "limit_reached": self.limit_reached,
        }


class Provider(ABC):
    """Lists QPUs, hands out backend objects, opens sessions/batches, reports the plan and the usage."""

    kind: str = ""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._listing: Listing | None = None
        self._listing_taken = 0.0
        self._listing_lock = threading.RLock()  # re-entered when a fetch seeds the listing (IBM re-sign-in)
        #: How many times this provider fetched a listing upstream (for tests and benchmarks).
        self.listing_fetches = 0

    # -- listing ---------------------------------------------------------------------------------------------
    def listing(self, max_age: float | None = None) -> Listing:
        """A listing no older than ``max_age`` seconds (default: the settings' listing TTL)."""
        max_age = self.settings.listing_ttl if max_age is None else max_age
        with self._listing_lock:
            if self._listing is not None and self._clock() - self._listing_taken <= max_age:
                return self._listing
            listing = self._fetch_listing()
            self.listing_fetches += 1
            self._listing, self._listing_taken = listing, self._clock()
            return listing

    def cached_listing(self) -> Listing | None:
        """The last listing, whatever its age, without any request (for tab completion and the like)."""
        return self._listing

    def _prime_listing(self, listing: Listing) -> None:
        """Store a listing that came for free (e.g. with the IBM service's own init)."""
        with self._listing_lock:
            self._listing, self._listing_taken = listing, self._clock()

    def take_notes(self) -> list[str]:
        """Notes gathered since the last call (e.g. the IBM client's own warnings), once each."""
        notes = getattr(self, "client_notes", None)
        if not notes:
            return []
        taken = [f"The IBM client said: {line}" for line in dict.fromkeys(notes)]
        notes.clear()
        return taken

    @abstractmethod
    def _fetch_listing(self) -> Listing:
        """Fetch every QPU's status and queue with one upstream request."""

    # -- the rest --------------------------------------------------------------------------------------------
    @abstractmethod
    def backend(self, name: str) -> Any:
        """The Qiskit backend object for a listed QPU."""

    @abstractmethod
    def instance(self) -> InstanceInfo:
        """The instance in use, with the plan IBM reports for it."""

    @abstractmethod
    def check_plan(self) -> PlanCheck:
        """The plan to use, checked against the instance where that is possible."""

    @abstractmethod
    def usage(self) -> Usage | None:
        """Quantum time used and left, where the provider reports it."""

    @abstractmethod
    def open_mode(self, backend: Any, mode: str) -> Any:
        """Open a ``Session`` or ``Batch`` on ``backend`` (``mode`` is "session" or "batch")."""

    def close_mode(self, session: Any) -> None:
        """Close a Session or Batch this provider opened (bounded on IBM)."""
        session.close()

    @abstractmethod
    def configuration(self, name: str) -> dict[str, Any]:
        """The QPU's configuration as the API gives it (coupling map, basis gates, ...)."""

    @abstractmethod
    def properties(self, name: str) -> dict[str, Any] | None:
        """The QPU's calibration properties as the API gives them, if any."""

    # -- jobs (see qiskit_connector_lab.jobs) ----------------------------------------------------------------
    @abstractmethod
    def jobs(self, pending: bool = False, backend: str | None = None, limit: int = 20, offset: int = 0) -> JobsPage:
        """Recent jobs, newest first (on IBM: one ``GET /api/v1/jobs``), and how many match in all."""

    @abstractmethod
    def job_detail(self, job_id: str) -> dict[str, Any]:
        """One job: its record (``JobRecord.as_dict()``) plus ``usage_seconds``. Raises ``JobNotFound``."""

    @abstractmethod
    def cancel_job(self, job_id: str) -> str:
        """Cancel a QUEUED or RUNNING job; returns its status now. Raises ``JobNotCancellable`` when final."""

    @abstractmethod
    def job_handle(self, job_id: str) -> Any:
        """The job as an object a notebook can use (``.status()``, ``.result()`` on IBM)."""


@dataclass(frozen=True)
class JobsPage:
    """A page of jobs, newest first, and the number of jobs that match the filters in all."""

    jobs: tuple[JobRecord, ...]
    total: int
    provider: str
    notes: tuple[str, ...] = ()  # one line per job that could not be read (and was left out)

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "total": self.total,
            "jobs": [job.as_dict() for job in self.jobs],
            "notes": list(self.notes),
        }
