"""Displayable reports: the QPU table of ``%qbackends``, the plan report of ``%qplan``, and the compact two-column
table the connection summary uses (text via tabulate, HTML with inline styles so it reads the same in JupyterLab,
Notebook 7 and a saved notebook).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from tabulate import tabulate

from ..plans import InstanceInfo, Plan, PlanCheck
from ..providers.base import Usage
from ..qpus import Listing
from ..ranking import ranked

_DOT = {"online": "●", "paused": "◐", "offline": "○"}
#: The status colours of the sidebar (green, amber, grey), readable on light and dark backgrounds.
STATUS_COLOURS = {"online": "#2e9e44", "paused": "#e0a000", "offline": "#8a8a8a"}

#: The one line that says what the local fleet is (it replaces the providers' separate "Local fleet:" notes).
LOCAL_FACTS = (
    "Local fleet: copies of IBM processors with simulated queues; the plan is simulated, nothing is "
    "checked with IBM; jobs run on this machine."
)

# Inline styles: JupyterLab and Notebook 7 right-align table cells and centre tables; a report reads left to right.
_TABLE = "border-collapse:collapse;margin:4px 0;width:auto;table-layout:auto;font-size:var(--jp-ui-font-size1,13px)"
_TH = "text-align:left;padding:1px 14px 1px 0;font-weight:600;vertical-align:top;white-space:nowrap;border:none"
_TD = "text-align:left;padding:1px 14px 1px 0;vertical-align:top;border:none;overflow-wrap:break-word;max-width:48em"
_ROW = "background:transparent"
_NOTE = "margin:2px 0;padding:2px 6px;border-left:3px solid #e0a000"
_FACT = "margin:2px 0;opacity:0.75"


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = seconds / 60
    return f"{minutes:.1f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def plan_text(plan: Plan) -> str:
    """A plan in words, once: "Open", "Premium (paid)"."""
    title = plan.display_name
    return title if not plan.is_paid or "paid" in title.lower() else f"{title} (paid)"


def split_notes(notes: Iterable[str], local: bool) -> tuple[list[str], list[str]]:
    """The notes that change what the user should do (first), and the facts (last; the local fleet's in one line)."""
    actions: list[str] = []
    facts: list[str] = []
    for note in dict.fromkeys(notes):
        if note.startswith("Local fleet:"):
            continue
        (facts if note.startswith("Variables:") else actions).append(note)
    if local:
        facts.insert(0, LOCAL_FACTS)
    return actions, facts


def two_column_html(rows: Sequence[tuple[str, Any]], *, raw: Sequence[str] = ()) -> str:
    """A compact label/value table; values are escaped unless their label is in ``raw`` (already HTML)."""
    body = "".join(
        f"<tr style='{_ROW}'><th style='{_TH}'>{html.escape(label)}</th>"
        f"<td style='{_TD}'>{value if label in raw else html.escape(str(value))}</td></tr>"
        for label, value in rows
    )
    return f"<table style='{_TABLE}'><tbody>{body}</tbody></table>"


def notes_html(actions: Sequence[str], facts: Sequence[str]) -> tuple[str, str]:
    """The action notes (shown above a table) and the facts (below it), as HTML."""
    first = "".join(f"<div class='qcl-note' style='{_NOTE}'>{html.escape(n)}</div>" for n in actions)
    last = "".join(f"<div class='qcl-fact' style='{_FACT}'>{html.escape(n)}</div>" for n in facts)
    return first, last


def status_dot_html(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#8a8a8a")
    return f"<span style='color:{colour}' role='img' aria-label='{html.escape(status)}'>{_DOT.get(status, '?')}</span>"


class GridReport:
    """A titled table with a header row and footer lines, as text (tabulate) and as left-aligned HTML."""

    title = ""
    headers: tuple[str, ...] = ()
    footer: list[str]

    def rows(self) -> list[list[Any]]:
        raise NotImplementedError

    def __str__(self) -> str:
        return "\n".join([self.title, tabulate(self.rows(), headers=self.headers, tablefmt="simple"), *self.footer])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='{_TH}'>{html.escape(h)}</th>" for h in self.headers)
        body = "".join(
            f"<tr style='{_ROW}'>"
            + "".join(f"<td style='{_TD}'>{html.escape(str(cell))}</td>" for cell in row)
            + "</tr>"
            for row in self.rows()
        )
        footer = "".join(f"<div style='{_FACT}'>{html.escape(line)}</div>" for line in self.footer)
        return (
            f"<div class='qcl-report'><b>{html.escape(self.title)}</b>"
            f"<table style='{_TABLE}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{footer}</div>"
        )


def layout_text(layout: Sequence[int], limit: int = 8) -> str:
    """Physical qubits in the order of the circuit's qubits, shortened past ``limit``: "[3, 5, 4, … 12 in all]"."""
    shown = ", ".join(str(q) for q in layout[:limit])
    return f"[{shown}{f', … {len(layout)} in all' if len(layout) > limit else ''}]"


#: The mark of a QPU that no other QPU beats on both expected fidelity and queue.
FRONT_MARK = "◆"


class BackendTable:
    """The QPUs of a listing, least busy first; the least busy operational one and the sidebar's pick marked.

    With a ``ranking`` (``%qbackends --for qc``) the QPUs come most faithful first, with their expected fidelity, the
    layout, a ◆ on the Pareto front of (expected fidelity, queue), and the pick and why."""

    headers: tuple[str, ...] = ("", "QPU", "Status", "Qubits", "Processor", "Queue", "")

    def __init__(
        self,
        listing: Listing,
        min_qubits: int | None = None,
        pick: str | None = None,
        ranking: Any = None,
        circuit_name: str = "the circuit",
    ) -> None:
        self.listing = listing
        self.pick = pick
        self.ranking = ranking
        self.qpus = [q for q in ranked(listing.qpus) if not min_qubits or q.qubits >= min_qubits]
        online = [q for q in self.qpus if q.operational and not q.simulator and q.queue is not None]
        self.least_busy = online[0].name if online else None  # an unknown queue is never the least busy
        if ranking is not None:
            order = {fit.name: i for i, fit in enumerate(ranking.fits)}
            self.qpus.sort(key=lambda q: order.get(q.name, len(order)))
            self.headers = ("", "QPU", "Status", "Qubits", "Processor", "Queue", "Expected fidelity", "Layout", "")
        count = f"{len(self.qpus)} QPU{'' if len(self.qpus) == 1 else 's'}"
        where = "on the local fleet (offline simulation, not IBM)" if listing.local else "on IBM Quantum"
        self.title = f"{count} {where}, least busy first"
        if ranking is not None:
            self.title = f"{count} {where}, for {circuit_name}: most faithful first"
        when = listing.fetched_at.strftime("%H:%M:%S UTC")
        self.footer = [f"Fetched {when}." + (" Stale: " + listing.stale_reason if listing.stale else "")]
        self.footer.extend(f"Note: {note}" for note in listing.notes if note.startswith("Skipped"))
        if ranking is not None:
            self.footer.append(
                f"{FRONT_MARK}: on the Pareto front (no QPU has both a higher expected fidelity and a "
                f"shorter queue). %qconnect --for picks {ranking.rule}."
            )
            if ranking.pick is not None:
                self.footer.append(f"Pick: {ranking.why()}.")
            self.footer.append(
                "Expected fidelity: the product of (1 - error) of every gate and measurement on the layout, from "
                "the calibration; crosstalk, idle decoherence and leakage are not counted."
            )
        if pick and pick in {q.name for q in self.qpus}:
            self.footer.append(
                f"A bare %qconnect uses {pick}, picked in the sidebar; %qconnect --least-busy ignores the pick."
            )

    def marks(self, name: str) -> str:
        marks = []
        if self.ranking is not None and self.ranking.pick is not None and name == self.ranking.pick.name:
            marks.append("best for the circuit")
        if name == self.least_busy:
            marks.append("least busy")
        if name == self.pick:
            marks.append("picked in the sidebar")
        return "← " + ", ".join(marks) if marks else ""

    def fit_cells(self, name: str) -> list[str]:
        """Expected fidelity and layout (with the front's mark), or the reason the QPU was not scored."""
        fit = self.ranking.fit(name) if self.ranking is not None else None
        if fit is None:
            return ["-", ""]
        if not fit.scored:
            return ["-", fit.reason]
        mark = f" {FRONT_MARK}" if name in self.ranking.front else ""
        return [f"{fit.fidelity:.3f}{mark}", layout_text(fit.layout)]

    def rows(self) -> list[list[Any]]:
        return [
            [
                _DOT.get(q.status, "?"),
                q.name,
                q.status,
                q.qubits,
                q.processor,
                "?" if q.queue is None else q.queue,
                *(self.fit_cells(q.name) if self.ranking is not None else []),
                self.marks(q.name),
            ]
            for q in self.qpus
        ]

    def __str__(self) -> str:
        return "\n".join([self.title, tabulate(self.rows(), headers=self.headers, tablefmt="simple"), *self.footer])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        th = _TH.replace("padding:1px 14px 1px 0", "padding:1px 12px 2px 0")
        head = "".join(f"<th style='{th}'>{html.escape(h)}</th>" for h in self.headers)
        body = []
        for q in self.qpus:
            picked = q.name == self.pick
            cells = [
                status_dot_html(q.status),
                f"<b>{html.escape(q.name)}</b>" if picked else html.escape(q.name),
                html.escape(q.status + (f" ({q.status_reason})" if q.status_reason else "")),
                str(q.qubits),
                html.escape(q.processor),
                "?" if q.queue is None else str(q.queue),
                *(html.escape(cell) for cell in (self.fit_cells(q.name) if self.ranking is not None else [])),
                html.escape(self.marks(q.name)),
            ]
            tds = "".join(
                f"<td style='{_TD}{';text-align:right' if i in (3, 5, 6) else ''}'>{cell}</td>"
                for i, cell in enumerate(cells)
            )
            body.append(f"<tr style='{_ROW}' data-qpu='{html.escape(q.name)}'>{tds}</tr>")
        footer = "".join(f"<div style='{_FACT}'>{html.escape(line)}</div>" for line in self.footer)
        return (
            f"<div class='qcl-report'><b>{html.escape(self.title)}</b>"
            f"<table style='{_TABLE}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"{footer}</div>"
        )


class PlanReport:
    """``%qplan``: the plan and instance as resolved and checked, the modes, the usage."""

    title = "Plan and instance"

    def __init__(self, kind: str, check: PlanCheck, instance: InstanceInfo, usage: Usage | None, settings: Any) -> None:
        self.check, self.instance, self.usage, self.kind = check, instance, usage, kind
        self.settings = settings
        self.actions, self.facts = split_notes((*check.notes, *getattr(settings, "notes", ())), kind == "local")

    @property
    def local(self) -> bool:
        return self.kind == "local"

    def rows(self) -> list[tuple[str, str]]:
        plan = self.check.plan
        rows: list[tuple[str, str]] = [("Provider", "local fleet" if self.local else "IBM Quantum")]
        if self.local:
            rows.append(("Plan", f"{plan_text(plan)} (simulated)"))
        else:
            rows.append(("Plan", plan_text(plan) + (", checked with IBM" if self.check.verified else ", not checked")))
            rows.append(("Instance", self.instance.name or "-"))
            if self.instance.crn and self.instance.crn != self.instance.name:
                rows.append(("CRN", self.instance.crn))
            rows.append(("Channel", self.settings.channel))
        others = [m for m in plan.allowed_modes() if m != plan.default_mode]
        rows.append(("Modes", f"{plan.default_mode} (default)" + (", " + ", ".join(others) if others else "")))
        if self.local:
            rows.append(("Usage", "none: local runs use no quantum time"))
        elif self.usage is None:
            rows.append(("Usage", "not reported by IBM"))
        elif self.usage.limit_seconds is None:
            rows.append(("Usage", f"{_hours(self.usage.consumed_seconds)} used (IBM reports no limit)"))
        else:
            rows.append(("Usage", f"{_hours(self.usage.consumed_seconds)} used of {_hours(self.usage.limit_seconds)}"))
            rows.append(
                (
                    "Remaining",
                    _hours(self.usage.remaining_seconds) + (" (limit reached)" if self.usage.limit_reached else ""),
                )
            )
        shown = getattr(self.settings, "env_file_shown", None)
        rows.append(("Read from", shown or "the environment only (no .env file found)"))
        if getattr(self.settings, "endpoint", None):
            rows.append(("Endpoint", f"{self.settings.endpoint} (not IBM's default)"))
        return rows

    def __str__(self) -> str:
        lines = [f"Note: {n}" for n in self.actions]
        lines.append(tabulate(self.rows(), tablefmt="plain"))
        lines.extend(self.facts)
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        first, last = notes_html(self.actions, self.facts)
        badge = _local_badge() if self.local else ""
        return (
            f"<div class='qcl-report qcl-plan'><div>{badge}<b>{html.escape(self.title)}</b></div>{first}"
            f"{two_column_html(self.rows())}{last}</div>"
        )


def _local_badge() -> str:
    return (
        "<span class='qcl-local' style='padding:0 4px;border:1px solid currentColor;border-radius:3px;"
        "font-size:85%'>LOCAL FLEET</span> "
    )


def local_badge_html() -> str:
    """The "LOCAL FLEET" badge of every report made on the local fleet."""
    return _local_badge()
