"""Choosing a QPU from a listing: the least busy operational one, or the one asked for."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from .errors import NoBackendAvailable, UnknownBackend
from .qpus import QPU, Listing

#: The most names an unknown-name error lists (a 5000-QPU instance must not make a 75 kB message).
HINT_NAMES = 8


def ranked(qpus: Iterable[QPU]) -> list[QPU]:
    """Operational QPUs first, by queue (an unknown queue after every known one), then more qubits, then name:
    a total, deterministic order."""
    return sorted(qpus, key=lambda q: (not q.operational, q.queue is None, q.queue or 0, -q.qubits, q.name))


def least_busy(listing: Listing) -> QPU | None:
    """The least busy online QPU whose queue is known (None if there is none): an unknown queue is never
    "least busy"."""
    known = [q for q in listing.qpus if q.operational and not q.simulator and q.queue is not None]
    return ranked(known)[0] if known else None


def unknown_name_hint(name: str, names: Sequence[str]) -> str:
    """A short hint for a name that is not listed: the local fleet's copy of an IBM QPU (``ibm_fez`` →
    ``fake_fez``), else the closest name, else a capped list."""
    fake = "fake_" + name.removeprefix("ibm_")
    if name.startswith("ibm_") and fake in names:
        return f" Did you mean {fake}?"
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f" Did you mean {close[0]}?"
    if not names:
        return " Listed: none."
    shown = ", ".join(names[:HINT_NAMES])
    more = f" and {len(names) - HINT_NAMES} more" if len(names) > HINT_NAMES else ""
    return f" Listed: {shown}{more}."


def select(
    listing: Listing,
    name: str | None = None,
    *,
    min_qubits: int | None = None,
    exclude: Sequence[str] = (),
) -> QPU:
    """The QPU to use: ``name`` if given (it must be listed), else the least busy operational non-simulator
    QPU with at least ``min_qubits`` qubits that is not in ``exclude``. Ties go to more qubits, then the name.
    """
    if name:
        qpu = listing.by_name(name)
        if qpu is None:
            hint = unknown_name_hint(name, listing.names())
            shown = name if len(name) <= 64 else name[:61] + "..."
            raise UnknownBackend(f"QPU {shown!r} is not in the {'local fleet' if listing.local else 'instance'}.{hint}")
        return qpu
    if not listing.qpus:
        raise NoBackendAvailable(
            "The fleet lists no QPUs at all. "
            + (
                "Check the local fleet settings."
                if listing.local
                else "Check that the instance has QPU access on IBM Quantum Platform."
            )
        )
    candidates = [q for q in listing.qpus if not q.simulator and q.name not in set(exclude)]
    if min_qubits:
        candidates = [q for q in candidates if q.qubits >= min_qubits]
    if not candidates:
        biggest = max((q.qubits for q in listing.qpus), default=0)
        raise NoBackendAvailable(
            f"No QPU has at least {min_qubits} qubits (the largest has {biggest}). Lower --min-qubits."
            if min_qubits and biggest < min_qubits
            else "Every QPU is excluded by the filters. Loosen --exclude / --min-qubits."
        )
    online = [q for q in candidates if q.operational]
    if not online:
        states = ", ".join(f"{q.name} {q.status}" for q in ranked(candidates)[:5])
        raise NoBackendAvailable(f"No QPU is online right now ({states}). Retry later, or name a QPU.")
    return ranked(online)[0]


# --- the best QPU for a circuit: the Pareto front of (expected fidelity, queue) ---------------------------------

#: Expected fidelities this close (absolute) count as a tie, which goes to the shorter queue.
FIDELITY_TOLERANCE = 0.005

RULE = (
    "on the Pareto front of (expected fidelity, queue): the most faithful QPU, a tie within "
    f"{FIDELITY_TOLERANCE} going to the shorter queue"
)


def _queue_key(queue: int | None) -> float:
    return float("inf") if queue is None else float(queue)


def pareto_front(scores: Sequence[tuple[str, float, int | None]]) -> set[str]:
    """The names no other entry beats on both expected fidelity (higher) and queue (shorter; unknown is longest),
    from ``(name, fidelity, queue)`` entries."""
    front = set()
    for name, fidelity, queue in scores:
        beaten = any(
            other_f >= fidelity
            and _queue_key(other_q) <= _queue_key(queue)
            and (other_f > fidelity or _queue_key(other_q) < _queue_key(queue))
            for other, other_f, other_q in scores
            if other != name
        )
        if not beaten:
            front.add(name)
    return front


def pick_for_fidelity(
    scores: Sequence[tuple[str, float, int | None]],
    *,
    max_queue: int | None = None,
    least_busy: bool = False,
    tolerance: float = FIDELITY_TOLERANCE,
) -> str | None:
    """The pick among ``(name, fidelity, queue)`` entries (QPUs that can run the circuit), or None.

    ``max_queue`` first drops every queue longer than it (and unknown queues); ``least_busy`` takes the shortest
    known queue (ties: the more faithful); otherwise the most faithful QPU of the front, and among the front's
    QPUs within ``tolerance`` of it, the shortest queue (then the more faithful, then the name).
    """
    if max_queue is not None:
        scores = [s for s in scores if s[2] is not None and s[2] <= max_queue]
    if not scores:
        return None
    if least_busy:
        known = [s for s in scores if s[2] is not None] or list(scores)
        return min(known, key=lambda s: (_queue_key(s[2]), -s[1], s[0]))[0]
    front = pareto_front(scores)
    on_front = [s for s in scores if s[0] in front]
    best = max(s[1] for s in on_front)
    near = [s for s in on_front if s[1] >= best - tolerance]
    return min(near, key=lambda s: (_queue_key(s[2]), -s[1], s[0]))[0]
