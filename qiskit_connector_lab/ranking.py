"""Choosing a QPU from a listing: the least busy operational one, or the one asked for."""

from __future__ import annotations

import difflib
from typing import Iterable, Sequence

from .errors import NoBackendAvailable, UnknownBackend
from .qpus import QPU, Listing


def ranked(qpus: Iterable[QPU]) -> list[QPU]:
    """Operational QPUs first, by queue, then more qubits, then name: a total, deterministic order."""
    return sorted(qpus, key=lambda q: (not q.operational, q.queue, -q.qubits, q.name))


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
            close = difflib.get_close_matches(name, listing.names(), n=1)
            hint = f" Did you mean {close[0]}?" if close else f" Listed: {', '.join(listing.names()) or 'none'}."
            raise UnknownBackend(f"QPU {name!r} is not in the {'local fleet' if listing.local else 'instance'}.{hint}")
        return qpu
    if not listing.qpus:
        raise NoBackendAvailable(
            "The fleet lists no QPUs at all. "
            + ("Check the local fleet settings." if listing.local else "Check that the instance has QPU access on IBM Quantum Platform.")
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
