"""Rank a fleet's QPUs for a circuit: each QPU's best layout and expected fidelity, next to its queue.

What the expected fidelity counts: the error of every gate (1- and 2-qubit), every measurement (mid-circuit ones
included) and every reset of the circuit as routed for the QPU, on the physical qubits of the layout, from the QPU's
calibration. What it ignores: crosstalk, decoherence (T1/T2) while qubits idle or wait for others, leakage,
drift since the calibration, and the classical processing of the result. It is a ranking figure, not a
prediction of a measured fidelity.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, ConnectorError, NoBackendAvailable
from ..qpus import QPU, Listing
from ..ranking import FIDELITY_TOLERANCE, RULE, least_busy, pareto_front, pick_for_fidelity
from .calibration import Calibration, CalibrationCache
from .layouts import Scored, best_placement
from .pass_manager import Fitted, FittedPassManager
from .prepared import Prepared, Refused, check_circuit, fingerprint, prepare

#: The most transpiled circuits kept (per process) for circuits ranked again.
PREPARED_CACHE = 64


@dataclass(frozen=True)
class Fit:
    """One QPU's answer for the circuit(s): its best layout and expected fidelity, or why it was not scored."""

    qpu: QPU
    fidelity: float | None = None
    #: physical qubits in the order of the circuit's qubits (one tuple per circuit when a list was ranked)
    layouts: tuple[tuple[int, ...], ...] = ()
    #: the physical couplers the routed circuit uses (for the chip art)
    couplers: tuple[tuple[int, int], ...] = ()
    reason: str = ""
    scored_layouts: int = 0
    complete: bool = True
    anchor: str = ""
    fitted: tuple[Fitted, ...] = field(default=(), repr=False, compare=False)

    @property
    def scored(self) -> bool:
        return self.fidelity is not None

    @property
    def layout(self) -> tuple[int, ...]:
        return self.layouts[0] if self.layouts else ()

    @property
    def name(self) -> str:
        return self.qpu.name


@dataclass
class Ranking:
    """Every QPU of the listing, the most faithful first (the unscored after, with their reason), and the pick."""

    fits: list[Fit]
    pick: Fit | None
    front: frozenset[str]
    least_busy: Fit | None
    rule: str = RULE
    tolerance: float = FIDELITY_TOLERANCE
    max_queue: int | None = None
    forced_least_busy: bool = False
    circuits: int = 1
    calibrations: dict[str, Calibration] = field(default_factory=dict, repr=False)

    def fit(self, name: str) -> Fit | None:
        return next((f for f in self.fits if f.name == name), None)

    def why(self, chosen: str | None = None) -> str:
        """One sentence: the chosen QPU's expected fidelity and queue, and the least busy QPU's."""
        fit = self.fit(chosen) if chosen else self.pick
        if fit is None:
            return ""
        text = f"{fit.name}: expected fidelity {_f(fit.fidelity)}, queue {fit.qpu.queue_text}"
        other = self.least_busy
        if other is not None and other.name != fit.name:
            text += f"; least busy {other.name}: expected fidelity {_f(other.fidelity)}, queue {other.qpu.queue_text}"
        elif other is not None:
            text += " (also the least busy)"
        return text

    def pass_manager(self, name: str | None = None) -> FittedPassManager | None:
        fit = self.fit(name) if name else self.pick
        if fit is None or not fit.scored:
            return None
        return FittedPassManager(self.calibrations[fit.name].target, fit.fitted)

    def as_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "name": f.name,
                "fidelity": f.fidelity,
                "layout": list(f.layout),
                "queue": f.qpu.queue,
                "front": f.name in self.front,
                "pick": self.pick is not None and f.name == self.pick.name,
                "reason": f.reason,
            }
            for f in self.fits
        ]


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def as_circuits(value: Any, variable: str = "circuit") -> list[Any]:
    """The circuit(s) to rank: a ``QuantumCircuit`` or a non-empty list of them (ConfigError otherwise)."""
    from qiskit.circuit import QuantumCircuit

    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items or not all(isinstance(item, QuantumCircuit) for item in items):
        kind = type(value).__name__
        raise ConfigError(variable, f"is a {kind}, not a QuantumCircuit or a list of them.", "Pass a QuantumCircuit.")
    return items


