"""``connect()``: settings → provider → plan → least-busy (or named) QPU → backend (+ session or batch).

The returned :class:`Connection` holds everything a notebook needs and describes exactly the backend it
returns: plan, instance, QPU, qubits, processor, queue, mode, and the other QPUs in queue order.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tabulate import tabulate

from .config import Settings, load_settings
from .errors import ConfigError, ConnectorError, NoBackendAvailable, UnknownBackend
from .plans import InstanceInfo, Plan
from .providers import Provider, provider_for
from .qpus import QPU, Listing
from .ranking import ranked, select

MODES = ("session", "batch", "job")

#: Called with a short phase description while connecting ("Listing QPUs...").
Progress = Callable[[str], None]


@dataclass
class Connection:
    """A ready connection. ``backend`` is the Qiskit backend; ``session`` is a Session/Batch or None."""

    plan: Plan
    instance: InstanceInfo
    backend: Any
    qpu: QPU
    mode: str
    session: Any
    listing: Listing
    provider_kind: str
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    provider: Provider | None = field(default=None, repr=False)
    #: The cache key of the settings used (never the token itself).
    settings_key: str = ""
    #: Whether the QPU is the one picked in the sidebar (set by a bare ``%qconnect``; shown in the summary).
    picked_in_sidebar: bool = False

    @property
    def local(self) -> bool:
        return self.provider_kind == "local"

    @property
    def plan_label(self) -> str:
        return self.plan.label

    @property
    def others(self) -> list[QPU]:
        """The other QPUs, least busy first."""
        return [q for q in ranked(self.listing.qpus) if q.name != self.qpu.name]

    def close(self) -> None:
        """Close the session or batch, if one was opened (jobs already submitted keep running)."""
        if self.session is not None:
            session, self.session = self.session, None
            if self.provider is not None:
                self.provider.close_mode(session)  # bounded; a failure is a one-line ConnectorError
            else:
                session.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- presentation ----------------------------------------------------------------------------------------
    def _how_chosen(self) -> str:
        if self.picked_in_sidebar:
            return "picked in the sidebar"
        try:
            return "least busy" if select(self.listing).name == self.qpu.name else ""
        except ConnectorError:
            return ""

    def summary_rows(self) -> list[tuple[str, str]]:
        """The summary's label/value rows: each fact once, in the words a user reads."""
        from .render.tables import plan_text

        q = self.qpu
        chosen = self._how_chosen()
        processor = ", ".join(
            part
            for part in (
                q.processor if q.processor != "unknown" else "",
                f"{q.qubits} qubits",
                f"version {q.version}" if q.version else "",
            )
            if part
        )
        rows = [
            ("QPU", q.name + (f" ({chosen})" if chosen else "")),
            ("Processor", processor),
            ("Status", q.status + (f": {q.status_reason}" if q.status_reason else "")),
            ("Queue", "? (unknown)" if q.queue is None else f"{q.queue} pending job{'s' if q.queue != 1 else ''}"),
            ("Mode", self.mode),
            ("Plan", plan_text(self.plan) + (" (simulated)" if self.local else "")),
        ]
        if not self.local:
            rows.append(("Instance", self.instance.name or "-"))
        if self.others:
            rows.append(("Others", self._others_text()))
        rows.append(("Fetched", self.listing.fetched_at.strftime("%Y-%m-%d %H:%M:%S UTC")))
        return rows

    def _others_text(self, limit: int = 4) -> str:
        """The next least busy QPUs, with their queues; the rest counted (``%qbackends`` lists them all)."""
        shown = [f"{q.name} ({q.queue_text}{'' if q.operational else ', ' + q.status})" for q in self.others[:limit]]
        more = len(self.others) - limit
        return ", ".join(shown) + (f" and {more} more (%qbackends)" if more > 0 else "")

    def _notes(self) -> tuple[list[str], list[str]]:
        from .render.tables import split_notes

        return split_notes(self.notes, self.local)

    def summary(self) -> str:
        actions, facts = self._notes()
        title = (
            f"[local fleet] Connected to {self.qpu.name}"
            if self.local
            else (f"Connected to {self.qpu.name} on IBM Quantum")
        )
        lines = [title, *(f"Note: {note}" for note in actions), tabulate(self.summary_rows(), tablefmt="plain"), *facts]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Connection {self.qpu.name} plan={self.plan.value} instance={self.instance.name!r} "
            f"mode={self.mode} provider={self.provider_kind}>"
        )

    def __str__(self) -> str:
        return self.summary()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.summary())

    def _repr_html_(self) -> str:
        from .render.tables import local_badge_html, notes_html, two_column_html

        first, last = notes_html(*self._notes())
        badge = local_badge_html() if self.local else ""
        where = "" if self.local else " on IBM Quantum"
        title = f"{badge}<b>Connected to {html.escape(self.qpu.name)}</b>{where}"
        table = two_column_html(self.summary_rows())
        body = f"<div>{title}</div>{first}<div class='qcl-summary'>{table}</div>{last}"
        return f"<div class='qcl-connection'>{body}</div>"


def resolve_mode(plan: Plan, requested: str | None) -> tuple[str, tuple[str, ...]]:
    """The mode to use for ``requested`` on ``plan``, and a note when it had to change."""
    if requested is None:
        return plan.default_mode, ()
    if requested not in MODES:
        raise ConfigError("mode", f"is {requested!r}, not a mode.", "Use session, batch or job.")
    if requested == "session" and not plan.allows_session:
        return "batch", ("The open plan does not allow Sessions (IBM error 1352): using Batch mode instead.",)
    return requested, ()


