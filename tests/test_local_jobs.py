"""Local-fleet jobs answer like IBM's RuntimeJobV2, run off the calling thread, can be cancelled (also through the
job store, from another process), and are recorded in the local job store."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest
from job_contract import CALLS, check_done_bell_job, job_snapshot
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from store_lock import write_lock_held

from qiskit_connector_lab.config import load_settings
from qiskit_connector_lab.connection import connect
from qiskit_connector_lab.jobs import LocalJobStore
from qiskit_connector_lab.providers import local_jobs
from qiskit_connector_lab.providers.local_fleet import LocalFleet
from qiskit_connector_lab.providers.local_jobs import LocalJob
from qiskit_connector_lab.providers.local_simulator import SimulationPlan

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fleet():
    return LocalFleet(load_settings(environ={}, local=True), members=("manila", "fez"))


@pytest.fixture(scope="module")
def isa_bell(fleet):
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return {
        name: generate_preset_pass_manager(optimization_level=1, backend=fleet.backend(name), seed_transpiler=1).run(qc)
        for name in ("fake_manila", "fake_fez")
    }


@pytest.fixture
def blocked_queue():
    """Holds the local fleet's one job queue busy until released: the next jobs stay QUEUED, deterministically."""
    release = threading.Event()
    started = threading.Event()

    def hold():
        started.set()
        release.wait(60)

    local_jobs._job_queue().submit(hold)
    started.wait(10)
    yield release
    release.set()


def test_the_runtime_hook_is_installed_for_local_fleet_backends_only(fleet, store_path):
    """The two private names of qiskit-ibm-runtime the hook wraps exist (see providers/runtime_internals.py)."""
    from qiskit_ibm_runtime import SamplerV2
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2
    from qiskit_ibm_runtime.fake_provider.local_runtime_job import LocalRuntimeJob

    from qiskit_connector_lab.providers.runtime_internals import local_job_hook_installed

    fleet.backend("fake_manila")
    assert local_job_hook_installed()
    qc = QuantumCircuit(1)
    qc.measure_all()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The SamplerV2 class is deprecated", DeprecationWarning)
        job = SamplerV2(mode=FakeManilaV2()).run([qc], shots=10)
    assert isinstance(job, LocalRuntimeJob)  # anybody else's fake backend: the client's own local job


def test_a_local_job_answers_every_runtime_job_call(fleet, isa_bell, store_path):
    from qiskit_ibm_runtime.executor_sampler import Sampler

    backend = fleet.backend("fake_fez")
    sampler = Sampler(mode=backend)
    sampler.options.environment.job_tags = ["class-3"]
    job = sampler.run([isa_bell["fake_fez"]], shots=1000)
    assert isinstance(job, LocalJob) and job.status() in ("QUEUED", "RUNNING", "DONE")
    snap = job_snapshot(job)
    assert [name for name, _ in CALLS] == list(snap)
    check_done_bell_job(snap, shots=1000)
    assert snap["backend_name"] == "fake_fez" and snap["primitive_id"] == "executor"
    assert snap["metrics"]["simulation"]["active_qubits"] == 2 and "fake_fez" in snap["logs"]
    assert snap["result"].metadata["local_fleet"]["noise"].startswith("exact")
    record = LocalJobStore().get(job.job_id())
    assert record.status == "DONE" and record.backend == "fake_fez" and record.primitive == "sampler"
    assert record.shots == 1000 and record.pubs == 1 and record.started and record.finished


def test_v2_primitives_in_job_and_batch_mode_are_recorded_with_tags_and_session(fleet, isa_bell, store_path):
    from qiskit_ibm_runtime import Batch, SamplerV2

    backend = fleet.backend("fake_manila")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The SamplerV2 class is deprecated", DeprecationWarning)
        tagged = SamplerV2(mode=backend, options={"environment": {"job_tags": ["t1"]}})
        single = tagged.run([isa_bell["fake_manila"]], shots=200)
        with Batch(backend=backend) as batch:
            sampler = SamplerV2(mode=batch)
            first, second = sampler.run([isa_bell["fake_manila"]]), sampler.run([isa_bell["fake_manila"]])
    assert single.tags == ["t1"] and single.session_id is None
    assert first.session_id and first.session_id == second.session_id != single.session_id
    assert sum(second.result()[0].data.meas.get_counts().values()) == 1024
    single.result()
    records, total = LocalJobStore().list()
    assert total == 3 and {r.id for r in records} == {single.job_id(), first.job_id(), second.job_id()}
    assert LocalJobStore().get(single.job_id()).tags == ("t1",)
    assert LocalJobStore().get(first.job_id()).session_id == first.session_id


