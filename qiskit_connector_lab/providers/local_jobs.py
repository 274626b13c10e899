"""Local-fleet jobs that answer like IBM's ``RuntimeJobV2``, run off the calling thread, and are recorded.

``SamplerV2(mode=backend).run(...)``, ``EstimatorV2``, ``executor_sampler.Sampler`` and the executor Estimator on a
local-fleet backend (in job, Session or Batch mode) return a :class:`LocalJob`:

* ``status()`` is IBM's string (``"QUEUED"``, ``"RUNNING"``, ``"DONE"``, ``"CANCELLED"``, ``"ERROR"``);
* ``job_id()``, ``backend()``, ``creation_date``, ``tags``, ``usage_estimation``, ``metrics()``, ``logs()``,
  ``wait_for_final_state()``, ``done()``/``running()``/``cancelled()``/``errored()``, ``result()``, ``cancel()``,
  ``usage()``, ``error_message()``, ``session_id``, ``primitive_id``, ``inputs``, ``properties()``, as IBM's;
* jobs wait in one queue per kernel and run one at a time in a **worker process** (the simulator uses the cores
  and holds its process's GIL, so it must not run in the kernel): the kernel answers at once while a job runs, a
  notebook can submit several and carry on, and a cancel of a running job ends its process (see "The worker
  process" below);
* a job obeys the backend's ``max_shots`` and ``max_experiments`` as IBM does, a job that cannot fit in memory is
  refused before it starts, a job that would run long says so at submission (:func:`estimate_seconds`), and a job
  that runs past ``QCONNECTOR_LOCAL_JOB_TIMEOUT`` seconds (default 600) is stopped and ends as ERROR;
* every job is recorded in the local job store (:mod:`qiskit_connector_lab.jobs`), so the sidebar and ``%qjobs``
  see the jobs of every kernel; a job the store cannot record (busy past its wait, or full) is not run, and
  ``run()`` says so in one line; a cancel asked through the store (the server) is honoured before the job starts
  and ends its worker process after;
* ``result().metadata["local_fleet"]`` says how it was simulated (method, active qubits, exact or approximated
  noise), and an approximation is also said at submission in a one-line :class:`LocalSimulationNote` warning.

The worker process
------------------
One process per kernel, started in the background when the first local-fleet backend is built (so the first job
finds it warm: qiskit and Aer imported, the backend and its reduced noise models cached across jobs), reused for
every job, and replaced by a fresh one when a job's process had to be killed; never a second one while a job runs,
nor any after the kernel's exit. Why one long-lived process and not a
pool or one process per job: jobs of a kernel run one at a time anyway (the simulator already uses every core), a
warm process keeps the typical lesson job as fast as in-process, and a cancel or a timeout simply kills the
process and reaps it (``kill`` + ``wait``), which a pool's shared workers would not allow. The process:

* is a fresh interpreter (``subprocess`` + ``sys.executable``, never a ``fork`` of the kernel, whose threads and
  OpenMP pool a fork would copy), talking over a socket pair with :mod:`multiprocessing.connection`;
* ends by itself when its kernel ends, even by ``kill -9``: it holds the read end of a pipe whose only writer is
  the kernel, and a thread that sees its end-of-file exits the process;
* ignores SIGINT (interrupting the kernel must not kill a job that another cell waits for), and runs at a lower
  priority (``nice`` 5), so the notebook that waits for an answer gets the cores first;
* costs the first job of a kernel its start (about an ``import qiskit_ibm_runtime``) when that job comes right
  after the connect: it starts with the connect, so a job submitted a few seconds later finds it ready;
* sends back the job's own result object (pickled), so ``result()`` is the same ``PrimitiveResult`` as before.

A job whose inputs cannot be pickled (a rare custom object) runs in the kernel's job thread instead, as before.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ..errors import ConnectorError
from ..jobs.records import CANCELLED, DONE, ERROR, FINAL_STATUSES, MAX_NAME, MAX_TAGS, QUEUED, RUNNING, JobRecord
from .local_simulator import (
    NOISE_MODELS,
    STATEVECTOR,
    LocalSimulationNote,
    SimulationPlan,
    active_qubits,
    is_clifford,
    noise_cache_entries,
    plan_simulation,
    simulator_for,
)
from .runtime_internals import program_semantic_role

logger = logging.getLogger(__name__)


class _JobQueue:
    """The kernel's jobs, run in order by one daemon thread (``submit`` returns a ``Future``, as an executor's).

    A daemon, not a ``ThreadPoolExecutor`` (whose threads the interpreter joins at exit): a kernel that exits
    never waits for a running job; the job's worker process ends with the kernel."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Future, Callable[[], Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], Any]) -> Future:
        future: Future = Future()
        self._queue.put((future, fn))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="qcl-local-job", daemon=True)
                self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            future, fn = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while queued
            try:
                future.set_result(fn())
            except BaseException as error:  # noqa: BLE001 - the job's own failure, kept in its future
                future.set_exception(error)