#: The keyword arguments ``connect()`` passes to :func:`~.config.load_settings` as they are.
CONFIG_ARGUMENTS = ("env_file", "instance", "token", "channel", "plan", "deadline", "listing_ttl")


def connect(
    backend: str | None = None,
    *,
    min_qubits: int | None = None,
    exclude: Sequence[str] = (),
    mode: str | None = None,
    local: bool | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    **config: Any,
) -> Connection:
    """Connect to the least busy operational QPU (or ``backend``), and open a Session on paid plans.

    ``config`` takes the configuration arguments of :func:`~.config.load_settings` (``env_file``, ``instance``,
    ``token``, ``channel``, ``plan``, ``deadline``, ``listing_ttl``); they beat the environment and the ``.env``.
    ``settings`` (already resolved) replaces them all. If the least busy QPU cannot be loaded (IBM no longer
    lists it), the next one is tried within the deadline, and a note says so.

    Raises a :class:`~qiskit_connector_lab.errors.ConnectorError` subclass with a one-line message on any
    failure: bad configuration, IBM unreachable or refusing, no QPU available.
    """
    unknown = sorted(set(config) - set(CONFIG_ARGUMENTS))
    if unknown:
        raise ConfigError(
            unknown[0],
            "is not an argument of connect().",
            f"Use one of: backend, min_qubits, exclude, mode, local, settings, progress, "
            f"{', '.join(CONFIG_ARGUMENTS)}.",
        )
    if min_qubits is not None and (not isinstance(min_qubits, int) or min_qubits < 1):
        raise ConfigError(
            "min_qubits", f"is {min_qubits!r}; it must be a whole number of at least 1.", "Pass e.g. min_qubits=5."
        )
    say = progress or (lambda _phase: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def mark(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[phase] = now - clock
        clock = now

    if settings is None:
        settings = load_settings(local=local, **config)
    provider: Provider = provider_for(settings)
    mark("config")

    say("Listing QPUs on the local fleet..." if provider.kind == "local" else "Connecting to IBM Quantum...")
    listing = provider.listing()
    mark("listing")
    say("Checking the plan...")
    check = provider.check_plan()
    info = provider.instance()
    mark("plan")

    qpu, backend_obj, load_notes = _load_backend(
        provider, listing, backend, min_qubits, exclude, settings.deadline, say
    )
    mark("backend")

    chosen_mode, mode_notes = resolve_mode(check.plan, mode)
    session = None
    if chosen_mode in ("session", "batch"):
        say(f"Opening a {chosen_mode} on {qpu.name}...")
        session = provider.open_mode(backend_obj, chosen_mode)
        mark("mode")
    if not qpu.operational:
        mode_notes += (
            f"{qpu.name} is {qpu.status}{': ' + qpu.status_reason if qpu.status_reason else ''}; jobs wait "
            "until it is back online. Connect without a name for the least busy online QPU.",
        )
    if qpu.queue is None:
        mode_notes += (f"IBM did not report a usable queue length for {qpu.name}: its queue is unknown.",)
    notes = (
        load_notes
        + tuple(check.notes)
        + mode_notes
        + tuple(listing.notes)
        + tuple(settings.notes)
        + _source_notes(settings)
        + tuple(provider.take_notes())
    )
    return Connection(
        plan=check.plan,
        instance=info,
        backend=backend_obj,
        qpu=qpu,
        mode=chosen_mode,
        session=session,
        listing=listing,
        provider_kind=provider.kind,
        notes=notes,
        timings=timings,
        provider=provider,
        settings_key=settings.fingerprint(),
    )


def _source_notes(settings: Settings) -> tuple[str, ...]:
    """Which .env was read and the endpoint, when it is not IBM's default."""
    parts = []
    if settings.env_file_shown:
        parts.append(f"Configuration read from {settings.env_file_shown}")
    if settings.endpoint:
        parts.append(f"endpoint {settings.endpoint} (not IBM's default)")
    if settings.saved_account:  # the sign-in (%qlogin, the sidebar) or another saved qiskit-ibm-runtime account
        parts.append(f"API key from the saved account {settings.saved_account} (~/.qiskit/qiskit-ibm.json)")
    return ("; ".join(parts) + ".",) if parts else ()


def _load_backend(
    provider: Provider,
    listing: Listing,
    name: str | None,
    min_qubits: int | None,
    exclude: Sequence[str],
    deadline: float,
    say: Progress,
) -> tuple[QPU, Any, tuple[str, ...]]:
    """The chosen QPU and its backend object. A QPU chosen by rank that cannot be loaded (IBM no longer lists
    it) gives way to the next one, for as long as the deadline allows; a QPU asked for by name does not."""
    start = time.monotonic()
    skipped: list[str] = []
    while True:
        qpu = select(listing, name, min_qubits=min_qubits, exclude=(*exclude, *skipped))
        say(f"Loading {qpu.name}...")
        try:
            backend_obj = provider.backend(qpu.name)
        except UnknownBackend as error:
            if name is not None or time.monotonic() - start >= deadline:
                raise
            skipped.append(qpu.name)
            try:
                select(listing, None, min_qubits=min_qubits, exclude=(*exclude, *skipped))
            except NoBackendAvailable:
                raise error from None
            continue
        notes = (
            (
                f"{', '.join(skipped)} could not be loaded (IBM no longer lists "
                f"{'it' if len(skipped) == 1 else 'them'}): using {qpu.name} instead.",
            )
            if skipped
            else ()
        )
        return qpu, backend_obj, notes
