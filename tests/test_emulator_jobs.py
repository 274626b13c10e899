"""The emulator's jobs API, driven by the REAL qiskit-ibm-runtime client (nothing mocked).

Pins what the client (0.51) sends and needs: submit from SamplerV2/EstimatorV2 and from the executor primitives
(``executor_sampler.Sampler``, ``executor_estimator.Estimator``: the ``executor`` program) in job, Batch and
Session mode, ``service.jobs()`` paging on ``count``, one job, results decoded by the client, cancel (204, then
409), metrics, logs, tags, delete, and faults on the new routes.
"""

from __future__ import annotations

import pytest
import requests
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import Batch, EstimatorV2, QiskitRuntimeService, SamplerV2, Session
from qiskit_ibm_runtime.exceptions import IBMNotAuthorizedError, RuntimeInvalidStateError
from qiskit_ibm_runtime.executor_estimator import Estimator as ExecutorEstimator
from qiskit_ibm_runtime.executor_sampler import Sampler as ExecutorSampler
from test_emulator import _raw_headers, emu, isolated_env, make_service  # noqa: F401 - fixtures

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

QPU = "ibm_fez"


def bell(backend) -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return generate_preset_pass_manager(backend=backend, optimization_level=1).run(qc)


@pytest.fixture
def service(emu) -> QiskitRuntimeService:  # noqa: F811
    return make_service(emu, "premium-instance")


def test_sampler_job_goes_queued_running_done_with_bell_counts(emu, service):  # noqa: F811
    emu.hold_jobs = True
    backend = service.backend(QPU)
    job = SamplerV2(mode=backend).run([bell(backend)], shots=1000)
    assert job.status() == "QUEUED"
    assert service.jobs(pending=True)[0].job_id() == job.job_id()
    emu.release_jobs()
    counts = job.result()[0].data.meas.get_counts()
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 1000
    assert job.status() == "DONE"
    assert service.jobs(pending=True) == [] and service.jobs(pending=False)[0].job_id() == job.job_id()
    assert job.usage() >= 0 and job.metrics()["timestamps"]["finished"]
    assert job.job_id() in job.logs()
    assert emu.job_errors == []


def test_estimator_in_batch_and_session_modes(emu, service):  # noqa: F811
    emu.job_queue_seconds = emu.job_run_seconds = 0.0
    backend = service.backend(QPU)
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(qc)
    terms = SparsePauliOp(["ZZ", "XX", "ZI"])
    observables = [terms[i].apply_layout(isa.layout) for i in range(3)]
    with Batch(backend=backend) as batch:
        job = EstimatorV2(mode=batch).run([(isa, observables)])
        evs = job.result()[0].data.evs
    assert list(map(round, evs)) == [1, 1, 0]
    assert job.session_id == emu.sessions[-1]["id"]
    with Session(backend=backend) as session:
        sampled = SamplerV2(mode=session).run([bell(backend)], shots=100)
        assert set(sampled.result()[0].data.meas.get_counts()) == {"00", "11"}
    assert [j.job_id() for j in service.jobs(session_id=session.session_id)] == [sampled.job_id()]


def test_executor_sampler_runs_the_executor_program_and_counts_come_back(emu, service):  # noqa: F811
    emu.hold_jobs = True
    backend = service.backend(QPU)
    flip = QuantumCircuit(3)
    flip.x(0)
    flip.x(2)
    flip.measure_all()
    flipped = generate_preset_pass_manager(backend=backend, optimization_level=1).run(flip)
    job = ExecutorSampler(mode=backend).run([bell(backend), flipped], shots=1000)
    assert job.status() == "QUEUED" and emu.jobs[-1]["program"]["id"] == "executor"
    emu.release_jobs()
    bell_counts, flip_counts = (pub.data.meas.get_counts() for pub in job.result())
    assert set(bell_counts) == {"00", "11"} and sum(bell_counts.values()) == 1000
    assert 350 < bell_counts["00"] < 650  # sampled, not one outcome
    assert flip_counts == {"101": 1000}
    assert job.status() == "DONE" and emu.job_errors == []


def test_executor_sampler_twirled_in_a_batch(emu, service):  # noqa: F811
    emu.job_queue_seconds = emu.job_run_seconds = 0.0
    backend = service.backend(QPU)
    with Batch(backend=backend) as batch:
        sampler = ExecutorSampler(mode=batch)
        sampler.options.twirling.enable_gates = sampler.options.twirling.enable_measure = True  # samplex items
        job = sampler.run([bell(backend)], shots=1000)
        counts = job.result()[0].data.meas.get_counts()
    assert set(counts) == {"00", "11"} and sum(counts.values()) >= 1000
    assert job.session_id == emu.sessions[-1]["id"] and emu.job_errors == []