# -- caches --------------------------------------------------------------------------------------------------
_calibrations: weakref.WeakKeyDictionary[Any, CalibrationCache] = weakref.WeakKeyDictionary()
_prepared: OrderedDict[tuple[Any, ...], Prepared] = OrderedDict()
_lock = threading.Lock()


def calibrations_for(owner: Any) -> CalibrationCache:
    """The calibration cache of a provider (one per provider, so one per configuration)."""
    with _lock:
        cache = _calibrations.get(owner)
        if cache is None:
            cache = _calibrations[owner] = CalibrationCache()
        return cache


def _prepared_for(circuit: Any, key: tuple[Any, ...], anchor: Calibration) -> Prepared:
    cache_key = (key, anchor.name, anchor.date)
    with _lock:
        known = _prepared.get(cache_key)
        if known is not None:
            _prepared.move_to_end(cache_key)
            return known
    made = prepare(circuit, anchor.name, anchor.target)
    with _lock:
        _prepared[cache_key] = made
        while len(_prepared) > PREPARED_CACHE:
            _prepared.popitem(last=False)
    return made


def forget_prepared() -> None:
    with _lock:
        _prepared.clear()


def provider_loader(provider: Any) -> Callable[[str], Any]:
    """Load a QPU's backend with its calibration, through the provider's bounded calls."""
    from ..providers.bounded import call_with_deadline

    def load(name: str) -> Any:
        backend = provider.backend(name)  # bounded; on IBM one configuration request, then the client's cache
        if provider.kind == "local":
            backend.target  # noqa: B018 - built from the snapshot, no request
            return backend
        token = provider.settings.token
        call_with_deadline(  # on IBM: one properties request
            lambda: (backend.target, backend.properties()),
            what=f"reading the calibration of {name}",
            seconds=provider.settings.deadline,
            secrets=(token,) if token is not None else (),
        )
        return backend

    return load


# -- scoring -------------------------------------------------------------------------------------------------
def score(
    circuits: Sequence[Any],
    qpus: Sequence[QPU],
    load: Callable[[str], Any],
    cache: CalibrationCache,
) -> tuple[list[Fit], dict[str, Calibration]]:
    """Each QPU's fit for the circuits. A QPU that cannot run them gets a reason; nothing here raises for one QPU."""
    widest = max(c.num_qubits for c in circuits)
    try:
        for circuit in circuits:
            check_circuit(circuit)
        general = ""
    except Refused as refused:
        general = refused.reason
    fits: dict[str, Fit] = {}
    calibrations: dict[str, Calibration] = {}
    for qpu in qpus:
        if general:
            fits[qpu.name] = Fit(qpu, reason=general)
        elif qpu.simulator:
            fits[qpu.name] = Fit(qpu, reason="a simulator: not scored")
        elif not qpu.operational:
            fits[qpu.name] = Fit(qpu, reason=f"{qpu.status}: not scored")
        elif qpu.qubits and qpu.qubits < widest:
            fits[qpu.name] = Fit(qpu, reason=f"needs {widest} qubits; it has {qpu.qubits}")
        else:
            try:
                calibrations[qpu.name] = cache.get(qpu.name, load)
            except ConnectorError as error:
                fits[qpu.name] = Fit(qpu, reason=f"calibration not read: {error}")
            except Exception as error:  # noqa: BLE001 - bad calibration data from IBM: this QPU only
                fits[qpu.name] = Fit(qpu, reason=f"calibration not usable ({type(error).__name__})")
    by_family: dict[tuple[Any, ...], list[Calibration]] = {}
    for cal in calibrations.values():
        by_family.setdefault(cal.family, []).append(cal)
    keys = [fingerprint(c) for c in circuits]
    anchors = []
    for members in by_family.values():
        members.sort(key=lambda c: (-c.num_qubits, c.name))
        anchors.append(members[0])
    for members in by_family.values():
        for cal in members:
            qpu = next(q for q in qpus if q.name == cal.name)
            # Its family's routed circuit first, then those of the other families with the same gates (a circuit
            # routed on a heavy-hex chip may sit better on a square lattice than one routed there).
            own = members[0]
            others = [a for a in anchors if a is not own and a.basis == cal.basis]
            fits[cal.name] = _fit_one(qpu, cal, [own, *others], circuits, keys)
    ordered = [fits[q.name] for q in qpus]
    return ordered, calibrations


