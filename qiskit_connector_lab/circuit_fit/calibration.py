"""A QPU's calibration as NumPy arrays of log-fidelities, cached per QPU and calibration date.

What is read, from the backend's ``target`` (built by the client from the QPU's configuration and properties):

* every basis gate's error on every qubit or directed coupler (``target[gate][qargs].error``);
* the readout error (``target["measure"][(q,)].error``), which also prices a ``reset`` when the target gives a reset
  no error of its own (a reset on IBM hardware is a measurement and a conditional X).

A gate that is not defined on a qubit or coupler has fidelity 0 there (the layout is impossible); an error the
calibration leaves out counts as 0 (a perfect gate: ``rz`` is virtual, so its error is 0 anyway).

On IBM a calibration costs one ``configuration`` request (cached by the client for the process) and one
``properties`` request, through the provider's bounded calls; it is then kept for :data:`RECHECK_SECONDS`, after
which one ``properties`` request tells whether the QPU was calibrated again (the arrays are rebuilt only then).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import rustworkx as rx

#: How long a QPU's calibration is trusted before one properties request checks for a newer one (IBM calibrates
#: its QPUs about once a day, and refreshes some figures hourly).
RECHECK_SECONDS = 900.0

#: Operations that are not gates on qubits: never scored, never part of the basis family.
NOT_GATES = frozenset(
    {"measure", "reset", "delay", "barrier", "if_else", "while_loop", "for_loop", "switch_case", "box"}
)


@dataclass
class Calibration:
    """One QPU's calibration, ready for vectorised scoring."""

    name: str
    date: str
    num_qubits: int
    backend: Any = field(repr=False)
    target: Any = field(repr=False)
    #: gate name → log(1 − error) per physical qubit (−inf where the gate is not defined).
    one_qubit: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    #: gate name → (P, P) log(1 − error) per directed coupler (−inf where there is none).
    two_qubit: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    #: log(1 − readout error) per physical qubit.
    readout: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    #: log(1 − reset error) per physical qubit (the readout error where the target gives none).
    reset: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    #: the directed coupling graph (an edge per coupler a 2-qubit gate is defined on).
    graph: Any = field(repr=False, default=None)
    #: physical qubits, best first (readout, 1-qubit and mean coupler fidelity), and the coupling graph relabelled
    #: in that order: VF2 then meets the good placements first.
    order: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.intp))
    ordered_graph: Any = field(repr=False, default=None)
    #: (basis gates, largest coupler degree): QPUs of one family share one transpiled circuit.
    family: tuple[tuple[str, ...], int] = ((), 0)
    checked: float = 0.0

    @property
    def basis(self) -> tuple[str, ...]:
        return self.family[0]


def _log_fidelity(error: float | None) -> float:
    if error is None:
        return 0.0
    error = float(error)
    if not np.isfinite(error) or error >= 1.0:
        return -np.inf
    return float(np.log1p(-max(error, 0.0)))


def calibration_date(backend: Any) -> str:
    """The properties' last update, as text ("" when the backend has none)."""
    try:
        properties = backend.properties()
    except Exception:  # noqa: BLE001 - a backend without properties has no date; the version stands in
        properties = None
    date = getattr(properties, "last_update_date", None)
    return "" if date is None else str(date)


