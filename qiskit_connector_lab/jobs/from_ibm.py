"""IBM's job data as :class:`~.records.JobRecord`: the items of a raw ``GET /api/v1/jobs`` answer, every field checked.

A row that cannot be read (no id, a field of the wrong type, a number out of bounds) is left out of the page with a
one-line note; the other jobs still show. (A client job object is read in ``providers/ibm.py``.)

The API spells a status ``Queued``/``Running``/``Completed``/``Cancelled``/``Failed`` (and a few longer variants such
as ``Cancelled - Ran too long``); the records use what ``RuntimeJobV2.status()`` returns: QUEUED, RUNNING, DONE,
CANCELLED, ERROR. Imports nothing of Qiskit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..errors import ConnectorError
from .records import (
    CANCELLED,
    DONE,
    ERROR,
    JOB_STATUSES,
    MAX_COUNT,
    MAX_NAME,
    MAX_TAGS,
    QUEUED,
    RUNNING,
    JobRecord,
)

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


# The bounds are the record's own (records.MAX_NAME, MAX_TAGS, MAX_COUNT): a row read here is a record that holds.
MAX_NOTES = 5


class BadJobRow(ValueError):
    """One job of IBM's list that cannot be read; the message names the field (one line)."""


class UnreadableJob(ConnectorError):
    """IBM Quantum sent one job in a form the connector cannot read. It is that job's answer, not an upstream
    failure: the server does not back off for it, and the other jobs still show."""

    code = "unreadable_job"


def _one_line(text: Any, limit: int = 300) -> str | None:
    if not text:
        return None
    line = " ".join(str(text).split())
    return line[:limit]


def _text(raw: dict[str, Any], key: str, limit: int = MAX_NAME) -> str | None:
    """A string field, or None when absent; anything else (a number, a list, a 10 kB string) is a bad row."""
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadJobRow(f"its {key} is not a string of at most {limit} characters")
    return value


