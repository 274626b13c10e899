"""Displayable reports for the magics: the QPU table and the plan report (text and HTML, via tabulate)."""

from __future__ import annotations

import html
from typing import Any

from tabulate import tabulate

from ..qpus import Listing
from ..plans import InstanceInfo, PlanCheck
from ..providers.base import Usage
from ..ranking import ranked

_DOT = {"online": "●", "paused": "◐", "offline": "○"}


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = seconds / 60
    return f"{minutes:.1f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


class _Report:
    title = ""

    def rows(self) -> list[list[Any]]:
        raise NotImplementedError

    headers: list[str] = []
    footer: list[str] = []

    def __str__(self) -> str:
        lines = [self.title, tabulate(self.rows(), headers=self.headers, tablefmt="simple")]
        lines.extend(self.footer)
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        footer = "".join(f"<div>{html.escape(line)}</div>" for line in self.footer)
        return (f"<div class='qcl-report'><b>{html.escape(self.title)}</b>"
                f"{tabulate(self.rows(), headers=self.headers, tablefmt='html')}{footer}</div>")


class BackendTable(_Report):
    """The QPUs of a listing, least busy first, the least busy operational one marked."""

    headers = ["", "QPU", "Status", "Qubits", "Processor", "Queue", ""]

    def __init__(self, listing: Listing, min_qubits: int | None = None) -> None:
        self.listing = listing
        self.qpus = [q for q in ranked(listing.qpus) if not min_qubits or q.qubits >= min_qubits]
        online = [q for q in self.qpus if q.operational and not q.simulator and q.queue is not None]
        self.least_busy = online[0].name if online else None  # an unknown queue is never the least busy
        where = "local fleet (offline simulation, not IBM)" if listing.local else "IBM Quantum"
        self.title = f"{len(self.qpus)} QPUs on the {where}, least busy first"
        when = listing.fetched_at.strftime("%H:%M:%S UTC")
        self.footer = [f"Fetched {when}." + (" Stale: " + listing.stale_reason if listing.stale else "")]
        self.footer.extend(f"Note: {note}" for note in listing.notes if note.startswith("Skipped"))

    def rows(self) -> list[list[Any]]:
        return [[_DOT.get(q.status, "?"), q.name, q.status, q.qubits, q.processor, "?" if q.queue is None else q.queue,
                 "← least busy" if q.name == self.least_busy else ""] for q in self.qpus]


class PlanReport(_Report):
    headers: list[str] = []

    def __str__(self) -> str:
        return "\n".join([tabulate(self.rows(), tablefmt="plain"), *self.footer])

    def __init__(self, kind: str, check: PlanCheck, instance: InstanceInfo, usage: Usage | None, settings: Any) -> None:
        self.title = "Plan and instance"
        self.check, self.instance, self.usage, self.kind = check, instance, usage, kind
        self.settings = settings
        self.footer = [f"Note: {n}" for n in (*check.notes, *getattr(settings, "notes", ()))]

    def rows(self) -> list[list[Any]]:
        plan = self.check.plan
        rows: list[list[Any]] = [
            ["Provider", "local fleet (offline simulation, not IBM)" if self.kind == "local" else "IBM Quantum"],
            ["Plan", f"{plan.display_name} ({plan.label})"],
            ["Verified with IBM", "yes" if self.check.verified else "no"],
            ["Instance", self.instance.name or "-"],
        ]
        if self.instance.crn:
            rows.append(["CRN", self.instance.crn])
        if self.kind != "local":
            rows.append(["Channel", self.settings.channel])
        if getattr(self.settings, "env_file_shown", None):
            rows.append(["Configuration", self.settings.env_file_shown])
        if getattr(self.settings, "endpoint", None):
            rows.append(["Endpoint", f"{self.settings.endpoint} (not IBM's default)"])
        rows.append(["Modes", ", ".join(plan.allowed_modes()) + f" (default {plan.default_mode})"])
        if self.usage is not None and self.usage.limit_seconds is None:
            rows.append(["Usage", f"{_hours(self.usage.consumed_seconds)} used (IBM reports no limit)"])
        elif self.usage is not None:
            rows.append(["Usage", f"{_hours(self.usage.consumed_seconds)} used of {_hours(self.usage.limit_seconds)}"])
            rows.append(["Remaining", _hours(self.usage.remaining_seconds) + (" (limit reached)" if self.usage.limit_reached else "")])
        else:
            rows.append(["Usage", "not reported" if self.kind != "local" else "local runs use no quantum time"])
        return rows
