"""How often the two bits of example 01's Bell pair agree, on every local fleet member, per optimization level.

Not a timing: the figure behind example 01's stated expectation ("the two bits agree in more than 90% of the
shots"). For each member it transpiles the Bell circuit as the notebook does, at ``optimization_level`` 1 and 2,
prints the QPU qubits chosen and their readout errors, runs it three times (1000 shots, simulator seeds 1-3) with
``executor_sampler.Sampler`` on the local fleet, and prints the lowest and mean share of agreeing shots; then the
fleet's lowest per level.

    python bench/bell_agreement.py [LEVEL ...]        # default: 1 2
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import warnings
from pathlib import Path


def main(levels: list[int]) -> None:
    import os

    state = Path(tempfile.mkdtemp(prefix="qcl-bell-"))  # no job store or pick of the user's is touched
    os.environ.setdefault("QCONNECTOR_JOBS_FILE", str(state / "jobs.json"))
    os.environ.setdefault("QCONNECTOR_PICK_FILE", str(state / "pick.json"))
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime.executor_sampler import Sampler

    from qiskit_connector_lab import connect

    warnings.simplefilter("ignore")  # the local fleet's one-line notes; figures only here
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure_all()
    first = connect(local=True, mode="job")
    names = sorted([first.qpu.name, *(q.name for q in first.others)])
    lowest = dict.fromkeys(levels, 1.0)
    for name in names:
        backend = connect(name, local=True, mode="job").backend
        row = [f"{name:16} {backend.num_qubits:4} qubits"]
        for level in levels:
            isa = generate_preset_pass_manager(optimization_level=level, backend=backend).run(bell)
            qubits = isa.layout.final_index_layout()
            misread = ", ".join(f"{backend.target['measure'][(q,)].error:.1%}" for q in qubits)
            shares = []
            for seed in (1, 2, 3):
                sampler = Sampler(mode=backend)
                sampler.options.simulator.seed_simulator = seed
                counts = sampler.run([isa], shots=1000).result()[0].data.meas.get_counts()
                shares.append((counts.get("00", 0) + counts.get("11", 0)) / 1000)
            lowest[level] = min(lowest[level], *shares)
            row.append(
                f"level {level}: qubits {qubits} (misread {misread}) agree "
                f"min {min(shares):.1%} mean {statistics.mean(shares):.1%}"
            )
        print(" | ".join(row), flush=True)
    for level in levels:
        print(f"fleet's lowest agreement at optimization_level={level}: {lowest[level]:.1%}")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1, 2])