def _object(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadJobRow(f"its {key} is not an object")
    return value


def read_tags(value: Any) -> tuple[str, ...]:
    """A job's tags: a list of at most MAX_TAGS strings of at most MAX_NAME characters each, else a bad row."""
    tags = value or []
    if (
        not isinstance(tags, (list, tuple))
        or len(tags) > MAX_TAGS
        or not all(isinstance(t, str) and len(t) <= MAX_NAME for t in tags)
    ):
        raise BadJobRow(f"its tags are not a list of at most {MAX_TAGS} strings of at most {MAX_NAME} characters")
    return tuple(tags)


def checked_record(**fields: Any) -> JobRecord:
    """``JobRecord(**fields)``, a field the record refuses being a bad row (one line naming it)."""
    try:
        return JobRecord(**fields)
    except (TypeError, ValueError) as problem:
        raise BadJobRow(f"it makes no job record: {_one_line(problem, 200)}") from None


def row_notes(problems: list[str]) -> tuple[str, ...]:
    """The notes for the rows left out (``problems``: one "row N: why" each): at most MAX_NOTES, then a count."""
    notes = [f"IBM Quantum sent a job that could not be read ({problem}); it is left out." for problem in problems]
    kept = notes[:MAX_NOTES]
    if len(notes) > MAX_NOTES:
        kept.append(f"{len(notes) - MAX_NOTES} more jobs could not be read and are left out.")
    return tuple(kept)


def _time(value: Any) -> str | None:
    return iso(value) if isinstance(value, (str, datetime)) else None


def with_metrics(record: JobRecord, metrics: Any) -> JobRecord:
    """The record with what ``GET /jobs/{id}/metrics`` adds: when it ran and ended, its circuit count. A metric
    that cannot be read is left out (no time, no count), never the job."""
    metrics = metrics if isinstance(metrics, dict) else {}
    stamps = metrics.get("timestamps")
    stamps = stamps if isinstance(stamps, dict) else {}
    pubs = bounded_count(metrics.get("num_circuits"))
    return record.with_fields(
        started=_time(stamps.get("running")),
        finished=_time(stamps.get("finished")),
        pubs=pubs if pubs is not None else record.pubs,
    )


def _stamp(value: Any, key: str) -> str | None:
    if value is not None and not isinstance(value, (str, datetime)):
        raise BadJobRow(f"its {key} is not a time")
    return iso(value)


def bounded_count(value: Any, high: int = MAX_COUNT) -> int | None:
    """A whole number from 0 to ``high`` (an int, or a float that is one), else None: no bool, NaN, 1e999."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (value.is_integer() and 0 <= value <= high):
        return None
    number = int(value)
    return number if 0 <= number <= high else None


def record_from_api(raw: Any, metrics: dict[str, Any] | None = None) -> JobRecord:
    """The record of one item of ``GET /api/v1/jobs`` (or ``GET /jobs/{id}``), with ``/metrics`` if given.

    Every field is checked: a row that cannot be read raises :class:`BadJobRow` naming the field."""
    if not isinstance(raw, dict):
        raise BadJobRow("it is not an object")
    job_id = raw.get("id")
    if not isinstance(job_id, str) or not 0 < len(job_id) <= MAX_NAME or not job_id.isprintable():
        raise BadJobRow("it has no id")
    state = _object(raw, "state")
    status_text = _text(state, "status") or _text(raw, "status")
    status = job_status(status_text)
    program = _object(raw, "program")
    metrics = metrics if isinstance(metrics, dict) else {}
    stamps = _object(metrics, "timestamps")
    reason = _one_line(_text(state, "reason", 10_000))
    code = state.get("reason_code", state.get("reasonCode"))
    if code is not None and (isinstance(code, bool) or not isinstance(code, (int, str)) or len(str(code)) > 32):
        raise BadJobRow("its reason_code is not a short code")
    error = None
    if status == ERROR:
        error = _one_line(f"Error code {code}; {reason}" if code and reason else reason or "The job failed.")
    tags = read_tags(raw.get("tags"))
    pubs = metrics.get("num_circuits")
    return checked_record(
        id=job_id,
        backend=_text(raw, "backend") or "",
        primitive=_text(program, "id") or _text(raw, "program_id") or "",
        status=status,
        created=_stamp(raw.get("created") or stamps.get("created"), "created"),
        started=_stamp(stamps.get("running"), "running"),
        finished=_stamp(stamps.get("finished") or raw.get("ended"), "finished"),
        shots=None,
        pubs=(bounded_count(pubs) or 0) if pubs is not None else 0,
        tags=tags,
        session_id=_text(raw, "session_id"),
        error=error,
        provider="ibm",
    )


def records_from_api(raw: Any) -> tuple[tuple[JobRecord, ...], int, tuple[str, ...]]:
    """The records of one ``GET /api/v1/jobs`` answer, the total it says, and one note per row left out.

    A row that cannot be read is skipped (and said), never the page: the other jobs still show. Raises ValueError
    only when the answer itself is not a job list."""
    if not isinstance(raw, dict) or not isinstance(raw.get("jobs"), list):
        raise ValueError("IBM Quantum sent a job list that is not a list of jobs")
    records: list[JobRecord] = []
    problems: list[str] = []
    for position, item in enumerate(raw["jobs"], start=1):
        try:
            records.append(record_from_api(item))
        except BadJobRow as problem:
            problems.append(f"row {position}: {problem}")
    count = bounded_count(raw.get("count"))
    total = count if count is not None and count >= len(records) else len(records)
    return tuple(records), total, row_notes(problems)


def usage_seconds(raw: dict[str, Any] | None, metrics: dict[str, Any] | None = None) -> float | None:
    """The quantum seconds IBM charged for the job, if it says (a number from 0 to a year; anything else: None)."""
    for holder in (metrics, raw):
        source = holder.get("usage") if isinstance(holder, dict) else None
        if not isinstance(source, dict):
            continue
        for key in ("qpu_charge_time_seconds", "quantum_seconds", "seconds"):
            value = source.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 366 * 86400:
                return float(value)
    return None
