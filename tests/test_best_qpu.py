"""The best QPU for a circuit, in the core: the scorer, its edge cases, the calibration cache and the rule."""

from __future__ import annotations

import numpy as np
import pytest
from best_qpu_support import close, fleet_settings, ghz, product_of_fidelities, qft
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from qiskit_connector_lab.circuit_fit import rank_for_circuit
from qiskit_connector_lab.circuit_fit.calibration import CalibrationCache
from qiskit_connector_lab.circuit_fit.rank import forget_prepared
from qiskit_connector_lab.errors import ConfigError, NoBackendAvailable
from qiskit_connector_lab.ranking import FIDELITY_TOLERANCE, pareto_front, pick_for_fidelity


@pytest.fixture
def small(tmp_path, clean_env):
    forget_prepared()
    return fleet_settings(tmp_path, {"fake_prague": 3, "fake_kolkata": 3, "fake_manila": 3})


def check_exact(ranking, circuit):
    """Every scored QPU: the pass manager lands the circuit on the reported layout, and the expected fidelity is the
    product of (1 - error) over the circuit it produces, computed instruction by instruction."""
    scored = [f for f in ranking.fits if f.scored]
    assert scored
    for fit in scored:
        target = ranking.calibrations[fit.name].target
        out = ranking.pass_manager(fit.name).run(circuit)
        assert out.layout.initial_index_layout(filter_ancillas=True) == list(fit.layout)
        assert len(set(fit.layout)) == circuit.num_qubits
        assert close(fit.fidelity, product_of_fidelities(out, target)), fit.name
        for inst in out.data:  # every instruction is one the QPU has on those qubits
            if inst.operation.name != "barrier":
                assert target.instruction_supported(
                    inst.operation.name, tuple(out.find_bit(q).index for q in inst.qubits)
                )
    return scored


def test_ranks_by_expected_fidelity_and_reports_an_exact_figure(small):
    ranking = rank_for_circuit(qft(4), settings=small)
    scored = check_exact(ranking, qft(4))
    fidelities = [f.fidelity for f in scored]
    assert fidelities == sorted(fidelities, reverse=True)
    assert ranking.pick.name == scored[0].name  # equal queues: the most faithful
    assert 0 < scored[-1].fidelity < scored[0].fidelity < 1
    assert all(f.scored_layouts >= 1 for f in scored)


def test_the_chosen_layout_is_the_best_of_all_placements(small):
    """On a 5-qubit chain the placements can be enumerated by hand: none beats the reported one."""
    import itertools

    ranking = rank_for_circuit(ghz(3), settings=small)
    fit = ranking.fit("fake_manila")
    target = ranking.calibrations["fake_manila"].target
    out = ranking.pass_manager("fake_manila").run(ghz(3))
    routed_edges = {
        tuple(out.find_bit(q).index for q in inst.qubits) for inst in out.data if inst.operation.num_qubits == 2
    }
    best = 0.0
    used = sorted({q for e in routed_edges for q in e})
    for perm in itertools.permutations(range(5), len(used)):
        rename = dict(zip(used, perm, strict=True))
        if all(target.instruction_supported("cx", (rename[a], rename[b])) for a, b in routed_edges):
            moved = out.copy_empty_like()
            for inst in out.data:
                qubits = [moved.qubits[rename.get(out.find_bit(q).index, out.find_bit(q).index)] for q in inst.qubits]
                if inst.operation.name == "barrier":
                    continue
                moved.append(inst.operation, qubits, inst.clbits)
            best = max(best, product_of_fidelities(moved, target))
    assert fit.fidelity == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize(
    "case",
    ["no two-qubit gate", "partial measurement", "mid-circuit measurement", "barrier and delay", "reset", "parameters"],
)
def test_edge_cases_are_scored_exactly(small, case):
    theta = Parameter("theta")
    qc = QuantumCircuit(3, 3)
    if case == "no two-qubit gate":
        qc.h([0, 1, 2])
        qc.measure([0, 1, 2], [0, 1, 2])
    elif case == "partial measurement":
        qc.h(0)
        qc.cx(0, 1)
        qc.cx(1, 2)
        qc.measure(1, 1)
    elif case == "mid-circuit measurement":
        qc.h(0)
        qc.measure(0, 0)
        qc.cx(0, 1)
        qc.measure([0, 1], [1, 2])
    elif case == "barrier and delay":
        qc.h(0)
        qc.barrier()
        qc.delay(64, 1)
        qc.cx(0, 2)
        qc.measure_all(add_bits=False)
    elif case == "reset":
        qc.reset(0)
        qc.h(0)
        qc.cx(0, 1)
        qc.measure([0, 1], [0, 1])
    else:
        qc.rx(theta, 0)
        qc.cx(0, 1)
        qc.ry(0.3, 2)
        qc.measure_all(add_bits=False)
    ranking = rank_for_circuit(qc, settings=small)
    check_exact(ranking, qc)
    if case == "parameters":
        bound = qc.assign_parameters({theta: 0.7})
        check_exact(rank_for_circuit(bound, settings=small), bound)