def test_executor_estimator_in_a_session(emu, service):  # noqa: F811
    emu.job_queue_seconds = emu.job_run_seconds = 0.0
    backend = service.backend("ibm_perth")  # it measures every qubit of the chip: 7 here, 156 on ibm_fez (~15 s)
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(qc)
    observables = [SparsePauliOp(p).apply_layout(isa.layout) for p in ("ZZ", "XX", "ZI")]
    with Session(backend=backend) as session:
        job = ExecutorEstimator(mode=session).run([(isa, observables)])
        evs = job.result()[0].data.evs
    assert abs(evs[0] - 1) < 0.05 and abs(evs[1] - 1) < 0.05 and abs(evs[2]) < 0.1
    assert emu.jobs[-1]["program"]["id"] == "executor" and emu.job_errors == []


def test_listing_filters_paging_and_count(emu, service):  # noqa: F811
    emu.hold_jobs = True
    backend = service.backend(QPU)
    other = service.backend("ibm_perth")
    circuit = bell(backend)
    ids = [SamplerV2(mode=backend).run([circuit], shots=10).job_id() for _ in range(3)]
    tagged = SamplerV2(mode=other, options={"environment": {"job_tags": ["lab", "x"]}}).run([bell(other)], shots=10)
    emu.reset_log()
    listed = service.jobs(limit=2, skip=1)
    assert [j.job_id() for j in listed] == [ids[2], ids[1]]  # newest first, after skipping the newest
    assert emu.count("GET", "/api/v1/jobs") == 1  # a page that reaches the limit is one request
    assert [j.job_id() for j in service.jobs(limit=None)] == [tagged.job_id(), *reversed(ids)]  # pages on count
    assert [j.job_id() for j in service.jobs(backend_name="ibm_perth")] == [tagged.job_id()]
    assert [j.job_id() for j in service.jobs(job_tags=["lab"])] == [tagged.job_id()]
    assert service.jobs(job_tags=["lab", "nope"]) == []
    # the raw page: `count` is the total number of matches, not the page's length (the client pages on it)
    page = requests.get(
        emu.base_url + "/api/v1/jobs", params={"limit": 1, "pending": "true"}, headers=_raw_headers(emu), timeout=5
    ).json()
    assert (len(page["jobs"]), page["count"], page["jobs"][0]["state"]["status"]) == (1, 4, "Queued")


def test_cancel_a_queued_job_then_409(emu, service):  # noqa: F811
    emu.hold_jobs = True
    backend = service.backend(QPU)
    job = SamplerV2(mode=backend).run([bell(backend)], shots=10)
    job.cancel()
    assert service.job(job.job_id()).status() == "CANCELLED"
    with pytest.raises(RuntimeInvalidStateError):
        job.cancel()
    assert emu.count("POST", f"/api/v1/jobs/{job.job_id()}/cancel", status=409) == 1


def test_tags_delete_and_other_instances_do_not_see_a_job(emu, service):  # noqa: F811
    emu.hold_jobs = True
    backend = service.backend(QPU)
    job = SamplerV2(mode=backend).run([bell(backend)], shots=10)
    job.update_tags(["renamed"])
    assert service.job(job.job_id()).tags == ["renamed"]
    assert make_service(emu, "paygo-instance").jobs() == []
    service.delete_job(job.job_id())
    assert service.jobs() == []


@pytest.mark.parametrize("fault", [401, 500, "malformed"])
def test_faults_on_the_jobs_routes(emu, service, fault):  # noqa: F811
    emu.inject(fault, "/api/v1/jobs", method="GET", times=None)
    with pytest.raises(Exception) as caught:
        service.jobs()
    if fault == 401:
        assert isinstance(caught.value, IBMNotAuthorizedError)
    assert emu.count("GET", "/api/v1/jobs") >= 1
    emu.clear_faults()
    assert service.jobs() == []


def test_a_stall_on_one_job_is_a_fault_too(emu, service):  # noqa: F811
    emu.hold_jobs = True
    backend = service.backend(QPU)
    job = SamplerV2(mode=backend).run([bell(backend)], shots=10)
    row = emu.inject("stall", f"/api/v1/jobs/{job.job_id()}", seconds=0.2)
    assert job.status() == "QUEUED" and row.hits == 1