_executor: dict[str, _JobQueue] = {}  # the one job queue, made on first use
_executor_lock = threading.Lock()
STORE_POLL_SECONDS = 0.5  # how often a pending job looks for a cancel asked through the store

# The job objects of this process, by id, for ``%qjob ID`` (:meth:`LocalFleet.job_handle`): every job while
# something holds it, and the last RECENT_JOBS even when nothing does (a notebook that only kept the id).
RECENT_JOBS = 100
_live_jobs: weakref.WeakValueDictionary[str, LocalJob] = weakref.WeakValueDictionary()
_recent_jobs: deque[LocalJob] = deque(maxlen=RECENT_JOBS)
_registry_lock = threading.Lock()


def _register(job: LocalJob) -> None:
    with _registry_lock:
        _live_jobs[job.job_id()] = job
        _recent_jobs.append(job)


def live_job(job_id: str) -> LocalJob | None:
    """The job object with this id if this process created it and still holds it, else None."""
    with _registry_lock:
        return _live_jobs.get(job_id)


def _job_queue() -> _JobQueue:
    with _executor_lock:
        if "queue" not in _executor:
            _executor["queue"] = _JobQueue()
        return _executor["queue"]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def _store() -> Any:
    from ..jobs.local_store import LocalJobStore

    return LocalJobStore()


# -- limits ----------------------------------------------------------------------------------------------------------
TIMEOUT_VARIABLE = "QCONNECTOR_LOCAL_JOB_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 600
MAX_TIMEOUT_SECONDS = 86400  # one day: a longer bound is a mistake (and past ~1e308 not a time at all)
#: A job whose estimated run time is longer than this says so at submission.
ANNOUNCE_SECONDS = 10.0
#: A noisy statevector run simulates each shot as its own trajectory: about ``shots x instructions x (PER_OP +
#: PER_AMPLITUDE x 2**qubits)`` seconds (Aer 0.17, fitted on 12- to 16-qubit GHZ runs on a 2-core machine; an
#: order of magnitude is what the warning needs).
SECONDS_PER_SHOT_OP = 2e-6
SECONDS_PER_SHOT_OP_AMPLITUDE = 1e-8


class LocalJobRefused(ConnectorError, ValueError):
    """A local job the chosen backend refuses at submission, as IBM would (too many shots or circuits)."""

    code = "local_job_refused"


def job_timeout() -> int:
    """``QCONNECTOR_LOCAL_JOB_TIMEOUT`` (whole seconds, at most a day), else 600; a bad value: one-line ConfigError."""
    from ..variables import count_from_environment

    value = count_from_environment(TIMEOUT_VARIABLE, str(DEFAULT_TIMEOUT_SECONDS))
    if value is not None and value > MAX_TIMEOUT_SECONDS:
        from ..errors import ConfigError

        raise ConfigError(
            TIMEOUT_VARIABLE,
            f"is more than {MAX_TIMEOUT_SECONDS} s (one day).",
            f"Set it to at most {MAX_TIMEOUT_SECONDS}, or unset it.",
        )
    return DEFAULT_TIMEOUT_SECONDS if value is None else value


def backend_limits(backend: Any) -> tuple[int | None, int | None]:
    """``(max_shots, max_experiments)`` of the backend's configuration (None: not stated)."""
    try:
        configuration = backend.configuration()
    except Exception:  # noqa: BLE001 - a backend without a configuration states no limits
        return None, None

    def whole(name: str) -> int | None:
        value = getattr(configuration, name, None)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    return whole("max_shots"), whole("max_experiments")


def check_limits(backend: Any, shots: list[int], circuits: int) -> None:
    """Refuse, in one line, what the backend's own limits refuse (IBM checks the same at submission)."""
    max_shots, max_experiments = backend_limits(backend)
    name = backend.name
    if max_experiments is not None and circuits > max_experiments:
        raise LocalJobRefused(
            f"A job of {circuits:,} circuits exceeds {name}'s max_experiments of {max_experiments:,} (IBM refuses "
            f"it too). Split it into jobs of at most {max_experiments:,} circuits."
        )
    most = max(shots, default=0)
    if max_shots is not None and most > max_shots:
        raise LocalJobRefused(
            f"A job of {most:,} shots exceeds {name}'s max_shots of {max_shots:,} (IBM refuses it too). "
            f"Use at most {max_shots:,} shots per PUB, or several jobs."
        )