def test_seed_simulator_gives_the_same_counts(fleet, isa_bell, store_path):
    from qiskit_ibm_runtime.executor_sampler import Sampler

    sampler = Sampler(mode=fleet.backend("fake_fez"))
    sampler.options.simulator.seed_simulator = 42
    a = sampler.run([isa_bell["fake_fez"]], shots=300).result()[0].join_data().get_counts()
    b = sampler.run([isa_bell["fake_fez"]], shots=300).result()[0].join_data().get_counts()
    assert a == b


def test_jobs_queue_off_the_calling_thread_and_a_queued_job_can_be_cancelled(
    fleet, isa_bell, store_path, blocked_queue
):
    from qiskit_ibm_runtime.exceptions import RuntimeInvalidStateError
    from qiskit_ibm_runtime.executor_sampler import Sampler

    sampler = Sampler(mode=fleet.backend("fake_manila"))
    first = sampler.run([isa_bell["fake_manila"]], shots=100)  # returns at once: the worker is busy
    second = sampler.run([isa_bell["fake_manila"]], shots=100)
    assert first.status() == second.status() == "QUEUED" and not first.running()
    assert LocalJobStore().get(first.job_id()).status == "QUEUED"
    second.cancel()
    assert second.status() == "CANCELLED" and second.cancelled()
    assert LocalJobStore().get(second.job_id()).status == "CANCELLED"
    with pytest.raises(RuntimeInvalidStateError, match="already CANCELLED"):
        second.cancel()
    blocked_queue.set()
    first.wait_for_final_state(timeout=60)
    assert first.status() == "DONE"
    with pytest.raises(RuntimeInvalidStateError, match="cancelled"):
        second.result()
    with pytest.raises(RuntimeInvalidStateError, match="already DONE"):
        first.cancel()


CANCEL = (
    "import sys; from qiskit_connector_lab.jobs import LocalJobStore; "
    "print(LocalJobStore().request_cancel(sys.argv[1]))"
)


def test_a_cancel_through_the_store_from_another_process_stops_a_queued_job(fleet, store_path, blocked_queue):
    ran = []
    job = LocalJob(
        fleet.backend("fake_manila"),
        "sampler",
        lambda: ran.append(1),
        plan=SimulationPlan("automatic", (0,)),
        pubs=1,
        shots=10,
        store=LocalJobStore(),
    )._submit()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", CANCEL, job.job_id()], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert out.stdout.strip() == "CANCELLED", out.stderr
    job.wait_for_final_state(timeout=30)  # the kernel sees the store's cancel while the job waits
    assert job.status() == "CANCELLED"
    blocked_queue.set()
    local_jobs._job_queue().submit(lambda: None).result(10)  # the queue has passed the job
    assert ran == []  # never run


@pytest.mark.parametrize("with_store", [True, False])
def test_a_running_job_cancelled_drops_its_result(fleet, store_path, with_store):
    from qiskit_ibm_runtime.exceptions import RuntimeInvalidStateError

    inside, release = threading.Event(), threading.Event()

    def run():
        inside.set()
        release.wait(30)
        return "a result"

    job = LocalJob(
        fleet.backend("fake_manila"),
        "sampler",
        run,
        plan=SimulationPlan("automatic", (0,)),
        store=LocalJobStore() if with_store else None,
    )._submit()
    inside.wait(10)
    assert job.status() == "RUNNING" and job.running()
    job.cancel()
    release.set()
    local_jobs._job_queue().submit(lambda: None).result(10)
    assert job.status() == "CANCELLED"
    if with_store:
        assert LocalJobStore().get(job.job_id()).status == "CANCELLED"
    with pytest.raises(RuntimeInvalidStateError):
        job.result()