def test_no_two_qubit_gates_take_the_best_readout_qubits(small):
    qc = QuantumCircuit(2)
    qc.measure_all()
    ranking = rank_for_circuit(qc, settings=small)
    fit = ranking.fit("fake_kolkata")
    readout = np.exp(ranking.calibrations["fake_kolkata"].readout)
    assert sorted(readout[list(fit.layout)]) == pytest.approx(sorted(readout)[-2:])


def test_refusals_carry_a_reason_and_never_raise_for_one_qpu(small):
    ranking = rank_for_circuit(ghz(7), settings=small)
    manila = ranking.fit("fake_manila")
    assert not manila.scored and manila.reason == "needs 7 qubits; it has 5"
    assert ranking.pick.name in ("fake_prague", "fake_kolkata")

    flow = QuantumCircuit(2, 1)
    flow.h(0)
    flow.measure(0, 0)
    with flow.if_test((flow.clbits[0], 1)):
        flow.x(1)
    with pytest.raises(NoBackendAvailable, match=r"No QPU can run circuit \(fake_.*control flow \(if_else\)"):
        rank_for_circuit(flow, settings=small)

    with pytest.raises(NoBackendAvailable, match="needs 40 qubits; it has"):
        rank_for_circuit(ghz(40), settings=small)
    with pytest.raises(ConfigError, match="circuit: is a str, not a QuantumCircuit"):
        rank_for_circuit("qc", settings=small)


def test_a_list_of_circuits_is_scored_by_its_worst(small):
    ranking = rank_for_circuit([ghz(3), qft(4)], settings=small)
    fit = ranking.pick
    alone = [rank_for_circuit(c, settings=small).fit(fit.name).fidelity for c in (ghz(3), qft(4))]
    assert fit.fidelity == pytest.approx(min(alone))
    assert len(fit.layouts) == 2 and len(fit.layouts[0]) == 3 and len(fit.layouts[1]) == 4


class Loader:
    def __init__(self, backend, date="2026-01-01"):
        self.backend, self.date, self.calls = backend, date, 0

    def __call__(self, name):
        self.calls += 1
        date = self.date

        class Dated:  # the same calibration under another date, as after IBM recalibrated
            target = self.backend.target

            def properties(self):
                return type("P", (), {"last_update_date": date})()

        return Dated()


def test_the_calibration_cache_rebuilds_only_for_a_new_calibration_date():
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    now = [0.0]
    cache = CalibrationCache(recheck=60, clock=lambda: now[0])
    load = Loader(FakeManilaV2())
    first = cache.get("m", load)
    assert (load.calls, cache.builds) == (1, 1)
    now[0] = 30
    assert cache.get("m", load) is first and load.calls == 1  # within the recheck interval: no request
    now[0] = 100
    assert cache.get("m", load) is first and (load.calls, cache.builds) == (2, 1)  # same date: arrays kept
    load.date = "2026-01-02"
    now[0] = 200
    assert cache.get("m", load) is not first and (load.calls, cache.builds) == (3, 2)


def test_pareto_front_and_the_pick():
    scores = [("a", 0.80, 50), ("b", 0.798, 5), ("c", 0.70, 1), ("d", 0.60, 5), ("e", 0.75, None)]
    assert pareto_front(scores) == {"a", "b", "c"}  # d is beaten by b; e by a (unknown queue is longest)
    assert FIDELITY_TOLERANCE == 0.005
    assert pick_for_fidelity(scores) == "b"  # within the tolerance of a: the shorter queue
    assert pick_for_fidelity(scores, tolerance=0.001) == "a"
    assert pick_for_fidelity(scores, max_queue=4) == "c"
    assert pick_for_fidelity(scores, max_queue=0) is None
    assert pick_for_fidelity(scores, least_busy=True) == "c"
    assert pick_for_fidelity([("x", 0.5, 3), ("y", 0.9, 3)]) == "y"
    assert pick_for_fidelity([("x", 0.9, 3), ("y", 0.9, 3)]) == "x"  # an exact tie: the name