def estimate_seconds(plan: SimulationPlan, circuits: list[Any], shots: list[int]) -> float:
    """A rough run time of a statevector job: shots x instructions x 2**qubits, for each circuit (noisy
    trajectories). 0 for the stabilizer and MPS methods (their cost does not follow this rule)."""
    if plan.method != STATEVECTOR or not plan.active:
        return 0.0
    per_op = SECONDS_PER_SHOT_OP + SECONDS_PER_SHOT_OP_AMPLITUDE * 2 ** len(plan.active)
    total = 0.0
    for index, circuit in enumerate(circuits):
        count = shots[index] if index < len(shots) else (shots[-1] if shots else 1)
        total += count * max(1, len(circuit.data)) * per_op
    return total


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def run_time_note(backend_name: str, plan: SimulationPlan, circuits: list[Any], shots: list[int]) -> str | None:
    """The one-line warning of a long job, or None: e.g. "about 40 s: 20 qubits × 20,000 shots on the statevector"."""
    seconds = estimate_seconds(plan, circuits, shots)
    if seconds < ANNOUNCE_SECONDS:
        return None
    total_shots = sum(shots) if shots else 0
    stop = job_timeout()
    over = f"; it will be stopped after {stop} s ({TIMEOUT_VARIABLE})" if seconds > stop else ""
    return (
        f"Local fleet: {backend_name}: about {_duration(seconds)}: {len(plan.active)} qubits × {total_shots:,} shots "
        f"on the statevector{over}."
    )


# -- the worker process ----------------------------------------------------------------------------------------------
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding qiskit_connector_lab
_BOOT = "import sys; from qiskit_connector_lab.providers.local_jobs import worker_main; worker_main(sys.argv[1:])"
KILL_WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05  # how often the job thread looks for a cancel, a timeout or the worker's end
WORKER_NICENESS = 5  # the worker's ``nice``: the notebook that waits for an answer gets the cores first
CANCEL_WAIT_SECONDS = 1.0  # the most a cancel() waits for the job thread to reap the job's process


def _installed() -> bool:
    """Whether this package is imported from the interpreter's site-packages (the worker finds it there too)."""
    import site

    folders = {*site.getsitepackages(), site.getusersitepackages()}
    return any(os.path.realpath(folder) == os.path.realpath(_PACKAGE_ROOT) for folder in folders)


class WorkerProcess:
    """One worker interpreter for local jobs, owned by the kernel (see the module doc)."""

    def __init__(self) -> None:
        """Start the process; OSError or ValueError (``pass_fds`` unsupported) when it cannot, with nothing left
        open."""
        ours, theirs = socket.socketpair()
        alive_read, alive_write = os.pipe()  # the kernel holds the only writer: its end is the kernel's end
        env = dict(os.environ)
        if not _installed():  # a checkout (tests, a clone): the worker imports the kernel's own copy
            env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(theirs.fileno()), str(alive_read)],
                pass_fds=(theirs.fileno(), alive_read),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
                close_fds=True,
            )
        except BaseException:
            ours.close()
            os.close(alive_write)
            raise
        finally:
            theirs.close()
            os.close(alive_read)
        self._alive_write = alive_write
        self.connection = Connection(ours.detach())
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def warm(self, backend_name: str) -> None:
        """Ask the idle worker to build a backend now (no answer is sent back)."""
        try:
            self.connection.send_bytes(pickle.dumps({"kind": "warm", "backend": backend_name}))
        except OSError:  # it ended: the next job takes a fresh worker
            pass

    def kill(self) -> None:
        """End the process and reap it (no zombie)."""
        try:
            self.process.kill()
        except OSError:  # pragma: no cover - already gone
            pass
        try:
            self.process.wait(KILL_WAIT_SECONDS)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process in uninterruptible sleep
            logger.warning("Local fleet: worker process %s did not end within %s s.", self.pid, KILL_WAIT_SECONDS)
        self.close()

    def close(self) -> None:
        for close in (self.connection.close, lambda: os.close(self._alive_write)):
            try:
                close()
            except OSError:
                pass


class _Workers:
    """The kernel's one worker: lent to one job at a time, replaced after a kill, never two at once (a spare
    interpreter would only compete for the cores and memory of the one that runs the job)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: WorkerProcess | None = None
        self._busy: set[WorkerProcess] = set()
        self._warm: set[str] = set()  # the backends this kernel loaded: a fresh worker builds them first
        self._closed = False  # the kernel is exiting: no worker starts any more

    def prestart(self, backend_name: str | None = None) -> None:
        """Start the warm worker in the background when there is none, idle or busy (cheap: the child imports by
        itself), and have it build ``backend_name``'s backend (the backends it built are kept for the next workers
        too). A busy worker is left alone: it comes back warm after its job, or its replacement starts then."""
        with self._lock:
            if backend_name:
                self._warm.add(backend_name)
            if self._closed:
                return
            if self._idle is not None and self._idle.alive():
                if backend_name:
                    self._idle.warm(backend_name)
                return
            if self._busy:
                return
            if self._idle is not None:
                self._idle.kill()
                self._idle = None
            try:
                self._idle = WorkerProcess()
            except (OSError, ValueError) as error:  # no process to spare: the job says so when it runs
                logger.warning("Local fleet: could not start a worker process: %s", _one_line(error))
                return
            for name in sorted(self._warm):
                self._idle.warm(name)

    def take(self) -> WorkerProcess:
        """Lend the idle worker (or a fresh one) to a job; OSError or ValueError when none can start."""
        with self._lock:  # one step: a prestart in between would start a second interpreter
            if self._closed:
                raise OSError("the kernel is shutting down")
            worker, self._idle = self._idle, None
            if worker is not None and not worker.alive():
                worker.kill()
                worker = None
            if worker is None:
                worker = WorkerProcess()
            self._busy.add(worker)
            return worker

    def give_back(self, worker: WorkerProcess) -> None:
        with self._lock:
            self._busy.discard(worker)
            if self._idle is None and not self._closed and worker.alive():
                self._idle = worker
                for name in sorted(self._warm):  # a backend loaded while it ran (the ones it built cost nothing)
                    worker.warm(name)
                return
        worker.kill()

    def discard(self, worker: WorkerProcess) -> None:
        """A worker that was killed: no longer lent."""
        with self._lock:
            self._busy.discard(worker)

    def shutdown(self) -> None:
        """At the kernel's exit: end every worker (a running job's too: it would die with the kernel anyway), and
        start none any more."""
        with self._lock:
            self._closed = True
            workers = [w for w in (self._idle, *self._busy) if w is not None]
            self._idle, self._busy = None, set()
        for worker in workers:
            worker.kill()


class _Stopped(Exception):
    """The job's process was killed by a cancel."""