def _fit_one(qpu: QPU, cal: Calibration, anchors: list[Calibration], circuits: Sequence[Any], keys: list[Any]) -> Fit:
    fidelities: list[float] = []
    layouts: list[tuple[int, ...]] = []
    couplers: set[tuple[int, int]] = set()
    fitted: list[Fitted] = []
    total = 0
    complete = True
    used_anchor = anchors[0]
    try:
        for circuit, key in zip(circuits, keys, strict=True):
            prepared, best, used_anchor = _best(circuit, key, cal, anchors)
            layout = _circuit_layout(prepared, best, cal)
            fidelities.append(best.fidelity)
            layouts.append(layout)
            couplers.update((best.placement[a], best.placement[b]) for a, b in prepared.edges())
            fitted.append(
                Fitted(
                    key=key,
                    prepared=prepared,
                    placement=best.placement,
                    layout=layout,
                    anchor_target=used_anchor.target,
                )
            )
            total += best.layouts
            complete = complete and best.complete
    except Refused as refused:
        return Fit(qpu, reason=refused.reason)
    except Exception as error:  # noqa: BLE001 - never a crash for one QPU: say which and why
        return Fit(qpu, reason=f"could not be scored ({type(error).__name__})")
    return Fit(
        qpu,
        fidelity=min(fidelities),
        layouts=tuple(layouts),
        couplers=tuple(sorted(couplers)),
        scored_layouts=total,
        complete=complete,
        anchor=used_anchor.name,
        fitted=tuple(fitted),
    )


def _best(circuit: Any, key: Any, cal: Calibration, anchors: list[Calibration]) -> tuple[Prepared, Scored, Calibration]:
    """The best placement on ``cal`` of the circuit as routed on each anchor (the family's first), skipping a routed
    circuit whose couplers meet more often than ``cal``'s do; routed on ``cal`` itself when none fits there."""
    found: tuple[Prepared, Scored, Calibration] | None = None
    for anchor in anchors:
        if anchor.num_qubits < circuit.num_qubits:
            continue
        prepared = _prepared_for(circuit, key, anchor)
        if anchor is not anchors[0] and _degree(prepared) > cal.family[1]:
            continue
        try:
            scored = best_placement(prepared, cal)
        except Refused:
            continue
        if found is None or scored.fidelity > found[1].fidelity:
            found = (prepared, scored, anchor)
    if found is not None:
        return found
    own = _prepared_for(circuit, key, cal)
    return own, best_placement(own, cal), cal


def _degree(prepared: Prepared) -> int:
    """The most couplers one qubit of the routed circuit uses."""
    count: dict[int, set[int]] = {}
    for a, b in prepared.edges():
        count.setdefault(a, set()).add(b)
        count.setdefault(b, set()).add(a)
    return max((len(v) for v in count.values()), default=0)


def _circuit_layout(prepared: Prepared, best: Scored, cal: Calibration) -> tuple[int, ...]:
    """Physical qubit of each circuit qubit: where its starting qubit was placed (idle ones: the best free)."""
    index = {anchor: d for d, anchor in enumerate(prepared.active)}
    out: list[int | None] = [best.placement[index[p]] if p in index else None for p in prepared.start]
    taken = {p for p in out if p is not None}
    spare = iter(sorted((p for p in range(cal.num_qubits) if p not in taken), key=lambda p: -cal.readout[p]))
    return tuple(p if p is not None else next(spare) for p in out)


