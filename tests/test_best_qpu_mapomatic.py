"""Quality against mapomatic on the same work: the chosen (QPU, layout), scored by mapomatic's own
``evaluate_layouts`` on the circuit our pass manager produces, costs no more than mapomatic's
``best_overall_layout`` over the same QPUs (0.005 absolute for routing noise)."""

from __future__ import annotations

import random

import pytest
from best_qpu_support import fleet_settings, ghz, qft
from qiskit import QuantumCircuit

from qiskit_connector_lab.circuit_fit import rank_for_circuit
from qiskit_connector_lab.circuit_fit.prepared import pass_manager_for

mm = pytest.importorskip("mapomatic")

TOLERANCE = 0.005


def random_circuit(n: int = 4, depth: int = 10, seed: int = 5) -> QuantumCircuit:
    rng = random.Random(seed)
    qc = QuantumCircuit(n)
    for _ in range(depth):
        for q in range(n):
            qc.rx(rng.uniform(0, 3), q)
        a, b = rng.sample(range(n), 2)
        qc.cx(a, b)
    qc.measure_all()
    return qc


def mapomatic_cost(ranking, circuit) -> float:
    """mapomatic's best over the same QPUs: per basis family (mapomatic needs one gate set per circuit), the
    circuit transpiled on the family's largest QPU, deflated, and ``best_overall_layout`` over the family."""
    families: dict = {}
    for cal in ranking.calibrations.values():
        families.setdefault(cal.basis, []).append(cal)
    best = 1.0
    for members in families.values():
        anchor = max(members, key=lambda c: (c.num_qubits, c.name))
        small = mm.deflate_circuit(pass_manager_for(anchor.target).run(circuit))
        found = mm.best_overall_layout(small, [c.backend for c in members])
        if found:
            best = min(best, found[2])
    return best


def our_cost(ranking, circuit) -> float:
    fit = ranking.fits[0]  # the most faithful
    out = ranking.pass_manager(fit.name).run(circuit)
    active = sorted(
        {
            out.find_bit(q).index
            for inst in out.data
            if inst.operation.name not in ("barrier", "delay")
            for q in inst.qubits
        }
    )
    return mm.evaluate_layouts(mm.deflate_circuit(out), [active], ranking.calibrations[fit.name].backend)[0][1]


@pytest.mark.parametrize("name", ["ghz5", "qft6", "random4x10"])
def test_no_worse_than_mapomatic(tmp_path, clean_env, name):
    circuit = {"ghz5": ghz(5), "qft6": qft(6), "random4x10": random_circuit()}[name]
    settings = fleet_settings(tmp_path, {}, members=("prague", "kolkata", "manila"))
    ranking = rank_for_circuit(circuit, settings=settings)
    ours = our_cost(ranking, circuit)
    theirs = mapomatic_cost(ranking, circuit)
    assert ours == pytest.approx(1 - ranking.fits[0].fidelity, abs=1e-9)  # our figure is mapomatic's figure
    assert ours <= theirs + TOLERANCE, (name, ours, theirs)