class _SendFailed(Exception):
    """The task could not be sent: the worker had ended before it read it."""


class _WorkerEnded(Exception):
    """The job failed in its process, or its process ended (time bound, crash): ``str()`` is its one line."""


WORKERS = _Workers()
atexit.register(WORKERS.shutdown)


def prestart_worker(backend_name: str | None = None) -> None:
    """Have a warm worker ready for this kernel's first local job (called when a local-fleet backend is built):
    it imports the simulator and builds ``backend_name``'s backend before the first job asks for it."""
    WORKERS.prestart(backend_name)


def _watch_parent(alive_fd: int) -> None:
    try:
        while os.read(alive_fd, 1):
            pass
    except OSError:
        pass
    os._exit(0)  # the kernel is gone: so is its job


_worker_backends: dict[str, Any] = {}


def _worker_backend(name: str) -> Any:
    """The worker's backend named ``name``, built once and kept for the next jobs."""
    if name not in _worker_backends:
        from .local_simulator import local_backend_class_named

        backend_class = local_backend_class_named(name)
        if backend_class is None:
            raise ValueError(f"No fake backend class is named {name!r}.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # said in the kernel already
            backend = backend_class()
            backend.target  # noqa: B018
        _worker_backends[name] = backend
    return _worker_backends[name]


def run_task(task: dict[str, Any]) -> Any:
    """Run one job's task (in the worker; also in the kernel's job thread for a task that cannot be pickled)."""
    from qiskit_ibm_runtime.fake_provider.local_service import QiskitRuntimeLocalService

    from .runtime_internals import local_job_hook_installed

    if local_job_hook_installed():  # pragma: no cover - the kernel never runs a task itself
        raise RuntimeError("a local job's task runs in the worker process only")
    run, run_executor = QiskitRuntimeLocalService._run, QiskitRuntimeLocalService._run_executor
    if "noise_models" in task:  # the kernel's QCONNECTOR_LOCAL_NOISE_CACHE, read at submission
        NOISE_MODELS.max_entries = task["noise_models"]
    backend = _worker_backend(task["backend"]) if isinstance(task["backend"], str) else task["backend"]
    service = QiskitRuntimeLocalService()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the kernel said the notes at submission
        if task["kind"] == "executor":
            simulator = simulator_for(backend, task["plan"], circuits=task["circuits"])
            return run_executor(service, simulator, task["options"], task["inputs"]).result()
        return run(service, task["kind"], task["inputs"], {"backend": backend}, None).result()


def worker_main(argv: list[str]) -> None:
    """The worker process: run the tasks the kernel sends, one at a time, until the kernel goes."""
    connection_fd, alive_fd = int(argv[0]), int(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(WORKER_NICENESS)  # the simulation yields the cores to the notebook that waits for an answer
    except OSError:  # pragma: no cover
        pass
    threading.Thread(target=_watch_parent, args=(alive_fd,), daemon=True, name="qcl-watch-kernel").start()
    connection = Connection(connection_fd)
    import qiskit_aer  # noqa: F401 - warm: the first job finds these imported
    import qiskit_ibm_runtime  # noqa: F401

    while True:
        try:
            task = pickle.loads(connection.recv_bytes())
        except (EOFError, OSError):
            return
        if task.get("kind") == "warm":
            try:
                _worker_backend(task["backend"])
            except Exception:  # noqa: BLE001, S110 - the job that needs it will say why
                pass
            continue
        try:
            reply: tuple[str, Any] = ("ok", run_task(task))
            data = pickle.dumps(reply)
        except BaseException as error:  # noqa: BLE001 - any failure is the job's ERROR, as on IBM
            data = pickle.dumps(("error", _one_line(error)))
        try:
            connection.send_bytes(data)
        except OSError:
            return


class LocalJob:
    """A job on the local fleet, shaped like ``qiskit_ibm_runtime.RuntimeJobV2`` (see the module doc)."""

    JOB_FINAL_STATES = tuple(sorted(FINAL_STATUSES))

    def __init__(
        self,
        backend: Any,
        primitive: str,
        run: Callable[[], Any],
        *,
        plan: SimulationPlan,
        inputs: Any = None,
        pubs: int = 0,
        shots: int | None = None,
        tags: list[str] | None = None,
        session_id: str | None = None,
        store: Any = None,
        program_id: str | None = None,
        task: bytes | None = None,
    ) -> None:
        """``run`` runs the job in the kernel's job thread; ``task`` (a pickled :func:`run_task` argument), when
        given, runs it in the worker process instead (what :func:`make_job` does)."""
        self._program_id = program_id or primitive  # as IBM's primitive_id: "sampler", "estimator" or "executor"
        self._job_id = f"local-{uuid.uuid4().hex[:14]}"
        self._backend = backend
        self._primitive = primitive
        self._run_fn = run
        self._plan = plan
        self._inputs = inputs
        self._pubs = pubs
        self._shots = shots
        self._tags = None if tags is None else [str(tag) for tag in tags]  # None when none were given, as IBM's
        self._session_id = session_id
        self._store = store
        self._lock = threading.Lock()
        self._finished_event = threading.Event()
        self._status = QUEUED
        self._error: str | None = None
        self._result: Any = None
        self._created = datetime.now(UTC)
        self._started: datetime | None = None
        self._finished: datetime | None = None
        self._last_store_check = 0.0
        self._future: Future | None = None
        self._task = task
        self._stop = threading.Event()  # set by a cancel: the job thread kills the worker
        self._stopped = threading.Event()  # set once no process runs this job any more
        self._worker_pid: int | None = None
        self._worker_process: WorkerProcess | None = None
        self._next_store_check = 0.0
        self._record()  # before the job exists for anyone: a job the store refused is not run
        _register(self)

    # -- the store: the job is recorded, or not run; later updates are best effort --------------------------------
    def _record(self) -> None:
        """Record the new job. A store that stays busy, or is full, refuses the job in one line (naming the file
        and the fix): a local job is never run unrecorded. Another failure (a full disk) is a logged warning."""
        from ..jobs.local_store import JobStoreBusy, JobStoreFull

        if self._store is None:
            return
        try:
            self._store.record(
                JobRecord(
                    id=self._job_id,
                    backend=self._backend.name,
                    primitive=self._primitive,
                    status=self._status,
                    created=self._created.isoformat(),
                    shots=self._shots,
                    pubs=self._pubs,
                    tags=tuple(self._tags or ()),
                    session_id=self._session_id,
                    provider="local",
                )
            )
        except (JobStoreBusy, JobStoreFull) as error:
            raise type(error)(f"Local fleet: the job was not run. {error}") from None
        except Exception as error:  # noqa: BLE001 - a full disk must not fail a classroom job
            logger.warning("Local fleet: could not record job %s in the job store: %s", self._job_id, _one_line(error))
            self._store = None

    def _store_update(self, **fields: Any) -> Any:
        if self._store is None:
            return None
        try:
            return self._store.update(self._job_id, **fields)
        except Exception as error:  # noqa: BLE001
            logger.warning("Local fleet: could not update job %s in the job store: %s", self._job_id, _one_line(error))
            return None

    def _cancel_asked_in_store(self) -> bool:
        if self._store is None:
            return False
        try:
            record = self._store.get(self._job_id)
        except Exception:  # noqa: BLE001
            return False
        return record is not None and record.status == CANCELLED

    # -- running -------------------------------------------------------------------------------------------------
    def _submit(self) -> LocalJob:
        self._future = _job_queue().submit(self._execute)
        return self

    def _execute(self) -> None:
        with self._lock:
            if self._status != QUEUED:
                return  # cancelled while queued
            if self._cancel_asked_in_store():
                self._finish(CANCELLED)
                return
            self._status, self._started = RUNNING, datetime.now(UTC)
        self._store_update(status=RUNNING, started=self._started.isoformat())
        try:
            result = self._run_in_worker() if self._task is not None else self._run_fn()
            metadata = getattr(result, "metadata", None)
            if isinstance(metadata, dict):
                metadata["local_fleet"] = {"backend": self._backend.name, **self._plan.metadata()}
        except BaseException as error:  # noqa: BLE001 - any failure is the job's ERROR, as on IBM
            with self._lock:
                if self._status == RUNNING:
                    self._error = _one_line(error)
                    self._finish(ERROR, error=self._error)
            return
        with self._lock:
            if self._status != RUNNING:
                return  # cancelled while running: the result is dropped
            if self._cancel_asked_in_store():
                self._finish(CANCELLED)
                return
            self._result = result
            self._finish(DONE)

    def _run_in_worker(self) -> Any:
        """Send the task to the warm worker and wait for its answer, a cancel, the time bound or its end.

        The time bound starts before the send, and the send itself waits for a cancel or the bound: a worker
        still importing, warming or hung reads nothing, and a large task fills the socket."""
        timeout = job_timeout()
        deadline = time.monotonic() + timeout
        self._next_store_check = time.monotonic() + STORE_POLL_SECONDS
        worker = self._take_worker()
        try:
            try:
                self._send(worker, deadline, timeout)
            except _SendFailed:  # it ended between two jobs: the job was not sent, so a fresh worker takes it
                worker.kill()
                WORKERS.discard(worker)
                worker = self._take_worker()
                self._send(worker, deadline, timeout)
            while True:
                self._check_interrupts(worker, deadline, timeout)
                try:
                    ready = worker.connection.poll(POLL_SECONDS)
                except OSError:
                    ready = True
                if ready:
                    try:
                        kind, value = pickle.loads(worker.connection.recv_bytes())
                    except (EOFError, OSError, pickle.UnpicklingError):
                        worker.kill()
                        code = worker.process.returncode
                        raise _WorkerEnded(
                            f"Local fleet: the simulation process ended unexpectedly (exit code {code}; e.g. the "
                            "machine ran out of memory). Use fewer qubits or shots."
                        ) from None
                    WORKERS.give_back(worker)
                    if kind == "ok":
                        return value
                    raise _WorkerEnded(str(value))
        finally:
            WORKERS.discard(worker)  # given back already when it answered
            self._worker_process = None
            self._worker_pid = None
            self._stopped.set()
            threading.Thread(target=WORKERS.prestart, daemon=True).start()  # a killed worker: start its successor

    def _take_worker(self) -> WorkerProcess:
        try:
            worker = WORKERS.take()
        except (OSError, ValueError) as error:
            raise _WorkerEnded(f"Local fleet: no process could be started for the job ({_one_line(error)}).") from None
        self._worker_process, self._worker_pid = worker, worker.pid
        return worker

    def _send(self, worker: WorkerProcess, deadline: float, timeout: int) -> None:
        """Send the task from a helper thread, so the job thread still sees a cancel and the time bound (which kill
        the worker: the helper's send then ends too); _SendFailed when the worker was gone before it read."""
        failed: list[BaseException] = []

        def send() -> None:
            try:
                worker.connection.send_bytes(self._task or b"")
            except BaseException as error:  # noqa: BLE001 - said by the job thread
                failed.append(error)

        sender = threading.Thread(target=send, daemon=True, name="qcl-send-task")
        sender.start()
        while sender.is_alive():
            self._check_interrupts(worker, deadline, timeout)
            sender.join(POLL_SECONDS)
        if failed:
            if isinstance(failed[0], OSError):
                raise _SendFailed()
            raise failed[0]

    def _check_interrupts(self, worker: WorkerProcess, deadline: float, timeout: int) -> None:
        """Kill the worker and raise on a cancel (here or through the store) or past the time bound."""
        if self._stop.is_set():
            worker.kill()
            raise _Stopped()
        now = time.monotonic()
        if now >= deadline:
            worker.kill()
            raise _WorkerEnded(
                f"Local fleet: the job ran longer than {timeout} s ({TIMEOUT_VARIABLE}) and was stopped. "
                f"Use fewer qubits or shots, or raise {TIMEOUT_VARIABLE}."
            )
        if now >= self._next_store_check:
            self._next_store_check = now + STORE_POLL_SECONDS
            if self._cancel_asked_in_store():
                with self._lock:
                    if self._status == RUNNING:
                        self._finish(CANCELLED)
                worker.kill()
                raise _Stopped()

    def _finish(self, status: str, error: str | None = None) -> None:
        """Under ``self._lock``. A final status already in the store (a cancel from the server that landed after
        the job's last look) stands: the job takes it, and a cancelled job drops its result (one truth)."""
        self._status, self._finished = status, datetime.now(UTC)
        stored = self._store_update(status=status, finished=self._finished.isoformat(), error=error)
        if stored is not None and stored.status in FINAL_STATUSES and stored.status != status:
            self._status = stored.status
            if stored.status == CANCELLED:
                self._result, self._error = None, None
        self._finished_event.set()

    # -- RuntimeJobV2's API --------------------------------------------------------------------------------------
    def job_id(self) -> str:
        return self._job_id

    def backend(self, timeout: float | None = None) -> Any:
        return self._backend

    def status(self) -> str:
        with self._lock:
            pending = self._status in (QUEUED, RUNNING)
        if pending and time.monotonic() - self._last_store_check >= STORE_POLL_SECONDS:
            self._last_store_check = time.monotonic()
            if self._cancel_asked_in_store():
                with self._lock:
                    if self._status in (QUEUED, RUNNING):
                        if self._future is not None:
                            self._future.cancel()
                        self._finish(CANCELLED)
                        self._stop.set()
        with self._lock:
            return self._status

    def done(self) -> bool:
        return self.status() == DONE

    def running(self) -> bool:
        return self.status() == RUNNING

    def cancelled(self) -> bool:
        return self.status() == CANCELLED

    def errored(self) -> bool:
        return self.status() == ERROR

    def in_final_state(self) -> bool:
        return self.status() in FINAL_STATUSES

    def wait_for_final_state(self, timeout: float | None = None, poll_interval: float | None = None) -> None:
        """Block until the job is DONE, ERROR or CANCELLED; ``RuntimeJobTimeoutError`` after ``timeout`` s."""
        from qiskit_ibm_runtime.exceptions import RuntimeJobTimeoutError

        deadline = None if timeout is None else time.monotonic() + timeout
        step = max(0.05, poll_interval or STORE_POLL_SECONDS)
        while not self.in_final_state():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise RuntimeJobTimeoutError(f"Timed out waiting for job to complete after {timeout} secs.")
            self._finished_event.wait(step if left is None else min(step, left))

    def result(self, timeout: float | None = None, decoder: Any = None, poll_interval: float | None = None) -> Any:
        from qiskit_ibm_runtime.exceptions import RuntimeInvalidStateError, RuntimeJobFailureError

        self.wait_for_final_state(timeout=timeout, poll_interval=poll_interval)
        status = self.status()
        if status == ERROR:
            raise RuntimeJobFailureError(f"Unable to retrieve job result. {self._error}")
        if status == CANCELLED:
            raise RuntimeInvalidStateError(f"Unable to retrieve result for job {self._job_id}. Job was cancelled.")
        return self._result

    def cancel(self) -> None:
        from qiskit_ibm_runtime.exceptions import RuntimeInvalidStateError

        with self._lock:
            if self._status in FINAL_STATUSES:
                raise RuntimeInvalidStateError(
                    f"Job cannot be cancelled: job {self._job_id} is already {self._status}."
                )
            running_in_worker = self._status == RUNNING and self._task is not None
            if self._future is not None:
                self._future.cancel()
            self._finish(CANCELLED)
            self._stop.set()
            worker = self._worker_process
        if running_in_worker:
            if worker is not None:
                try:
                    worker.process.kill()  # a signal, not a wait: the job thread reaps it
                except OSError:  # pragma: no cover - already gone
                    pass
            self._stopped.wait(CANCEL_WAIT_SECONDS)  # the job thread notices within POLL_SECONDS and reaps it

    @property
    def worker_pid(self) -> int | None:
        """The pid of the worker process running this job now, else None."""
        return self._worker_pid

    def error_message(self) -> str | None:
        self.status()
        return self._error

    @property
    def creation_date(self) -> datetime:
        """In local time, as IBM's."""
        return self._created.astimezone()

    @property
    def tags(self) -> list[str] | None:
        """The job's tags; None when it was submitted with none, as IBM's."""
        return None if self._tags is None else list(self._tags)

    def update_tags(self, new_tags: list[str]) -> list[str]:
        self._tags = [str(tag) for tag in new_tags]
        self._store_update(tags=tuple(self._tags))
        return list(self._tags)

    @property
    def usage_estimation(self) -> dict[str, Any]:
        return {"quantum_seconds": 0.0}  # a local run uses no QPU time

    def usage(self, partial: bool = False) -> float:
        return 0.0

    def metrics(self) -> dict[str, Any]:
        """Timestamps (ISO-8601 UTC, as IBM's) and usage, plus how the job was simulated."""
        with self._lock:
            status, started, finished = self._status, self._started, self._finished
        return {
            "timestamps": {"created": _iso(self._created), "running": _iso(started), "finished": _iso(finished)},
            "bss": {"seconds": 0},
            "usage": {
                "quantum_seconds": 0,
                "seconds": 0,
                "qpu_charge_time_seconds": 0,
                "status": "complete" if status in FINAL_STATUSES else "pending",
            },
            "num_circuits": self._pubs,
            "qiskit_version": _qiskit_version(),
            "simulation": {"backend": self._backend.name, **self._plan.metadata()},
        }

    def logs(self) -> str:
        metrics = self.metrics()
        first = (
            f"{metrics['timestamps']['created']} local fleet: {self._primitive} job {self._job_id} on "
            f"{self._backend.name}, {self._pubs} PUB(s), queued"
        )
        lines = [first]
        if metrics["timestamps"]["running"]:
            simulation = metrics["simulation"]
            lines.append(
                f"{metrics['timestamps']['running']} running: {simulation['active_qubits']} active qubit(s), "
                f"method {simulation['method']}, noise {simulation['noise']}"
            )
        if metrics["timestamps"]["finished"]:
            lines.append(
                f"{metrics['timestamps']['finished']} {self._status.lower()}"
                + (f": {self._error}" if self._error else "")
            )
        return "\n".join(lines) + "\n"

    @property
    def session_id(self) -> str | None:
        return self._session_id

    @property
    def primitive_id(self) -> str:
        return self._program_id

    @property
    def inputs(self) -> Any:
        return self._inputs

    @property
    def instance(self) -> str | None:
        return None

    @property
    def private(self) -> bool:
        return False

    def properties(self, refresh: bool = False) -> Any:
        return self._backend.properties()

    @property
    def simulation(self) -> dict[str, Any]:
        """How this job is simulated: method, active qubits, and the approximation made (None: exact)."""
        return self._plan.metadata()

    def __repr__(self) -> str:
        return f"<LocalJob('{self._job_id}', '{self._backend.name}', '{self._status}')>"


def _qiskit_version() -> str | None:
    try:
        import qiskit

        return qiskit.__version__
    except ImportError:  # pragma: no cover
        return None


# -- the factory the runtime hook calls ------------------------------------------------------------------------------
def _observable_qubits(pubs: list[Any]) -> set[int]:
    qubits: set[int] = set()
    for pub in pubs:
        observables = getattr(pub, "observables", None)
        if observables is None:
            continue
        for term in observables.ravel().tolist():
            for label in term:
                qubits.update(i for i, char in enumerate(reversed(label)) if char != "I")
    return qubits


def make_job(
    kind: str,
    service: Any,
    backend: Any,
    original: Callable[..., Any],
    *,
    inputs: Any,
    options: Any,
    session_id: str | None = None,
) -> LocalJob:
    """Build, announce and queue the local job for ``original`` (called by the runtime hook)."""
    if kind == "executor":
        circuits = [item.circuit for item in getattr(inputs, "items", [])]
        pubs, shots, tags = len(circuits), getattr(inputs, "shots", None), None
        shot_counts = [shots] * len(circuits) if isinstance(shots, int) else []
        semantic = program_semantic_role(inputs) or ""
        primitive = "estimator" if "estimator" in semantic else "sampler"
        extra: set[int] = set()
    else:
        pub_list = list(inputs.get("pubs", [])) if isinstance(inputs, dict) else []
        circuits = [pub.circuit for pub in pub_list if hasattr(pub, "circuit")]
        primitive, pubs = kind, len(pub_list)
        primitive_options = inputs.get("options", {}) if isinstance(inputs, dict) else {}
        if kind == "sampler":
            default = primitive_options.get("default_shots") or 1024
            shot_counts = [getattr(pub, "shots", None) or default for pub in pub_list]
            shots = shot_counts[0] if shot_counts else default
        else:
            shots, shot_counts = None, []
        given = options.get("job_tags") if isinstance(options, dict) else None
        tags = None if given is None else [str(tag) for tag in given]
        if tags is not None and (len(tags) > MAX_TAGS or any(len(tag) > MAX_NAME for tag in tags)):
            raise LocalJobRefused(f"job_tags: use at most {MAX_TAGS} tags of at most {MAX_NAME} characters each.")
        extra = _observable_qubits(pub_list) if kind == "estimator" else set()
    # Read at each submission (a bad value fails here, one line), for the cache of the process that runs the job:
    # the worker's (sent in the task), or the kernel's for a job that runs in the kernel's job thread.
    noise_models = NOISE_MODELS.max_entries = noise_cache_entries()
    job_timeout()  # a bad QCONNECTOR_LOCAL_JOB_TIMEOUT fails here, one line, not when the job runs
    check_limits(backend, shot_counts, len(circuits))  # as IBM: refused at submission, one line
    active = tuple(sorted(set(active_qubits(circuits)) | extra))
    plan = plan_simulation(active, is_clifford(circuits))  # fails fast, one line, when it cannot fit
    for note in (plan.note(backend.name), run_time_note(backend.name, plan, circuits, shot_counts)):
        if note:
            warnings.warn(note, LocalSimulationNote, stacklevel=5)

    if kind == "executor":

        def run() -> Any:
            return original(simulator_for(backend, plan, circuits=circuits)).result()
    else:

        def run() -> Any:
            return original().result()

    task: dict[str, Any] = {"kind": kind, "backend": backend.name, "inputs": inputs, "noise_models": noise_models}
    if kind == "executor":
        task.update(plan=plan, circuits=circuits, options=options)
    try:
        payload: bytes | None = pickle.dumps(task)
    except Exception as error:  # noqa: BLE001 - a custom object in the inputs: run in the kernel's job thread
        logger.info("Local fleet: a job's inputs cannot be sent to the worker process (%s)", _one_line(error))
        payload = None
    job = LocalJob(
        backend,
        primitive,
        run,
        task=payload,
        plan=plan,
        inputs=inputs,
        pubs=pubs,
        shots=shots,
        tags=tags,
        session_id=session_id,
        store=_store(),
        program_id=kind,
    )
    return job._submit()


def install() -> bool:
    """Make the runtime's local service return :class:`LocalJob` for local-fleet backends (idempotent)."""
    from .runtime_internals import install_local_job_hook

    return install_local_job_hook(make_job)
