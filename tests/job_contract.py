"""The RuntimeJobV2 calls a notebook makes on a job, shared by the local-fleet and IBM-path job tests.

Both sides drive a finished Bell-circuit Sampler job through :data:`CALLS` with :func:`job_snapshot` and check it
with :func:`check_done_bell_job`; :func:`assert_same_shape` then compares a local job's snapshot with an IBM
job's (through the real client against ``tests/emulator/``), so the two kinds of job answer alike.

Usage (IBM side, once the emulator has the jobs API)::

    from job_contract import assert_same_shape, check_done_bell_job, job_snapshot
    ibm = job_snapshot(ibm_job)          # after ibm_job.wait_for_final_state()
    check_done_bell_job(ibm, shots=1000)
    assert_same_shape(local_snapshot, ibm)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

STATUSES = ("QUEUED", "RUNNING", "DONE", "CANCELLED", "ERROR")

#: (name, call): every call a notebook makes on a RuntimeJobV2, in the order a notebook would.
CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("wait_for_final_state", lambda job: job.wait_for_final_state(timeout=120)),
    ("job_id", lambda job: job.job_id()),
    ("status", lambda job: job.status()),
    ("status_capitalized", lambda job: job.status().capitalize()),  # the seed connector's sample notebook
    ("done", lambda job: job.done()),
    ("running", lambda job: job.running()),
    ("cancelled", lambda job: job.cancelled()),
    ("errored", lambda job: job.errored()),
    ("in_final_state", lambda job: job.in_final_state()),
    ("error_message", lambda job: job.error_message()),
    ("backend_name", lambda job: job.backend().name),
    ("creation_date", lambda job: job.creation_date),
    ("tags", lambda job: job.tags),
    ("usage_estimation", lambda job: job.usage_estimation),
    ("usage", lambda job: job.usage()),
    ("metrics", lambda job: job.metrics()),
    ("logs", lambda job: job.logs()),
    ("session_id", lambda job: job.session_id),
    ("primitive_id", lambda job: job.primitive_id),
    ("result", lambda job: job.result(timeout=120)),
]


def job_snapshot(job: Any) -> dict[str, Any]:
    """The value of every call in :data:`CALLS` (an exception is kept as the value)."""
    out: dict[str, Any] = {}
    for name, call in CALLS:
        try:
            out[name] = call(job)
        except Exception as error:
            out[name] = error
    return out


def check_done_bell_job(snap: dict[str, Any], *, shots: int) -> None:
    """The values a finished Bell Sampler job must give, on either side."""
    errors = {name: value for name, value in snap.items() if isinstance(value, Exception)}
    assert not errors, errors
    assert snap["wait_for_final_state"] is None
    assert isinstance(snap["job_id"], str) and snap["job_id"]
    assert snap["status"] == "DONE" and snap["status_capitalized"] == "Done"
    assert (snap["done"], snap["running"], snap["cancelled"], snap["errored"], snap["in_final_state"]) == (
        True,
        False,
        False,
        False,
        True,
    )
    assert snap["error_message"] in (None, "")
    assert isinstance(snap["backend_name"], str)
    assert isinstance(snap["creation_date"], datetime) and snap["creation_date"].tzinfo is not None
    assert snap["tags"] is None or isinstance(snap["tags"], list)  # IBM: None when submitted with none
    assert isinstance(snap["usage_estimation"], dict) and "quantum_seconds" in snap["usage_estimation"]
    assert isinstance(snap["usage"], (int, float))
    metrics = snap["metrics"]
    assert isinstance(metrics, dict) and isinstance(metrics.get("timestamps"), dict)
    for moment in ("created", "running", "finished"):
        assert isinstance(metrics["timestamps"].get(moment), str), moment
    assert isinstance(metrics.get("usage"), dict)
    assert isinstance(snap["logs"], str)
    assert snap["session_id"] is None or isinstance(snap["session_id"], str)
    assert snap["primitive_id"] in ("sampler", "executor")
    result = snap["result"]
    assert len(result) == 1
    counts = result[0].join_data().get_counts()
    assert sum(counts.values()) == shots
    assert counts.get("00", 0) + counts.get("11", 0) > 0.8 * shots


def assert_same_shape(local: dict[str, Any], ibm: dict[str, Any]) -> None:
    """Same calls, same types, same values where the value is not the job's own (ids, times, counts)."""
    own = {
        "job_id",
        "backend_name",
        "creation_date",
        "metrics",
        "logs",
        "usage_estimation",
        "usage",
        "result",
        "session_id",
        "tags",
        "primitive_id",
    }
    for name, _ in CALLS:
        assert type(local[name]) is type(ibm[name]) or (
            isinstance(local[name], (int, float)) and isinstance(ibm[name], (int, float))
        ), (name, local[name], ibm[name])
        if name not in own:
            assert local[name] == ibm[name], (name, local[name], ibm[name])
    assert type(local["result"][0].data) is type(ibm["result"][0].data)
