"""Local jobs run in a worker process: a real kernel answers while a long job runs, a cancel ends the job's process,
a job that runs past its time bound ends as ERROR, the worker dies with its kernel, and the backend's limits are
refused at submission, each in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import psutil
import pytest
from jupyter_client.manager import start_new_kernel
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_connector_lab.config import load_settings
from qiskit_connector_lab.jobs import LocalJobStore
from qiskit_connector_lab.providers import local_jobs
from qiskit_connector_lab.providers.local_fleet import LocalFleet
from qiskit_connector_lab.providers.local_jobs import LocalJobRefused

ROOT = Path(__file__).resolve().parent.parent

#: A job that runs for minutes on any machine: 16 active qubits, noisy, 50,000 shots (each its own trajectory).
LONG_JOB = textwrap.dedent("""
    import time, warnings
    warnings.simplefilter("ignore")
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_connector_lab.config import load_settings
    from qiskit_connector_lab.providers.local_fleet import LocalFleet
    from qiskit_ibm_runtime.executor_sampler import Sampler
    backend = LocalFleet(load_settings(environ={}, local=True), members=("kolkata",)).backend("fake_kolkata")
    qc = QuantumCircuit(16)
    qc.h(0)
    for i in range(15):
        qc.cx(i, i + 1)
    qc.measure_all()
    isa = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=1).run(qc)
    job = Sampler(mode=backend).run([isa], shots=50_000)
