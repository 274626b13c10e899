"""A pass manager that lands a circuit on the layout it was scored on.

The scorer routes a circuit once per basis family, on the family's representative QPU, then places the routed
circuit on the chosen QPU's best qubits. :class:`FittedPassManager` repeats exactly that: the same seeded
transpile on the representative, then the routed circuit's qubits renamed to the chosen QPU's (a placement VF2
found, so every 2-qubit gate lands on a coupler the chosen QPU has). A circuit that was not scored (or whose
routing differs) is transpiled for the chosen QPU with the layout as its initial layout instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .prepared import Prepared, fingerprint, pass_manager_for


@dataclass
class Fitted:
    """One scored circuit: its routed form, and where each of its used qubits goes on the chosen QPU."""

    key: tuple[Any, ...] = field(repr=False)
    prepared: Prepared = field(repr=False)
    placement: tuple[int, ...] = ()  # chosen physical qubit per deflated qubit
    layout: tuple[int, ...] = ()  # chosen physical qubit per circuit qubit
    anchor_target: Any = field(default=None, repr=False)  # the target it was routed for


class FittedPassManager:
    """``run(circuit)`` or ``run([circuits])``, like a Qiskit ``PassManager``: ISA circuits for the chosen QPU."""

    def __init__(self, target: Any, fitted: Sequence[Fitted]) -> None:
        self.target = target
        self._fitted = {item.key: item for item in fitted}
        self._anchor_pms: dict[int, Any] = {}
        self._fallbacks: dict[tuple[int, ...], Any] = {}
        self._first = fitted[0] if fitted else None

    @property
    def layout(self) -> tuple[int, ...]:
        return self._first.layout if self._first else ()

    def run(self, circuits: Any, output_name: str | None = None, **_: Any) -> Any:
        if isinstance(circuits, (list, tuple)):
            return [self._run_one(c, output_name) for c in circuits]
        return self._run_one(circuits, output_name)

    def _run_one(self, circuit: Any, output_name: str | None) -> Any:
        item = self._fitted.get(fingerprint(circuit))
        if item is not None:
            anchor_pm = self._anchor_pms.get(id(item.anchor_target))
            if anchor_pm is None:
                anchor_pm = self._anchor_pms[id(item.anchor_target)] = pass_manager_for(item.anchor_target)
            routed = anchor_pm.run(circuit)
            placed = self._relabel(routed, item)
            if placed is not None:
                if output_name:
                    placed.name = output_name
                return placed
        layout = item.layout if item is not None else self.layout
        use = list(layout) if layout and len(layout) == circuit.num_qubits else None
        key = tuple(use or ())
        if key not in self._fallbacks:
            self._fallbacks[key] = pass_manager_for(self.target, use)
        return self._fallbacks[key].run(circuit, output_name=output_name)

    def _relabel(self, routed: Any, item: Fitted) -> Any | None:
        """``routed`` with the representative's qubits renamed to the chosen QPU's; None if it does not fit."""
        size = int(self.target.num_qubits)
        mapping = {anchor: item.placement[d] for d, anchor in enumerate(item.prepared.active)}
        used_now = {
            routed.find_bit(q).index
            for inst in routed.data
            if inst.operation.name not in ("barrier", "delay")
            for q in inst.qubits
        }
        if not used_now <= set(mapping):
            return None
        free = iter(p for p in range(size) if p not in set(mapping.values()))
        for anchor in range(routed.num_qubits):  # the representative's other qubits, while there is room
            if anchor not in mapping:
                spare = next(free, None)
                if spare is None:
                    break
                mapping[anchor] = spare
        out = _renamed_circuit(routed, mapping, size, self.target)
        if out is None:
            return None
        if routed.layout is not None:
            out._layout = _renamed_layout(routed, out, mapping, size)
        return out


def _renamed_layout(routed: Any, out: Any, mapping: dict[int, int], size: int) -> Any:
    """The routed circuit's layout, with the representative's qubits renamed to the chosen QPU's."""
    from qiskit.circuit import AncillaRegister
    from qiskit.transpiler import Layout, TranspileLayout

    old = routed.layout
    inputs = {v: i for v, i in old.input_qubit_mapping.items() if i < old._input_qubit_count}
    virtual = {v: mapping[old.initial_layout[v]] for v in inputs if old.initial_layout[v] in mapping}
    taken = set(virtual.values())
    rest = [p for p in range(size) if p not in taken]
    if rest:
        ancillas = AncillaRegister(len(rest), "ancilla")
        virtual.update(dict(zip(ancillas, rest, strict=True)))
        inputs.update({bit: old._input_qubit_count + k for k, bit in enumerate(ancillas)})
    initial = Layout(virtual)
    final = None
    if old.final_layout is not None:  # where routing left each qubit, renamed the same way
        perm = list(range(size))
        for qubit, position in old.final_layout.get_virtual_bits().items():
            source = routed.find_bit(qubit).index
            if source in mapping and position in mapping:
                perm[mapping[source]] = mapping[position]
        final = Layout({out.qubits[i]: perm[i] for i in range(size)})
    return TranspileLayout(
        initial_layout=initial,
        input_qubit_mapping=inputs,
        final_layout=final,
        _input_qubit_count=old._input_qubit_count,
        _output_qubit_list=list(out.qubits),
    )


def _renamed_circuit(routed: Any, mapping: dict[int, int], size: int, target: Any) -> Any | None:
    """``routed`` on the chosen QPU's qubits (None if an instruction falls off the mapping or the couplers)."""
    from qiskit.circuit import QuantumCircuit, QuantumRegister

    out = QuantumCircuit(QuantumRegister(size, "q"), name=routed.name, global_phase=routed.global_phase)
    for creg in routed.cregs:
        out.add_register(creg)
    loose = [c for c in routed.clbits if not routed.find_bit(c).registers]
    if loose:
        out.add_bits(loose)
    out.metadata = dict(routed.metadata or {})
    for inst in routed.data:
        indices = [routed.find_bit(q).index for q in inst.qubits]
        if inst.operation.name == "barrier":
            kept = [out.qubits[mapping[i]] for i in indices if i in mapping]
            if kept:
                out.barrier(*kept)
            continue
        if any(i not in mapping for i in indices):
            if inst.operation.name == "delay":
                continue
            return None
        qubits = tuple(out.qubits[mapping[i]] for i in indices)
        if len(qubits) == 2 and not target.instruction_supported(
            inst.operation.name, tuple(mapping[i] for i in indices)
        ):
            return None
        out._append(inst.replace(qubits=qubits))
    return out
