"""A circuit transpiled once for a basis family, deflated to the qubits it uses, as counts ready for scoring.

One transpile per family (basis gates and largest coupler degree, see :mod:`.calibration`): on the family's
smallest QPU that holds the circuit, at optimisation level 3 with a fixed seed. The routed circuit's couplers then
form a small directed graph that VF2 places on every QPU of the family (:mod:`.layouts`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Directives and idles that are not scored (barriers, and delays: idling errors are not modelled).
UNSCORED = frozenset({"barrier", "delay"})
CONTROL_FLOW = frozenset({"if_else", "while_loop", "for_loop", "switch_case", "box"})

#: The transpiler's seed: the same circuit is routed the same way every time (so the pass manager reproduces it).
SEED = 1234
OPTIMIZATION_LEVEL = 3


class Refused(Exception):
    """This circuit cannot be scored on this QPU; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Prepared:
    """The routed circuit of one family, as counts per used qubit and per used coupler."""

    routed: Any = field(repr=False)  # the transpiled circuit on the representative QPU
    anchor: str = ""  # the representative QPU it was routed on
    #: representative physical qubit of each deflated qubit (the qubits the routed circuit uses, in order).
    active: tuple[int, ...] = ()
    #: gate name → count per deflated qubit (1-qubit gates).
    one_qubit: dict[str, np.ndarray] = field(default_factory=dict)
    measures: np.ndarray = field(default_factory=lambda: np.zeros(0))
    resets: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: (deflated control, deflated target, gate name) → count.
    two_qubit: dict[tuple[int, int, str], int] = field(default_factory=dict)
    #: the circuit's virtual qubit i starts on representative physical qubit ``start[i]``.
    start: tuple[int, ...] = ()

    @property
    def size(self) -> int:
        return len(self.active)

    @property
    def two_qubit_gates(self) -> int:
        return sum(self.two_qubit.values())

    def edges(self) -> list[tuple[int, int]]:
        return sorted({(a, b) for a, b, _ in self.two_qubit})


def check_circuit(circuit: Any) -> None:
    """Refuse what cannot be scored at all (the same for every QPU)."""
    names = set(circuit.count_ops())
    flow = sorted(names & CONTROL_FLOW)
    if flow:
        raise Refused(f"control flow ({', '.join(flow)}) is not scored; score the circuit without it")


def fingerprint(circuit: Any) -> tuple[Any, ...]:
    """A structural key of a circuit (operations, their qubits, clbits and parameters)."""
    items: list[Any] = [circuit.num_qubits, circuit.num_clbits, str(circuit.global_phase)]
    for inst in circuit.data:
        items.append(
            (
                inst.operation.name,
                tuple(circuit.find_bit(q).index for q in inst.qubits),
                tuple(circuit.find_bit(c).index for c in inst.clbits),
                tuple(str(p) for p in getattr(inst.operation, "params", ())),
            )
        )
    return tuple(items)


def pass_manager_for(target: Any, initial_layout: list[int] | None = None) -> Any:
    from qiskit.transpiler import generate_preset_pass_manager

    return generate_preset_pass_manager(
        optimization_level=OPTIMIZATION_LEVEL, target=target, seed_transpiler=SEED, initial_layout=initial_layout
    )


def prepare(circuit: Any, anchor: str, target: Any) -> Prepared:
    """Transpile ``circuit`` for ``target`` (the family's representative) and count what it does where."""
    routed = pass_manager_for(target).run(circuit)
    return deflate(routed, anchor)


def deflate(routed: Any, anchor: str = "") -> Prepared:
    """The counts of a routed circuit on the qubits it uses."""
    used: set[int] = set()
    for inst in routed.data:
        if inst.operation.name not in UNSCORED:
            used.update(routed.find_bit(q).index for q in inst.qubits)
    active = tuple(sorted(used))
    index = {p: d for d, p in enumerate(active)}
    size = len(active)
    one: dict[str, np.ndarray] = {}
    measures = np.zeros(size)
    resets = np.zeros(size)
    two: Counter[tuple[int, int, str]] = Counter()
    for inst in routed.data:
        name = inst.operation.name
        if name in UNSCORED:
            continue
        qubits = [index[routed.find_bit(q).index] for q in inst.qubits]
        if name == "measure":
            measures[qubits[0]] += 1
        elif name == "reset":
            resets[qubits[0]] += 1
        elif len(qubits) == 1:
            one.setdefault(name, np.zeros(size))[qubits[0]] += 1
        elif len(qubits) == 2:
            two[(qubits[0], qubits[1], name)] += 1
        else:
            raise Refused(f"a {len(qubits)}-qubit {name} remained after transpiling")
    layout = routed.layout
    start = tuple(layout.initial_index_layout(filter_ancillas=True)) if layout is not None else tuple(range(size))
    return Prepared(
        routed=routed,
        anchor=anchor,
        active=active,
        one_qubit=one,
        measures=measures,
        resets=resets,
        two_qubit=dict(two),
        start=start,
    )
