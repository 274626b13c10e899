"""One job, as every face of the connector shows it: :class:`JobRecord`.

The statuses are IBM's strings (what ``RuntimeJobV2.status()`` returns), so an IBM job and a local job read the
same. Times are ISO-8601 strings in UTC (``2026-11-30T20:03:12.123456+00:00``), or None when not reached yet.

A record checks its fields when it is made (types, and bounds: numbers the sidebar can hold exactly, texts of a
bounded length), so a damaged entry of the local store or a strange row from IBM is a ``ValueError`` or
``TypeError`` where it is read (and skipped there with a note), never a record that breaks a later step.
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


#: The largest count a record holds (shots, pubs): the largest integer a JavaScript number (the sidebar) holds exactly.
MAX_COUNT = 2**53 - 1
MAX_NAME = 256  # id, backend, primitive, session id, provider, a time, one tag
MAX_TAGS = 1000
MAX_ERROR = 2000  # an error line longer than this is cut, not refused (the job's end must still be recorded)


def _text(name: str, value: Any, optional: bool = False, limit: int = MAX_NAME) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise TypeError(f"JobRecord.{name} is a {type(value).__name__}; use a string.")
    if len(value) > limit:
        raise ValueError(f"JobRecord.{name} is {len(value)} characters long; at most {limit} are kept.")


def _count(name: str, value: Any, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"JobRecord.{name} is a {type(value).__name__}; use a whole number.")
    if not 0 <= value <= MAX_COUNT:
        raise ValueError(f"JobRecord.{name} is out of range; use a whole number from 0 to {MAX_COUNT}.")


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
        if not isinstance(self.status, str) or self.status not in JOB_STATUSES:
            shown = repr(self.status)[:40]
            raise ValueError(f"JobRecord.status is {shown}; use one of {', '.join(JOB_STATUSES)}.")
        _text("id", self.id)
        if not self.id:
            raise ValueError("JobRecord.id is empty; every job has an id.")
        for name in ("backend", "primitive", "provider"):
            _text(name, getattr(self, name))
        for name in ("created", "started", "finished", "session_id"):
            _text(name, getattr(self, name), optional=True)
        _count("shots", self.shots, optional=True)
        _count("pubs", self.pubs)
        if isinstance(self.tags, (str, bytes)) or not isinstance(self.tags, (list, tuple)):
            raise TypeError(f"JobRecord.tags is a {type(self.tags).__name__}; use a list of strings.")
        if len(self.tags) > MAX_TAGS:
            raise ValueError(f"JobRecord.tags has {len(self.tags)} tags; at most {MAX_TAGS} are kept.")
        for tag in self.tags:
            _text("tags", tag)
        object.__setattr__(self, "tags", tuple(self.tags))
        if self.error is not None:
            if not isinstance(self.error, str):
                raise TypeError(f"JobRecord.error is a {type(self.error).__name__}; use a string.")
            object.__setattr__(self, "error", self.error[:MAX_ERROR])

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
        """The record in ``data`` (unknown keys are ignored, so a newer file still reads); a ``TypeError`` or
        ``ValueError`` for a damaged one."""
        if not isinstance(data, dict):
            raise TypeError(f"a job record is a {type(data).__name__}, not an object")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def with_fields(self, **changes: Any) -> JobRecord:
        return replace(self, **changes)