def test_a_failed_job_is_error_with_one_line(fleet, store_path):
    from qiskit_ibm_runtime.exceptions import RuntimeJobFailureError

    def run():
        raise RuntimeError("the simulator\nexploded")

    job = LocalJob(
        fleet.backend("fake_manila"), "sampler", run, plan=SimulationPlan("automatic", (0,)), store=LocalJobStore()
    )._submit()
    job.wait_for_final_state(timeout=30)
    assert job.status() == "ERROR" and job.errored() and job.error_message() == "the simulator exploded"
    assert LocalJobStore().get(job.job_id()).error == "the simulator exploded"
    with pytest.raises(RuntimeJobFailureError, match="the simulator exploded"):
        job.result()


def test_wait_for_final_state_times_out_like_ibm(fleet, store_path, blocked_queue):
    from qiskit_ibm_runtime.exceptions import RuntimeJobTimeoutError

    job = LocalJob(
        fleet.backend("fake_manila"),
        "sampler",
        lambda: None,
        plan=SimulationPlan("automatic", (0,)),
        store=LocalJobStore(),
    )._submit()
    with pytest.raises(RuntimeJobTimeoutError):
        job.wait_for_final_state(timeout=0.2)


def test_connect_batch_mode_runs_jobs_in_the_batch(clean_env, monkeypatch, isa_bell):
    from qiskit_ibm_runtime.executor_sampler import Sampler

    monkeypatch.setenv("QCONNECTOR_JOBS_FILE", str(clean_env / "jobs.json"))
    conn = connect("fake_manila", mode="batch", settings=load_settings(environ={}, local=True))
    try:
        job = Sampler(mode=conn.session).run([isa_bell["fake_manila"]], shots=100)
        assert job.status().capitalize() in ("Queued", "Running", "Done")
        assert sum(job.result()[0].join_data().get_counts().values()) == 100
    finally:
        conn.close()


def test_a_job_the_busy_store_cannot_record_is_not_run(fleet, isa_bell, store_path, monkeypatch):
    """Another process holds the store's write lock past the bound: ``run`` fails in one line naming the store
    file and the fix, and no job runs unrecorded; once the lock is free the next job is recorded."""
    from qiskit_ibm_runtime.executor_sampler import Sampler

    from qiskit_connector_lab.jobs import JobStoreBusy, local_store

    monkeypatch.setattr(local_store, "BUSY_TIMEOUT_SECONDS", 0.3)
    LocalJobStore().list()  # the database exists
    sampler = Sampler(mode=fleet.backend("fake_manila"))
    with write_lock_held(store_path):
        before = set(local_jobs._live_jobs)
        with pytest.raises(JobStoreBusy) as caught:
            sampler.run([isa_bell["fake_manila"]], shots=100)
        text = str(caught.value)
        assert "\n" not in text and "not run" in text
        assert str(store_path) in text and "QCONNECTOR_JOBS_FILE" in text
        assert set(local_jobs._live_jobs) == before  # no job object was left behind to run
    job = sampler.run([isa_bell["fake_manila"]], shots=100)
    job.result()
    assert LocalJobStore().get(job.job_id()).status == "DONE"
    assert LocalJobStore().list()[1] == 1


def test_a_job_the_full_store_refuses_is_not_run(fleet, isa_bell, store_path, monkeypatch):
    """The store already holds its most pending jobs: ``run`` fails in one line naming the store and the fix."""
    from qiskit_ibm_runtime.executor_sampler import Sampler

    from qiskit_connector_lab.jobs import local_store
    from qiskit_connector_lab.jobs.local_store import JobStoreFull
    from qiskit_connector_lab.jobs.records import JobRecord

    monkeypatch.setattr(local_store, "MAX_PENDING", 2)
    store = LocalJobStore()
    for n in range(2):
        store.record(JobRecord(id=f"held-{n}", backend="fake_manila", primitive="sampler", status="QUEUED"))
    with pytest.raises(JobStoreFull) as caught:
        Sampler(mode=fleet.backend("fake_manila")).run([isa_bell["fake_manila"]], shots=100)
    text = str(caught.value)
    assert "\n" not in text and "not run" in text and str(store_path) in text and "cancel" in text
    assert store.list()[1] == 2
