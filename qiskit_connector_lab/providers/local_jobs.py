"""Local-fleet jobs that answer like IBM's ``RuntimeJobV2``, run off the calling thread, and are recorded.

``SamplerV2(mode=backend).run(...)``, ``EstimatorV2``, ``executor_sampler.Sampler`` and the executor Estimator on a
local-fleet backend (in job, Session or Batch mode) return a :class:`LocalJob`:

* ``status()`` is IBM's string (``"QUEUED"``, ``"RUNNING"``, ``"DONE"``, ``"CANCELLED"``, ``"ERROR"``);
* ``job_id()``, ``backend()``, ``creation_date``, ``tags``, ``usage_estimation``, ``metrics()``, ``logs()``,
  ``wait_for_final_state()``, ``done()``/``running()``/``cancelled()``/``errored()``, ``result()``, ``cancel()``,
  ``usage()``, ``error_message()``, ``session_id``, ``primitive_id``, ``inputs``, ``properties()``, as IBM's;
* jobs wait in one queue and run one at a time on a worker thread (the simulator uses the cores), so a notebook
  can submit several and carry on; a job can be cancelled until it has finished (a running simulation cannot be
  interrupted, so its result is dropped);
* every job is recorded in the local job store (:mod:`qiskit_connector_lab.jobs`), so the sidebar and ``%qjobs``
  see the jobs of every kernel; a cancel asked through the store (the server) is honoured before the job starts
  and drops its result after;
* ``result().metadata["local_fleet"]`` says how it was simulated (method, active qubits, exact or approximated
  noise), and an approximation is also said at submission in a one-line :class:`LocalSimulationNote` warning.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import warnings
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from ..jobs.records import CANCELLED, DONE, ERROR, FINAL_STATUSES, QUEUED, RUNNING, JobRecord
from .local_simulator import (
    NOISE_MODELS,
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

_executor: dict[str, ThreadPoolExecutor] = {}  # the one worker, made on first use
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


def _worker() -> ThreadPoolExecutor:
    with _executor_lock:
        if "worker" not in _executor:
            _executor["worker"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qcl-local-job")
        return _executor["worker"]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def _store() -> Any:
    from ..jobs.local_store import LocalJobStore

    return LocalJobStore()


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
    ) -> None:
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
        _register(self)
        self._record()

    # -- the store: best effort, never the job's failure ---------------------------------------------------------
    def _record(self) -> None:
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
        self._future = _worker().submit(self._execute)
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
            result = self._run_fn()
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

    def _finish(self, status: str, error: str | None = None) -> None:
        """Under ``self._lock``."""
        self._status, self._finished = status, datetime.now(UTC)
        self._store_update(status=status, finished=self._finished.isoformat(), error=error)
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
            if self._future is not None:
                self._future.cancel()
            self._finish(CANCELLED)

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
        semantic = program_semantic_role(inputs) or ""
        primitive = "estimator" if "estimator" in semantic else "sampler"
        extra: set[int] = set()
    else:
        pub_list = list(inputs.get("pubs", [])) if isinstance(inputs, dict) else []
        circuits = [pub.circuit for pub in pub_list if hasattr(pub, "circuit")]
        primitive, pubs = kind, len(pub_list)
        primitive_options = inputs.get("options", {}) if isinstance(inputs, dict) else {}
        if kind == "sampler":
            shots = next((pub.shots for pub in pub_list if getattr(pub, "shots", None)), None)
            shots = shots or primitive_options.get("default_shots") or 1024
        else:
            shots = None
        given = options.get("job_tags") if isinstance(options, dict) else None
        tags = None if given is None else list(given)
        extra = _observable_qubits(pub_list) if kind == "estimator" else set()
    NOISE_MODELS.max_entries = noise_cache_entries()  # read at each submission: a bad value fails here, one line
    active = tuple(sorted(set(active_qubits(circuits)) | extra))
    plan = plan_simulation(active, is_clifford(circuits))  # fails fast, one line, when it cannot fit
    note = plan.note(backend.name)
    if note:
        warnings.warn(note, LocalSimulationNote, stacklevel=5)

    if kind == "executor":

        def run() -> Any:
            return original(simulator_for(backend, plan, circuits=circuits)).result()
    else:

        def run() -> Any:
            return original().result()

    job = LocalJob(
        backend,
        primitive,
        run,
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
