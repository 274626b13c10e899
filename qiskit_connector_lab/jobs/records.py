"""One job, as every face of the connector shows it: :class:`JobRecord`.

The statuses are IBM's strings (what ``RuntimeJobV2.status()`` returns), so an IBM job and a local job read the
same. Times are ISO-8601 strings in UTC (``2026-11-30T20:03:12.123456+00:00``), or None when not reached yet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

from ..errors import ConnectorError

QUEUED = "QUEUED"
RUNNING = "RUNNING"
DONE = "DONE"
CANCELLED = "CANCELLED"
ERROR = "ERROR"
JOB_STATUSES = (QUEUED, RUNNING, DONE, CANCELLED, ERROR)
PENDING_STATUSES = frozenset({QUEUED, RUNNING})
FINAL_STATUSES = frozenset({DONE, CANCELLED, ERROR})


class JobNotFound(ConnectorError, LookupError):
    """No job has this id (in the local store: it never ran here, or it was dropped as older than the last N)."""

    code = "job_not_found"


class JobNotCancellable(ConnectorError):
    """The job has already finished (DONE, ERROR or CANCELLED): there is nothing left to cancel (HTTP 409)."""

    code = "job_not_cancellable"

    def __init__(self, job_id: str, status: str) -> None:
        self.job_id = job_id
        self.status = status
        super().__init__(f"Job {job_id} is already {status}: only a QUEUED or RUNNING job can be cancelled.")


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class JobRecord:
    id: str
    backend: str
    primitive: str  # "sampler" or "estimator"
    status: str  # one of JOB_STATUSES
    created: str | None = None
    started: str | None = None
    finished: str | None = None
    shots: int | None = None  # None for an Estimator job (it has a precision instead)
    pubs: int = 0
    tags: tuple[str, ...] = field(default_factory=tuple)
    session_id: str | None = None  # the Session's or Batch's id; None in job mode
    error: str | None = None  # one line, when status is ERROR
    provider: str = "local"

    def __post_init__(self) -> None:
        if self.status not in JOB_STATUSES:
            raise ValueError(f"JobRecord.status is {self.status!r}; use one of {', '.join(JOB_STATUSES)}.")
        object.__setattr__(self, "tags", tuple(str(t) for t in (self.tags or ())))

    @property
    def pending(self) -> bool:
        return self.status in PENDING_STATUSES

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobRecord:
        """The record in ``data`` (unknown keys are ignored, so a newer file still reads)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def with_fields(self, **changes: Any) -> JobRecord:
        return replace(self, **changes)
