"""The local fleet simulates only the qubits a circuit touches, and gives what the whole chip's simulation gives.

The reference is the full-chip ``AerSimulator.from_backend(FakeX())`` of the same transpiled circuit; it is slow on
a 127-qubit chip, so it runs once per chip for the whole module (module-scoped fixtures).
"""

from __future__ import annotations

import warnings

import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_connector_lab.config import load_settings
from qiskit_connector_lab.providers import local_simulator
from qiskit_connector_lab.providers.local_fleet import LocalFleet
from qiskit_connector_lab.providers.local_simulator import (
    LocalSimulationNote,
    SimulationTooLarge,
    active_qubits,
    is_clifford,
    plan_simulation,
)

SHOTS = 20_000
TVD_LIMIT = 0.03
CHIPS = ("fake_manila", "fake_brisbane")  # 5 and 127 qubits


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2, name="bell")
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return qc


def ghz3() -> QuantumCircuit:
    qc = QuantumCircuit(3, name="ghz3")
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.measure_all()
    return qc


def tvd(a: dict[str, int], b: dict[str, int]) -> float:
    na, nb = sum(a.values()), sum(b.values())
    return 0.5 * sum(abs(a.get(k, 0) / na - b.get(k, 0) / nb) for k in set(a) | set(b))


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("QCONNECTOR_JOBS_FILE", str(tmp_path_factory.mktemp("jobs") / "jobs.json"))
    yield LocalFleet(load_settings(environ={}, local=True), members=("manila", "brisbane", "fez"))
    mp.undo()


@pytest.fixture(scope="module")
def reference(fleet):
    """Per chip: the transpiled circuits and the full-chip simulation's counts (the slow part, once)."""
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime import fake_provider

    out = {}
    for name in CHIPS:
        backend = fleet.backend(name)
        pm = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=7)
        circuits = [pm.run(bell()), pm.run(ghz3())]
        raw = next(
            v for v in vars(fake_provider).values() if isinstance(v, type) and getattr(v, "backend_name", None) == name
        )()
        full = AerSimulator.from_backend(raw)  # the whole chip's noise model
        result = full.run(circuits, shots=SHOTS, seed_simulator=11).result()
        out[name] = (circuits, [result.get_counts(i) for i in range(len(circuits))])
    return out


@pytest.mark.parametrize("chip", CHIPS)
def test_reduced_simulation_matches_the_full_chip(fleet, reference, chip):
    from qiskit_ibm_runtime.executor_sampler import Sampler

    circuits, full_counts = reference[chip]
    backend = fleet.backend(chip)
    sampler = Sampler(mode=backend)
    sampler.options.simulator.seed_simulator = 23
    job = sampler.run(circuits, shots=SHOTS)
    result = job.result()
    for circuit, pub, full in zip(circuits, result, full_counts, strict=True):
        counts = pub.join_data().get_counts()
        assert len(next(iter(counts))) == circuit.num_clbits  # the circuit's own classical bits
        distance = tvd(counts, full)
        print(f"{chip} {circuit.name}: TVD {distance:.4f} over {SHOTS} shots")  # shown with pytest -s
        assert distance < TVD_LIMIT, (chip, circuit.name, distance)
    assert job.simulation["active_qubits"] == 3 and job.simulation["approximation"] is None
    assert result.metadata["local_fleet"]["noise"].startswith("exact")


@pytest.mark.parametrize("chip", CHIPS)
def test_estimator_zz_on_a_bell_pair_agrees_with_the_full_chip(fleet, reference, chip):
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_ibm_runtime import EstimatorV2

    circuits, full_counts = reference[chip]
    full = full_counts[0]
    full_zz = sum((1 if k.count("1") % 2 == 0 else -1) * v for k, v in full.items()) / sum(full.values())
    backend = fleet.backend(chip)
    unmeasured = circuits[0].remove_final_measurements(inplace=False)
    observable = SparsePauliOp("ZZ").apply_layout(unmeasured.layout)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The EstimatorV2 class is deprecated", DeprecationWarning)
        estimator = EstimatorV2(mode=backend, options={"simulator": {"seed_simulator": 5}})
    job = estimator.run([(unmeasured, observable)], precision=0.005)
    value = float(job.result()[0].data.evs)
    print(f"{chip}: <ZZ> local {value:.4f}, full chip {full_zz:.4f}")
    assert abs(value - full_zz) < 0.02
    assert job.simulation["active_qubits"] == 2 and job.simulation["approximation"] is None


