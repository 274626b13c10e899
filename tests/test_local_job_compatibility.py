"""A local-fleet job and an IBM job (the real client against the emulator) answer the same RuntimeJobV2 calls
with the same types and values (tests/job_contract.py)."""

from __future__ import annotations

import pytest
from job_contract import assert_same_shape, check_done_bell_job, job_snapshot
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import SamplerV2
from test_emulator import emu, isolated_env, make_service  # noqa: F401 - fixtures

from qiskit_connector_lab.config import load_settings
from qiskit_connector_lab.providers.local_fleet import LocalFleet
from qiskit_connector_lab.providers.local_jobs import LocalJob

pytestmark = pytest.mark.filterwarnings("ignore:The SamplerV2 class is deprecated:DeprecationWarning")


def bell(backend) -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return generate_preset_pass_manager(backend=backend, optimization_level=1, seed_transpiler=1).run(qc)


def test_a_local_job_and_an_ibm_job_answer_alike(emu, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("QCONNECTOR_JOBS_FILE", str(tmp_path / "jobs.json"))
    local_backend = LocalFleet(load_settings(environ={}, local=True), members=("fez",)).backend("fake_fez")
    local_job = SamplerV2(mode=local_backend).run([bell(local_backend)], shots=1000)
    assert isinstance(local_job, LocalJob)
    local = job_snapshot(local_job)
    check_done_bell_job(local, shots=1000)

    service = make_service(emu, "premium-instance")
    ibm_backend = service.backend("ibm_fez")
    ibm_job = SamplerV2(mode=ibm_backend).run([bell(ibm_backend)], shots=1000)
    ibm = job_snapshot(ibm_job)
    check_done_bell_job(ibm, shots=1000)

    assert_same_shape(local, ibm)
