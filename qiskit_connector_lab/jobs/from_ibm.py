"""IBM's job data as :class:`~.records.JobRecord`: the raw ``GET /api/v1/jobs`` item, or a client job object.

The API spells a status ``Queued``/``Running``/``Completed``/``Cancelled``/``Failed`` (and a few longer variants such
as ``Cancelled - Ran too long``); the records use what ``RuntimeJobV2.status()`` returns: QUEUED, RUNNING, DONE,
CANCELLED, ERROR. Imports nothing of Qiskit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .records import CANCELLED, DONE, ERROR, JOB_STATUSES, QUEUED, RUNNING, JobRecord

_API_STATUS = {
    "QUEUED": QUEUED,
    "RUNNING": RUNNING,
    "COMPLETED": DONE,
    "DONE": DONE,
    "CANCELLED": CANCELLED,
    "FAILED": ERROR,
    "ERROR": ERROR,
    "INITIALIZING": QUEUED,
    "VALIDATING": QUEUED,
}


def job_status(raw: Any) -> str:
    """One of the JobRecord statuses for an API or client status string (unknown: ERROR, never a crash)."""
    text = str(raw or "").strip().upper()
    if text in JOB_STATUSES:
        return text
    head = text.split(" ", 1)[0].split("-", 1)[0].strip()
    if head.startswith("CANCELLED") and "RAN TOO LONG" in text:
        return ERROR
    return _API_STATUS.get(head, ERROR)


def iso(value: Any) -> str | None:
    """An ISO-8601 UTC string for an API timestamp (``...Z`` or a datetime), None for nothing."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    text = str(value)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).isoformat()
    except ValueError:
        return None


def _one_line(text: Any, limit: int = 300) -> str | None:
    if not text:
        return None
    line = " ".join(str(text).split())
    return line[:limit]


def record_from_api(raw: dict[str, Any], metrics: dict[str, Any] | None = None) -> JobRecord:
    """The record of one item of ``GET /api/v1/jobs`` (or ``GET /jobs/{id}``), with ``/metrics`` if given."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ValueError("IBM sent a job without an id")
    state: dict[str, Any] = raw["state"] if isinstance(raw.get("state"), dict) else {}
    status = job_status(state.get("status") or raw.get("status"))
    program: dict[str, Any] = raw["program"] if isinstance(raw.get("program"), dict) else {}
    stamps = (metrics or {}).get("timestamps") or {}
    reason = state.get("reason")
    code = state.get("reason_code") or state.get("reasonCode")
    error = None
    if status == ERROR:
        error = _one_line(f"Error code {code}; {reason}" if code and reason else reason or "The job failed.")
    tags: list[Any] = raw["tags"] if isinstance(raw.get("tags"), list) else []
    return JobRecord(
        id=raw["id"],
        backend=str(raw.get("backend") or ""),
        primitive=str(program.get("id") or raw.get("program_id") or ""),
        status=status,
        created=iso(raw.get("created") or stamps.get("created")),
        started=iso(stamps.get("running")),
        finished=iso(stamps.get("finished") or raw.get("ended")),
        shots=None,
        pubs=int((metrics or {}).get("num_circuits") or 0),
        tags=tuple(str(t) for t in tags),
        session_id=raw.get("session_id") or None,
        error=error,
        provider="ibm",
    )


def usage_seconds(raw: dict[str, Any] | None, metrics: dict[str, Any] | None = None) -> float | None:
    """The quantum seconds IBM charged for the job, if it says."""
    for source in ((metrics or {}).get("usage") or {}, (raw or {}).get("usage") or {}):
        for key in ("qpu_charge_time_seconds", "quantum_seconds", "seconds"):
            value = source.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
    return None