def test_a_run_touches_only_the_active_qubits_and_caches_their_noise(fleet, reference):
    circuits, _ = reference["fake_brisbane"]
    backend = fleet.backend("fake_brisbane")
    assert circuits[0].num_qubits == 127 and len(active_qubits(circuits[:1])) == 2
    local_simulator.NOISE_MODELS.clear()
    first = backend.run(circuits[0], shots=100, seed_simulator=1).result()
    second = backend.run(circuits[0], shots=100, seed_simulator=1).result()
    info = local_simulator.NOISE_MODELS.info()
    assert info["misses"] == 1 and info["hits"] == 1 and 0 < info["bytes"] < 2**20
    assert first.get_counts() == second.get_counts()  # seed_simulator is honoured
    from qiskit_ibm_runtime import SamplerV2
    from qiskit_ibm_runtime.executor_sampler import Sampler

    # The runtime's local mode deep-copies the backend with its options for every V2 job: still the same chip, and
    # the same cached model; so for the executor's path.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The SamplerV2 class is deprecated", DeprecationWarning)
        SamplerV2(mode=backend).run(circuits[:1], shots=100).result()
    Sampler(mode=backend).run(circuits[:1], shots=100).result()
    assert local_simulator.NOISE_MODELS.info()["misses"] == 1
    model = local_simulator.NOISE_MODELS.get(backend, active_qubits(circuits[:1]))
    assert set(model.noise_qubits) == set(active_qubits(circuits[:1]))  # those qubits and their coupler only
    # The chip itself is unchanged: transpiling sees the whole target, coupling map and calibration.
    assert backend.num_qubits == 127 and backend.configuration().n_qubits == 127
    assert backend.properties().t1(0) > 0 and len(list(backend.coupling_map.get_edges())) > 100


def test_the_cache_is_bounded(fleet):
    backend = fleet.backend("fake_manila")
    cache = local_simulator.NoiseModelCache(max_entries=2)
    for qubits in ((0,), (1,), (2,), (0, 1)):
        cache.get(backend, qubits)
    assert cache.info()["entries"] == 2
    small = local_simulator.NoiseModelCache(max_entries=10, max_bytes=1)
    small.get(backend, (0,))
    small.get(backend, (1,))
    assert small.info()["entries"] == 1  # over the byte bound: only the newest stays


def test_method_choice_and_fail_fast(monkeypatch):
    monkeypatch.setenv("QCONNECTOR_LOCAL_MAX_STATEVECTOR_QUBITS", "4")
    assert plan_simulation((0, 1, 2), clifford=False).approximation is None
    stabilizer = plan_simulation(tuple(range(10)), clifford=True)
    assert stabilizer.method == "stabilizer" and "Pauli channel" in stabilizer.approximation
    mps = plan_simulation(tuple(range(10)), clifford=False)
    assert mps.method == "matrix_product_state" and "bond dimension" in mps.approximation
    monkeypatch.setattr(local_simulator, "_physical_memory", lambda: 2**10)  # a 1 kB machine
    with pytest.raises(SimulationTooLarge) as caught:
        plan_simulation(tuple(range(10)), clifford=False)
    assert "statevector limit of 4" in str(caught.value) and "\n" not in str(caught.value)
    monkeypatch.setenv("QCONNECTOR_LOCAL_MAX_STATEVECTOR_QUBITS", "many")
    with pytest.raises(ValueError, match="QCONNECTOR_LOCAL_MAX_STATEVECTOR_QUBITS"):
        plan_simulation((0,), clifford=True)


def test_clifford_detection():
    assert is_clifford([bell(), ghz3()])
    qc = QuantumCircuit(1)
    qc.rz(0.3, 0)
    assert not is_clifford([qc])
    qc = QuantumCircuit(1)
    qc.rz(3.141592653589793 / 2, 0)
    assert is_clifford([qc])


def test_a_big_clifford_job_runs_on_the_stabilizer_method_and_says_so(fleet, monkeypatch):
    """A 12-qubit GHZ with the statevector limit lowered to 8: stabilizer, Pauli noise, named approximation."""
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_ibm_runtime import EstimatorV2

    monkeypatch.setenv("QCONNECTOR_LOCAL_MAX_STATEVECTOR_QUBITS", "8")
    backend = fleet.backend("fake_brisbane")
    n = 12
    qc = QuantumCircuit(n)
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    isa = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=3).run(qc)
    observables = [
        SparsePauliOp("I" * (n - 1 - i) + "Z" + "I" * (i - 1) + "Z").apply_layout(isa.layout) for i in range(1, n)
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        job = EstimatorV2(mode=backend).run([(isa, observables)])
    notes = [str(w.message) for w in caught if issubclass(w.category, LocalSimulationNote)]
    assert len(notes) == 1 and "stabilizer" in notes[0] and "\n" not in notes[0]
    result = job.result()
    assert result.metadata["local_fleet"]["method"] == "stabilizer"
    assert result.metadata["local_fleet"]["noise"] == "approximated"
    evs = result[0].data.evs
    assert all(0.5 < value <= 1.0 for value in evs)  # a GHZ state, noisy


def test_pauli_twirl_keeps_the_pauli_diagonal():
    from qiskit.quantum_info import PTM
    from qiskit_aer.noise import amplitude_damping_error, depolarizing_error

    error = amplitude_damping_error(0.1).compose(depolarizing_error(0.02, 1))
    twirled = local_simulator.pauli_twirl(error)
    original, pauli = PTM(error.to_quantumchannel()).data, PTM(twirled.to_quantumchannel()).data
    for i in range(4):
        assert abs(original[i, i] - pauli[i, i]) < 1e-9
    import numpy as np

    assert np.allclose(pauli, np.diag(np.diag(pauli)), atol=1e-9)  # a Pauli channel: its PTM is diagonal


def test_the_fleet_says_when_it_approximates(fleet, monkeypatch):
    monkeypatch.setenv("QCONNECTOR_LOCAL_MAX_STATEVECTOR_QUBITS", "20")
    notes = " ".join(LocalFleet(load_settings(environ={}, local=True), members=("manila",)).listing().notes)
    assert "beyond 20 active qubits the noise is approximated" in notes