""")


def _gone(pid: int) -> bool:
    """The process ended and was reaped: no such pid any more (a zombie still has one)."""
    return not psutil.pid_exists(pid)


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return _gone(pid)


class Kernel:
    def __init__(self, env: dict[str, str]) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3", env=env, startup_timeout=120)

    def run(self, code: str, timeout: float = 180) -> tuple[str, float]:
        """(stdout, seconds from the request to the reply)."""
        out: list[str] = []
        errors: list[str] = []

        def hook(message: dict) -> None:
            if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
                out.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                errors.append(f"{message['content']['ename']}: {message['content']['evalue']}")

        start = time.monotonic()
        self.client.execute_interactive(code, timeout=timeout, output_hook=hook)
        took = time.monotonic() - start
        assert not errors, errors
        return "".join(out), took

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel_env(clean_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QCONNECTOR_")}
    env.update(
        HOME=str(clean_env),
        QCONNECTOR_JOBS_FILE=str(clean_env / "jobs.json"),
        QCONNECTOR_PICK_FILE=str(clean_env / "pick.json"),
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    )
    return env


@pytest.fixture
def kernel(kernel_env):
    k = Kernel(kernel_env)
    yield k
    k.close()


def _running_worker(kernel: Kernel) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        out, _ = kernel.run("print(job.status(), job.worker_pid)")
        status, pid = out.split()
        if status == "RUNNING" and pid != "None":
            return int(pid)
        assert status in ("QUEUED", "RUNNING"), out
        time.sleep(0.2)
    raise AssertionError("the job never started")


def test_the_kernel_answers_during_a_long_job_and_a_cancel_ends_its_process(kernel):
    kernel.run(LONG_JOB)
    pid = _running_worker(kernel)
    kernel_pid = int(kernel.run("import os; print(os.getpid())")[0])
    assert pid != kernel_pid and psutil.Process(pid).is_running()
    started, answers = time.monotonic(), []
    while time.monotonic() - started < 10.5:  # a cell every 0.25 s for more than 10 s of the job's run
        out, took = kernel.run("print(sum(range(1000)))")
        assert out.strip() == "499500"
        answers.append(took)
        time.sleep(0.25)
    assert kernel.run("print(job.status())")[0].strip() == "RUNNING"  # it really ran 10+ s
    assert max(answers) < 0.5, f"the kernel took up to {max(answers):.2f} s to answer ({len(answers)} cells)"

    start = time.monotonic()
    out, _ = kernel.run("job.cancel(); print(job.status(), job.worker_pid)")
    cancel_seconds = time.monotonic() - start
    assert out.split() == ["CANCELLED", "None"]
    assert cancel_seconds < 2.0 and _wait_gone(pid, 0.1), cancel_seconds  # gone (and reaped) when cancel returns
    print(
        f"kernel answers: median {sorted(answers)[len(answers) // 2]:.3f} s, max {max(answers):.3f} s; "
        f"cancel {cancel_seconds:.2f} s"
    )
    out, _ = kernel.run(
        "from qiskit_connector_lab.jobs import LocalJobStore\nprint(LocalJobStore().get(job.job_id()).status)"
    )
    assert out.strip() == "CANCELLED"
    # The next job finds a fresh worker and runs.
    out, _ = kernel.run(
        "qc2 = QuantumCircuit(2); qc2.h(0); qc2.cx(0, 1); qc2.measure_all()\n"
        "isa2 = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=1).run(qc2)\n"
        "r = Sampler(mode=backend).run([isa2], shots=200).result()\n"
        "print(type(r).__name__, sum(r[0].join_data().get_counts().values()))"
    )
    assert out.split() == ["PrimitiveResult", "200"]


def test_the_worker_dies_with_its_kernel(kernel_env):
    k = Kernel(kernel_env)
    try:
        k.run(LONG_JOB)
        pid = _running_worker(k)
        kernel_pid = int(k.run("import os; print(os.getpid())")[0])
    finally:
        k.client.stop_channels()
    os.kill(kernel_pid, signal.SIGKILL)  # no atexit, no cleanup: only the worker's own watch can end it
    try:
        assert _wait_gone(pid, 5), "the worker outlived its kernel"
    finally:
        k.manager.shutdown_kernel(now=True)
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)


# --- in this process: the time bound, a cancel from another process, the backend's limits -------------------------
@pytest.fixture(scope="module")
def kolkata():
    return LocalFleet(load_settings(environ={}, local=True), members=("kolkata",)).backend("fake_kolkata")


def _isa(backend, qubits: int):
    qc = QuantumCircuit(qubits)
    qc.h(0)
    for i in range(qubits - 1):
        qc.cx(i, i + 1)
    qc.measure_all()
    return generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=1).run(qc)


def _wait_running(job, seconds: float = 120) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pid = job.worker_pid
        if job.status() == "RUNNING" and pid is not None:
            return pid
        time.sleep(0.05)
    raise AssertionError(f"the job never started: {job.status()}")


def test_a_job_past_its_time_bound_ends_as_error_in_one_line(kolkata, clean_env, store_path, monkeypatch):
    from qiskit_ibm_runtime.exceptions import RuntimeJobFailureError
    from qiskit_ibm_runtime.executor_sampler import Sampler

    monkeypatch.setenv("QCONNECTOR_LOCAL_JOB_TIMEOUT", "2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = Sampler(mode=kolkata).run([_isa(kolkata, 16)], shots=50_000)
    pid = _wait_running(job)
    job.wait_for_final_state(timeout=30)
    assert job.status() == "ERROR" and _wait_gone(pid, 1)
    message = job.error_message()
    assert "QCONNECTOR_LOCAL_JOB_TIMEOUT" in message and "2 s" in message and "\n" not in message
    assert LocalJobStore().get(job.job_id()).error == message
    with pytest.raises(RuntimeJobFailureError, match="QCONNECTOR_LOCAL_JOB_TIMEOUT"):
        job.result()


def test_a_cancel_through_the_store_ends_a_running_job_and_its_process(kolkata, clean_env, store_path):
    from qiskit_ibm_runtime.executor_sampler import Sampler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = Sampler(mode=kolkata).run([_isa(kolkata, 16)], shots=50_000)
    pid = _wait_running(job)
    code = (
        "import sys; from qiskit_connector_lab.jobs import LocalJobStore; "
        "print(LocalJobStore().request_cancel(sys.argv[1]))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", code, job.job_id()], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert out.stdout.strip() == "CANCELLED", out.stderr
    asked = time.monotonic()
    assert _wait_gone(pid, 3), "the job's process still runs after the store's cancel"
    assert time.monotonic() - asked < 2.0 + local_jobs.STORE_POLL_SECONDS
    job.wait_for_final_state(timeout=5)
    assert job.status() == "CANCELLED"


def test_ten_million_shots_are_refused_in_one_line_before_the_job_exists(kolkata, clean_env, store_path):
    from qiskit_ibm_runtime.executor_sampler import Sampler

    with pytest.raises(LocalJobRefused) as caught:
        Sampler(mode=kolkata).run([_isa(kolkata, 2)], shots=10**7)
    message = str(caught.value)
    assert "\n" not in message and "max_shots" in message and "100,000" in message and "10,000,000" in message
    assert caught.value._render_traceback_() == [f"LocalJobRefused: {message}"]  # what a notebook shows
    assert LocalJobStore().list() == ([], 0)  # never recorded, never run


def test_more_circuits_than_max_experiments_are_refused(kolkata, clean_env, store_path):
    from qiskit_ibm_runtime.executor_sampler import Sampler

    isa = _isa(kolkata, 2)
    with pytest.raises(LocalJobRefused, match="max_experiments of 300"):
        Sampler(mode=kolkata).run([isa] * 301, shots=10)
    assert LocalJobStore().list() == ([], 0)


def test_a_long_job_says_its_run_time_at_submission(kolkata, clean_env, store_path):
    from qiskit_ibm_runtime.executor_sampler import Sampler

    from qiskit_connector_lab.providers.local_simulator import LocalSimulationNote

    with pytest.warns(LocalSimulationNote, match=r"about .*: 16 qubits × 50,000 shots on the statevector") as notes:
        job = Sampler(mode=kolkata).run([_isa(kolkata, 16)], shots=50_000)
    job.cancel()
    assert all("\n" not in str(note.message) for note in notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LocalSimulationNote)  # a small job says nothing
        Sampler(mode=kolkata).run([_isa(kolkata, 2)], shots=100).result()


def test_the_time_bound_variable_is_in_the_table_and_a_bad_value_is_one_line(
    kolkata, clean_env, store_path, monkeypatch
):
    from qiskit_ibm_runtime.executor_sampler import Sampler

    from qiskit_connector_lab.errors import ConfigError
    from qiskit_connector_lab.variables import PROCESS_ONLY, variable

    assert variable(local_jobs.TIMEOUT_VARIABLE).default == str(local_jobs.DEFAULT_TIMEOUT_SECONDS) == "600"
    assert local_jobs.TIMEOUT_VARIABLE in PROCESS_ONLY  # the kernel reads it; a .env must not stretch it
    monkeypatch.setenv(local_jobs.TIMEOUT_VARIABLE, "soon")
    with pytest.raises(ConfigError) as caught:
        Sampler(mode=kolkata).run([_isa(kolkata, 2)], shots=10)
    assert str(caught.value).startswith("QCONNECTOR_LOCAL_JOB_TIMEOUT: ") and "\n" not in str(caught.value)
    assert LocalJobStore().list() == ([], 0)


def test_loading_a_backend_builds_its_target_once_off_the_calling_thread(clean_env, monkeypatch):
    """The connect returns before the chip's calibration is decoded; a transpile right after waits for that one
    build instead of starting another (a spy around the client's own converter counts the builds)."""
    from qiskit_ibm_runtime.fake_provider import fake_backend

    real, builds = fake_backend.convert_to_target, []

    def spy(*args, **kwargs):
        builds.append(threading.current_thread().name)
        time.sleep(0.3)  # a slow build: the caller below must wait for it, not start its own
        return real(*args, **kwargs)

    monkeypatch.setattr(fake_backend, "convert_to_target", spy)
    backend = LocalFleet(load_settings(environ={}, local=True), members=("manila",)).backend("fake_manila")
    assert backend.target.num_qubits == 5 and backend.num_qubits == 5
    assert builds == ["qcl-build-target"]


# --- the worker's lifecycle: a worker that never reads, the race with a store cancel, spare processes, fds -----------
@pytest.fixture
def own_workers(monkeypatch):
    """A fresh set of workers for this test (the module's own stays untouched); every process ends at teardown."""
    workers = local_jobs._Workers()
    monkeypatch.setattr(local_jobs, "WORKERS", workers)
    yield workers
    workers.shutdown()


def _children() -> set[int]:
    return {child.pid for child in psutil.Process().children() if child.status() != psutil.STATUS_ZOMBIE}


def _plan():
    from qiskit_connector_lab.providers.local_simulator import SimulationPlan

    return SimulationPlan("automatic", (0,))


def test_a_worker_that_never_reads_cannot_block_the_send_past_the_time_bound_or_a_cancel(
    kolkata, store_path, own_workers, monkeypatch
):
    """A worker still importing (or hung) reads nothing, and an 8 MB task fills the socket: the time bound and a
    cancel still end the job at once, and cancel() returns at once."""
    monkeypatch.setattr(local_jobs, "_BOOT", "import time; time.sleep(600)")  # a worker that never reads
    monkeypatch.setenv("QCONNECTOR_LOCAL_JOB_TIMEOUT", "1")
    task = b"x" * 8_000_000
    job = local_jobs.LocalJob(kolkata, "sampler", lambda: None, plan=_plan(), task=task, store=LocalJobStore())
    started = time.monotonic()
    job._submit()
    job.wait_for_final_state(timeout=10)
    assert job.status() == "ERROR" and "QCONNECTOR_LOCAL_JOB_TIMEOUT" in job.error_message()
    assert time.monotonic() - started < 1 + 2, "the time bound did not cover the send"

    monkeypatch.setenv("QCONNECTOR_LOCAL_JOB_TIMEOUT", "600")
    job = local_jobs.LocalJob(kolkata, "sampler", lambda: None, plan=_plan(), task=task, store=LocalJobStore())
    job._submit()
    pid = _wait_running(job, 10)
    time.sleep(0.3)  # the job thread is in the send now
    asked = time.monotonic()
    job.cancel()
    assert time.monotonic() - asked < 1.0, "cancel() blocked the notebook"
    assert job.status() == "CANCELLED" and _wait_gone(pid, 3), "the job's process still runs after the cancel"
    assert job._stopped.wait(2), "the job thread is still stuck in the send"


def test_a_store_cancel_that_lands_as_the_job_finishes_gives_one_truth(kolkata, store_path):
    """The server's cancel lands between the job's last look at the store and its DONE: the store keeps CANCELLED,
    and so does the job (no result), instead of DONE in the kernel and CANCELLED in the sidebar."""

    class LateCancel(LocalJobStore):
        def get(self, job_id):
            record = super().get(job_id)
            if record is not None and record.status == "RUNNING" and self.armed:
                self.armed = False
                LocalJobStore().request_cancel(job_id)  # another process's cancel, right after this look
            return record

    store = LateCancel()
    store.armed = False
    ran = threading.Event()

    def run():
        store.armed = True  # the next look at the store (the one before DONE) is followed by the cancel
        ran.set()
        return "the result"

    job = local_jobs.LocalJob(kolkata, "sampler", run, plan=_plan(), store=store)._submit()
    job.wait_for_final_state(timeout=30)
    assert ran.is_set()
    stored = LocalJobStore().get(job.job_id()).status
    assert (job.status(), stored) == ("CANCELLED", "CANCELLED")
    from qiskit_ibm_runtime.exceptions import RuntimeInvalidStateError

    with pytest.raises(RuntimeInvalidStateError):
        job.result()


def test_no_spare_worker_is_started_while_one_is_busy_or_after_the_shutdown(own_workers):
    before = _children()
    own_workers.prestart()
    time.sleep(0.1)
    first = _children() - before
    assert len(first) == 1
    worker = own_workers.take()
    assert {worker.pid} == first  # the warm one is lent
    own_workers.prestart()  # e.g. a backend built while the job runs
    time.sleep(0.1)
    assert _children() - before == first, "a second interpreter started while the worker is busy"
    own_workers.give_back(worker)
    own_workers.prestart()
    time.sleep(0.1)
    assert _children() - before == first  # the one worker is idle again: nothing more
    own_workers.shutdown()
    assert _wait_gone(worker.pid, 3)
    own_workers.prestart()
    time.sleep(0.2)
    assert _children() - before == set(), "a worker started after the shutdown"


def test_a_worker_that_cannot_start_leaks_no_file_descriptor(own_workers, monkeypatch, caplog):
    fds = set(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    for _ in range(3):
        own_workers.prestart()
    assert set(os.listdir("/proc/self/fd")) - fds == set(), "the socket or the pipe of a failed start stayed open"
    assert "could not start a worker process" in caplog.text


def test_a_start_that_popen_refuses_with_value_error_is_one_warning(own_workers, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise ValueError("pass_fds not supported on this platform")

    monkeypatch.setattr(local_jobs.subprocess, "Popen", refuse)
    own_workers.prestart()  # no traceback: the job says so when it runs
    assert "could not start a worker process" in caplog.text


def test_the_time_bound_has_an_upper_limit_in_one_line(monkeypatch):
    from qiskit_connector_lab.errors import ConfigError

    monkeypatch.setenv(local_jobs.TIMEOUT_VARIABLE, "1" + "0" * 400)
    with pytest.raises(ConfigError) as caught:
        local_jobs.job_timeout()
    message = str(caught.value)
    assert message.startswith("QCONNECTOR_LOCAL_JOB_TIMEOUT: ") and "86400" in message and "\n" not in message
    monkeypatch.setenv(local_jobs.TIMEOUT_VARIABLE, "86400")
    assert local_jobs.job_timeout() == 86400


def test_a_tag_over_the_record_limit_is_refused_at_submission(kolkata, store_path):
    from qiskit_ibm_runtime import SamplerV2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy primitive still takes job_tags
        sampler = SamplerV2(mode=kolkata)
    sampler.options.environment.job_tags = ["x" * 300]
    with pytest.raises(LocalJobRefused) as caught:
        sampler.run([_isa(kolkata, 2)], shots=10)
    assert "job_tags" in str(caught.value) and "256" in str(caught.value) and "\n" not in str(caught.value)
    assert LocalJobStore().list() == ([], 0)


def test_the_noise_cache_setting_reaches_the_worker_with_the_task(kolkata, store_path, monkeypatch):
    """The worker's cache of reduced noise models is the one jobs use: the kernel's setting travels in the task."""
    import pickle

    from qiskit_ibm_runtime.executor_sampler import Sampler

    monkeypatch.setenv("QCONNECTOR_LOCAL_NOISE_CACHE", "3")
    job = Sampler(mode=kolkata).run([_isa(kolkata, 2)], shots=10)
    assert pickle.loads(job._task)["noise_models"] == 3
    job.result()
