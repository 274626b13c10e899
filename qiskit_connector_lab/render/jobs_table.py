"""The job table of ``%qjobs``: newest first, with status, QPU, primitive, age, run time and tags."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from ..providers.base import JobsPage
from .tables import GridReport

_MARK = {"QUEUED": "◌", "RUNNING": "◐", "DONE": "●", "CANCELLED": "⊘", "ERROR": "✕"}


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def span(seconds: float | None) -> str:
    """``42 s``, ``3.5 min``, ``2.1 h``, ``3 d``; ``-`` for nothing."""
    if seconds is None or seconds < 0:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} d"


def age(created: str | None, now: datetime) -> str:
    moment = _moment(created)
    return "-" if moment is None else span((now - moment).total_seconds()) + " ago"


def run_time(started: str | None, finished: str | None, now: datetime) -> str:
    start = _moment(started)
    if start is None:
        return "-"
    end = _moment(finished) or now
    return span((end - start).total_seconds())


class JobsTable(GridReport):
    headers = ("", "Job", "Status", "QPU", "Primitive", "Created", "Run time", "Tags")

    def __init__(self, page: JobsPage, pending: bool = False, now: datetime | None = None) -> None:
        self.page = page
        self.now = now or datetime.now(UTC)
        where = "on the local fleet (offline simulation, not IBM)" if page.provider == "local" else "on IBM Quantum"
        what = "pending jobs" if pending else "jobs"
        shown = len(page.jobs)
        self.title = f"{shown} of {page.total} {what} {where}, newest first"
        self.footer = []
        #: With no job to show, one line says so, and no empty table is drawn.
        self.empty = None if shown else (f"No pending jobs {where}." if pending else f"No jobs yet {where}.")

    def __str__(self) -> str:
        return self.empty if self.empty is not None else super().__str__()

    def _repr_html_(self) -> str:
        if self.empty is not None:
            return f"<div class='qcl-report'>{html.escape(self.empty)}</div>"
        return super()._repr_html_()

    def rows(self) -> list[list[Any]]:
        return [
            [
                _MARK.get(job.status, "?"),
                job.id,
                job.status,
                job.backend,
                job.primitive or "-",
                age(job.created, self.now),
                run_time(job.started, job.finished, self.now),
                ", ".join(job.tags) or "",
            ]
            for job in self.page.jobs
        ]
