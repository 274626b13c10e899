"""Shared by the best-QPU tests: a small local fleet pinned by a fleet file, circuits, and an independent scorer."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from qiskit import QuantumCircuit
from qiskit.synthesis import synth_qft_full

from qiskit_connector_lab.config import load_settings

SMALL_FLEET = ("prague", "kolkata", "manila")


def fleet_settings(tmp_path: Path, queues: dict[str, int], members: tuple[str, ...] = SMALL_FLEET) -> Any:
    """Settings for a local fleet of ``members``, every one online with the given queue (0 if not given)."""
    path = tmp_path / "fleet.json"
    write_fleet(path, queues, members)
    return load_settings(
        environ={"QCONNECTOR_FLEET": ",".join(members), "QCONNECTOR_FLEET_FILE": str(path)}, local=True
    )


def write_fleet(path: Path, queues: dict[str, int], members: tuple[str, ...] = SMALL_FLEET) -> None:
    data = {f"fake_{m}": {"status": "online", "queue": int(queues.get(f"fake_{m}", 0))} for m in members}
    path.write_text(json.dumps(data))


def ghz(n: int) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    qc.measure_all()
    return qc


def qft(n: int) -> QuantumCircuit:
    qc = synth_qft_full(n)
    qc.measure_all()
    return qc


def product_of_fidelities(circuit: QuantumCircuit, target: Any) -> float:
    """The expected fidelity of an ISA circuit, one instruction at a time (independent of the NumPy scorer)."""
    fidelity = 1.0
    for inst in circuit.data:
        name = inst.operation.name
        if name in ("barrier", "delay"):
            continue
        qargs = tuple(circuit.find_bit(q).index for q in inst.qubits)
        if name == "reset" and target["reset"][qargs].error is None:
            error = target["measure"][qargs].error
        else:
            props = target[name][qargs]
            error = None if props is None else props.error
        fidelity *= 1 - (error or 0.0)
    return fidelity


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