# -- the public function ---------------------------------------------------------------------------------------
def rank(
    circuits: Sequence[Any],
    listing: Listing,
    load: Callable[[str], Any],
    cache: CalibrationCache,
    *,
    max_queue: int | None = None,
    least_busy_wins: bool = False,
    exclude: Sequence[str] = (),
    min_qubits: int | None = None,
) -> Ranking:
    qpus = [q for q in listing.qpus if q.name not in set(exclude) and (not min_qubits or q.qubits >= min_qubits)]
    fits, calibrations = score(circuits, qpus, load, cache)
    scored = [(f.name, float(f.fidelity), f.qpu.queue) for f in fits if f.fidelity is not None]
    front = frozenset(pareto_front(scored))
    choice = pick_for_fidelity(scored, max_queue=max_queue, least_busy=least_busy_wins)
    fits.sort(key=lambda f: (f.fidelity is None, -(f.fidelity or 0.0), f.qpu.queue is None, f.qpu.queue or 0, f.name))
    by_name = {f.name: f for f in fits}
    quiet = least_busy(listing)
    busy_fit = by_name.get(quiet.name) if quiet is not None else None
    return Ranking(
        fits=fits,
        pick=by_name.get(choice) if choice else None,
        front=front,
        least_busy=busy_fit,
        max_queue=max_queue,
        forced_least_busy=least_busy_wins,
        circuits=len(circuits),
        calibrations=calibrations,
    )


def no_pick_message(ranking: Ranking, variable: str = "circuit") -> str:
    """Why nothing was picked, in one line naming the variable and the fix."""
    scored = [f for f in ranking.fits if f.scored]
    if scored and ranking.max_queue is not None:
        shortest = min((f.qpu.queue for f in scored if f.qpu.queue is not None), default=None)
        return (
            f"No QPU that can run {variable} has a queue of at most {ranking.max_queue} "
            f"(the shortest is {shortest if shortest is not None else 'unknown'}). Raise --max-queue."
        )
    reasons = "; ".join(f"{f.name}: {f.reason}" for f in ranking.fits[:3] if f.reason)
    more = f" and {len(ranking.fits) - 3} more" if len(ranking.fits) > 3 else ""
    sizes = [f.qpu.qubits for f in ranking.fits if f.reason.startswith("needs ")]
    if ranking.fits and len(sizes) == len(ranking.fits):
        fix = f"Use a circuit of at most {max(sizes)} qubits (the largest QPU's)."
    elif any("control flow" in f.reason for f in ranking.fits):
        fix = "Rank the circuit without its control flow."
    else:
        fix = "Use a smaller circuit, or wait for a QPU to come back online."
    return f"No QPU can run {variable} ({reasons}{more}). {fix}"


def rank_for_circuit(
    circuit: Any,
    *,
    max_queue: int | None = None,
    least_busy: bool = False,
    exclude: Sequence[str] = (),
    min_qubits: int | None = None,
    local: bool | None = None,
    settings: Any = None,
    **config: Any,
) -> Ranking:
    """Rank the fleet's QPUs for ``circuit`` (a ``QuantumCircuit`` or a list of them).

    Returns a :class:`Ranking`: every QPU with its best layout and expected fidelity (or the reason it was not
    scored), the Pareto front of (expected fidelity, queue), and the pick by the rule
    (:data:`~qiskit_connector_lab.ranking.RULE`). ``config`` takes the arguments of ``connect()``'s configuration
    (``env_file``, ``instance``, ``token``, ...). Raises a one-line ``ConnectorError`` when no QPU can run it.
    """
    from ..config import load_settings
    from ..providers import provider_for

    circuits = as_circuits(circuit)
    if settings is None:
        settings = load_settings(local=local, **config)
    provider = provider_for(settings)
    ranking = rank(
        circuits,
        provider.listing(),
        provider_loader(provider),
        calibrations_for(provider),
        max_queue=max_queue,
        least_busy_wins=least_busy,
        exclude=exclude,
        min_qubits=min_qubits,
    )
    if ranking.pick is None:
        raise NoBackendAvailable(no_pick_message(ranking))
    return ranking