def from_backend(name: str, backend: Any) -> Calibration:
    """Build the arrays from ``backend.target`` (its calibration must already be loaded)."""
    target = backend.target
    size = int(target.num_qubits or 0)
    one: dict[str, np.ndarray] = {}
    two: dict[str, np.ndarray] = {}
    readout = np.zeros(size)
    reset = np.full(size, np.nan)
    graph = rx.PyDiGraph(multigraph=False)
    graph.add_nodes_from(range(size))
    edges: set[tuple[int, int]] = set()
    for op_name in target.operation_names:
        if op_name in NOT_GATES - {"measure", "reset"}:
            continue
        try:
            gate_map = target[op_name]
        except KeyError:  # pragma: no cover - listed, so present
            continue
        for qargs, props in gate_map.items():
            if qargs is None:  # a global (ideal) operation: defined everywhere, error 0
                continue
            error = None if props is None else props.error
            if op_name == "measure":
                readout[qargs[0]] = _log_fidelity(error)
            elif op_name == "reset":
                if error is not None:
                    reset[qargs[0]] = _log_fidelity(error)
            elif len(qargs) == 1:
                one.setdefault(op_name, np.full(size, -np.inf))[qargs[0]] = _log_fidelity(error)
            elif len(qargs) == 2:
                two.setdefault(op_name, np.full((size, size), -np.inf))[qargs[0], qargs[1]] = _log_fidelity(error)
                edges.add((qargs[0], qargs[1]))
    graph.add_edges_from_no_data(sorted(edges))
    reset = np.where(np.isnan(reset), readout, reset)
    undirected = graph.to_undirected(multigraph=False)
    degree = max((undirected.degree(n) for n in undirected.node_indexes()), default=0)
    gates = tuple(sorted(set(one) | set(two)))
    order = quality_order(size, one, two, readout, sorted(edges))
    rank = np.empty(size, dtype=np.intp)
    rank[order] = np.arange(size)
    ordered_graph = rx.PyDiGraph(multigraph=False)
    ordered_graph.add_nodes_from(range(size))
    ordered_graph.add_edges_from_no_data([(int(rank[a]), int(rank[b])) for a, b in sorted(edges)])
    return Calibration(
        name=name,
        date=calibration_date(backend),
        num_qubits=size,
        backend=backend,
        target=target,
        one_qubit=one,
        two_qubit=two,
        readout=readout,
        reset=reset,
        graph=graph,
        order=order,
        ordered_graph=ordered_graph,
        family=(gates, degree),
    )


def quality_order(
    size: int,
    one: dict[str, np.ndarray],
    two: dict[str, np.ndarray],
    readout: np.ndarray,
    edges: list[tuple[int, int]],
) -> np.ndarray:
    """Physical qubits from the most to the least faithful (a search order only: scores are exact)."""
    quality = readout.copy()
    for logs in one.values():
        quality += np.where(np.isfinite(logs), logs, -50.0)
    coupler = np.zeros(size)
    count = np.zeros(size)
    for a, b in edges:
        best = max(float(logs[a, b]) for logs in two.values())
        best = best if np.isfinite(best) else -50.0
        coupler[[a, b]] += best
        count[[a, b]] += 1
    quality += np.where(count > 0, coupler / np.maximum(count, 1), -50.0)
    return np.argsort(-quality, kind="stable").astype(np.intp)


#: Loads a QPU's backend with its calibration read (bounded by the caller's provider).
Loader = Callable[[str], Any]


class CalibrationCache:
    """Calibrations by QPU name; one is rebuilt only when its calibration date changes.

    A calibration older than ``recheck`` seconds is checked again with one load (one properties request on IBM);
    the same date keeps the arrays already built.
    """

    def __init__(self, recheck: float = RECHECK_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.recheck = recheck
        self._clock = clock
        self._items: dict[str, Calibration] = {}
        self._lock = threading.Lock()
        #: How many times a QPU's calibration was loaded (for tests and benchmarks).
        self.loads = 0
        self.builds = 0

    def get(self, name: str, load: Loader) -> Calibration:
        with self._lock:
            known = self._items.get(name)
        now = self._clock()
        if known is not None and now - known.checked <= self.recheck:
            return known
        backend = load(name)
        self.loads += 1
        date = calibration_date(backend)
        if known is not None and date and date == known.date:
            known.checked = now
            return known
        fresh = from_backend(name, backend)
        self.builds += 1
        fresh.checked = now
        with self._lock:
            self._items[name] = fresh
        return fresh

    def peek(self, name: str) -> Calibration | None:
        with self._lock:
            return self._items.get(name)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
