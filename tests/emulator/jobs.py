"""The emulator's jobs API: what the real client (0.51) sends and reads for Sampler/Estimator jobs.

Routes (under ``/api/v1``, all behind the same bearer check and Service-CRN instance as the rest):

=============================  ======================================================================
POST   jobs                    submit (``program_id`` sampler/estimator/executor, ``params``, ``backend``,
                               ``session_id``, ``tags``) -> ``{id, backend}``
GET    jobs                    list: ``limit``, ``offset``, ``pending``, ``backend``, ``program``,
                               ``tags`` (all must match), ``session_id``, ``sort=ASC``;
                               ``count`` is the total number of matches (the client pages on it)
GET    jobs/{id}               ``state.status`` (Queued/Running/Completed/Cancelled/Failed), ...
GET    jobs/{id}/results       RuntimeEncoder JSON of the PrimitiveResult
POST   jobs/{id}/cancel        204; 409 when the job is already final
GET    jobs/{id}/metrics       timestamps and ``usage.{status, qpu_charge_time_seconds}``
GET    jobs/{id}/logs          text
PUT    jobs/{id}/tags          ``{"tags": [...]}`` -> 204
DELETE jobs/{id}               204
=============================  ======================================================================

A job is **queued** for ``emulator.job_queue_seconds``, then **running** for ``job_run_seconds`` (and until its
simulation is done), then **done**. ``emulator.hold_jobs = True`` keeps new jobs queued until
``emulator.release_jobs()``, so tests can see a queued job without timing anything.

Jobs run for real: the PUBs are decoded (QPY) and simulated with qiskit-aer on the qubits the circuit uses only
(an ISA circuit spans all 133-156 qubits of the device). The ``executor`` program (what ``executor_sampler.Sampler``
and ``executor_estimator.Estimator`` send: a quantum program, see ``run_executor``) runs through the client's own
local runner and answers in the executor's result schema. Decoding and simulating happen on ONE long-lived worker
thread for the whole process: qiskit 2.6's QPY reader can crash when the thread that first imported qiskit has
exited and a later load runs on another thread.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

from .server import Response

if TYPE_CHECKING:  # pragma: no cover
    from .emulator import IBMQuantumEmulator, Instance, Request

FINAL = ("Completed", "Cancelled", "Failed")
PENDING = ("Queued", "Running")
DEFAULT_SHOTS = 4096


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    from datetime import datetime

    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ------------------------------------------------------------------------------------------ the one worker thread
class _Worker:
    """One daemon thread, for the whole process, that runs callables in order."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], None]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="qcl-emulated-jobs", daemon=True)
                self._thread.start()
        self._queue.put(fn)

    def _run(self) -> None:
        while True:
            fn = self._queue.get()
            try:
                fn()
            except Exception:
                pass


WORKER = _Worker()


# ------------------------------------------------------------------------------------------------ simulation
def _shrink(circuit: Any) -> tuple[Any, list[int]]:
    """The circuit on only the qubits its operations touch (barriers and delays dropped), and those qubits."""
    from qiskit import QuantumCircuit

    skip = {"barrier", "delay"}
    active = sorted(
        {circuit.find_bit(q).index for inst in circuit.data if inst.operation.name not in skip for q in inst.qubits}
    )
    where = {circuit.qubits[i]: k for k, i in enumerate(active)}
    small = QuantumCircuit(len(active), name=circuit.name, global_phase=circuit.global_phase)
    for creg in circuit.cregs:
        small.add_register(creg)
    for inst in circuit.data:
        if inst.operation.name in skip:
            continue
        small.append(inst.operation, [small.qubits[where[q]] for q in inst.qubits], inst.clbits, copy=False)
    return small, active


def _shrink_observable(obs: dict[str, float], n: int, active: list[int]) -> dict[str, float]:
    """A {pauli label: coeff} on n qubits, restricted to ``active``: Z/I there is +1, X/Y there drops the term."""
    kept = set(active)
    out: dict[str, float] = {}
    for label, coeff in obs.items():
        if any(label[n - 1 - q] in "XY" for q in range(n) if q not in kept):
            continue
        small = "".join(label[n - 1 - q] for q in reversed(active)) or "I"
        out[small] = out.get(small, 0.0) + coeff
    return out or {"I" * max(len(active), 1): 0.0}


def run_primitive(program: str, params: dict[str, Any], seed: int) -> str:
    """Decode the params, simulate, and return the RuntimeEncoder JSON of the PrimitiveResult."""
    import numpy as np
    from qiskit.primitives import PrimitiveResult
    from qiskit.primitives.containers import DataBin, PubResult, SamplerPubResult
    from qiskit_ibm_runtime import RuntimeDecoder, RuntimeEncoder

    if program == "executor":
        return run_executor(params, seed)
    decoded = json.loads(json.dumps(params), cls=RuntimeDecoder)
    options = decoded.get("options") or {}
    results = []
    if program == "sampler":
        from qiskit_aer.primitives import SamplerV2 as AerSampler

        default_shots = options.get("default_shots") or DEFAULT_SHOTS
        for pub in decoded["pubs"]:
            circuit, values, shots = [*pub, None, None][:3]
            small, _ = _shrink(circuit)
            run = AerSampler(seed=seed).run([(small, values, shots or default_shots)]).result()[0]
            results.append(SamplerPubResult(run.data, metadata={"shots": int(shots or default_shots)}))
    elif program == "estimator":
        from qiskit_aer.primitives import EstimatorV2 as AerEstimator

        precision_default = options.get("default_precision") or 0.015625
        for pub in decoded["pubs"]:
            circuit, observables, values, precision = [*pub, None, None, None][:4]
            small, active = _shrink(circuit)
            n = circuit.num_qubits
            obs = np.asarray(observables, dtype=object)
            flat = [_shrink_observable(dict(o), n, active) for o in obs.ravel()]
            shaped = np.empty(len(flat), dtype=object)
            shaped[:] = flat
            shaped = shaped.reshape(obs.shape)
            run = (
                AerEstimator(options={"run_options": {"seed": seed}})
                .run([(small, shaped.tolist(), values, precision or precision_default)])
                .result()[0]
            )
            results.append(
                PubResult(
                    DataBin(evs=run.data.evs, stds=run.data.stds, shape=run.data.shape),
                    metadata={"target_precision": precision or precision_default},
                )
            )
    else:
        raise ValueError(f"program {program!r} is not emulated (only executor, sampler and estimator)")
    return json.dumps(PrimitiveResult(results, metadata={"version": 2}), cls=RuntimeEncoder)


def run_executor(params: dict[str, Any], seed: int) -> str:
    """Run an ``executor`` quantum program (what ``executor_sampler.Sampler`` and the executor Estimator send).

    The params are the client's own schema (``schema_version``, ``quantum_program``: QPY circuits and items, plain
    or samplex), decoded with the client's converters; the program runs noiselessly on Aer through the client's
    local runner (which truncates the ISA circuit to the qubits it uses), and the answer is the executor's result
    schema of the same version, which the client decodes and post-processes into a ``PrimitiveResult``.
    """
    import numpy as np
    from ibm_quantum_schemas.common.tensor import CompressedTensorModel
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime.fake_provider.executor.run_quantum_program import run_quantum_program
    from qiskit_ibm_runtime.options_models.simulator import SimulatorOptions
    from qiskit_ibm_runtime.quantum_program.params_converters import QUANTUM_PROGRAM_PARAMS_CONVERTERS

    version = params.get("schema_version")
    if version not in QUANTUM_PROGRAM_PARAMS_CONVERTERS:
        raise ValueError(f"executor schema_version {version!r} is not one the client knows")
    converter = QUANTUM_PROGRAM_PARAMS_CONVERTERS[version]
    quantum_program, _options = converter.decoder(converter.model.model_validate(params))
    for item in quantum_program.items:
        samplex = getattr(item, "samplex", None)
        if samplex is not None:
            samplex.finalize()  # a decoded samplex is not finalized yet (IBM's server finalizes it too)
    ran = run_quantum_program(AerSimulator(), quantum_program, SimulatorOptions(seed_simulator=seed))
    items = [
        {
            "results": {
                name: CompressedTensorModel.from_numpy(np.asarray(value)).model_dump(mode="json")
                for name, value in item.items()
            },
            "metadata": {},
        }
        for item in ran
    ]
    sent = params["quantum_program"]
    return json.dumps(
        {
            "schema_version": version,
            "data": items,
            "metadata": {"chunk_timing": []},
            "passthrough_data": sent.get("passthrough_data"),
            "semantic_role": sent.get("semantic_role"),
        }
    )


def _count_items(params: dict[str, Any]) -> int:
    """How many PUBs (sampler, estimator) or quantum-program items (executor) a job's params hold."""
    program = params.get("quantum_program")
    items = program.get("items") if isinstance(program, dict) else params.get("pubs")
    return len(items) if isinstance(items, list) else 0


# ---------------------------------------------------------------------------------------------------- jobs
@dataclass
class EmulatedJob:
    id: str
    backend: str
    program: str
    instance: str
    params: dict[str, Any]
    session_id: str | None
    tags: list[str]
    created: float
    queue_for: float
    run_for: float
    held: bool = False
    started: float | None = None
    finished: float | None = None
    status: str = "Queued"
    reason: str | None = None
    reason_code: int | None = None
    result: str | None = None
    sim_done: threading.Event = field(default_factory=threading.Event)
    sim_error: str | None = None
    sim_finished: float | None = None

    def advance(self, now: float) -> None:
        if self.status in FINAL:
            return
        if self.status == "Queued" and not self.held and now >= self.created + self.queue_for:
            self.status, self.started = "Running", max(self.created + self.queue_for, self.created)
        if (
            self.status == "Running"
            and self.started is not None
            and now >= self.started + self.run_for
            and self.sim_done.is_set()
        ):
            self.finished = max(self.started + self.run_for, self.sim_finished or self.started)
            if self.sim_error:
                self.status, self.reason, self.reason_code = "Failed", self.sim_error, 1517
            else:
                self.status = "Completed"

    def view(self) -> dict[str, Any]:
        state: dict[str, Any] = {"status": self.status}
        if self.reason:
            state["reason"] = self.reason
        if self.reason_code:
            state["reason_code"] = self.reason_code
        charge = None if self.finished is None or self.started is None else round(self.finished - self.started, 3)
        return {
            "id": self.id,
            "backend": self.backend,
            "state": state,
            "status": self.status,
            "program": {"id": self.program},
            "created": _iso(self.created),
            "session_id": self.session_id,
            "tags": list(self.tags),
            "runtime": "",
            "private": False,
            "user_id": "emulator-user",
            "estimated_running_time_seconds": self.run_for,
            "usage": {"seconds": charge or 0, "quantum_seconds": charge or 0},
            "bss": {"seconds": charge or 0},
        }


class JobsAPI:
    """The jobs of one emulator (any instance); see the module docstring."""

    def __init__(self, emulator: IBMQuantumEmulator) -> None:
        self._emu = emulator
        self._lock = threading.RLock()
        self._jobs: dict[str, EmulatedJob] = {}
        self._seq = 0

    # -- test controls ---------------------------------------------------------------------------------------
    def all(self) -> list[EmulatedJob]:
        with self._lock:
            now = time.time()
            for job in self._jobs.values():
                job.advance(now)
            return list(self._jobs.values())

    def release(self, job_id: str | None = None) -> None:
        with self._lock:
            now = time.time()
            for job in self._jobs.values():
                if job.held and (job_id is None or job.id == job_id):
                    job.held = False
                    job.queue_for = max(0.0, now - job.created)

    def wait_simulated(self, timeout: float = 120.0) -> None:
        for job in list(self._jobs.values()):
            job.sim_done.wait(timeout)

    # -- routes ----------------------------------------------------------------------------------------------
    def route(self, request: Request, inst: Instance, parts: list[str], empty: bool) -> Response:
        method = request.method
        emu = self._emu

        def only(*allowed: str) -> Response | None:
            return None if method in allowed else emu._error(405, f"Method {method} not allowed on {request.path}.")

        if len(parts) == 1:
            if method == "POST":
                return self._submit(request, inst)
            return only("GET") or self._list(request, inst, empty)
        job = self._get(inst, parts[1])
        if job is None:
            return emu._error(404, f"Job {parts[1]} not found.")
        if len(parts) == 2:
            if method == "DELETE":
                with self._lock:
                    self._jobs.pop(job.id, None)
                return Response(204)
            return only("GET") or Response.json(200, {} if empty else job.view())
        what = parts[2] if len(parts) == 3 else ""
        if what == "cancel":
            return only("POST") or self._cancel(job)
        if what == "results":
            return only("GET") or self._results(job)
        if what == "metrics":
            return only("GET") or Response.json(200, {} if empty else self._metrics(job))
        if what == "logs":
            return only("GET") or Response(
                200, f"{_iso(job.created)} job {job.id}: {job.status}\n".encode(), content_type="text/plain"
            )
        if what == "tags":
            if method != "PUT":
                return only("PUT")  # type: ignore[return-value]
            try:
                body = request.json() or {}
            except ValueError:
                return emu._error(400, "Request body is not valid JSON.")
            tags = body.get("tags") if isinstance(body, dict) else None
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                return emu._error(400, "'tags' must be a list of strings.")
            with self._lock:
                job.tags = list(tags)
            return Response(204)
        return emu._error(404, f"No route for {method} {request.path}.")

    def _get(self, inst: Instance, job_id: str) -> EmulatedJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.instance != inst.crn:
                return None
            job.advance(time.time())
            return job

    def _submit(self, request: Request, inst: Instance) -> Response:
        emu = self._emu
        try:
            body = request.json() or {}
        except ValueError:
            return emu._error(400, "Request body is not valid JSON.")
        if not isinstance(body, dict):
            return emu._error(400, "Request body must be a JSON object.")
        program = body.get("program_id")
        if program not in ("executor", "sampler", "estimator"):
            return emu._error(400, f"Program {program!r} is not available in this emulator.")
        backend = body.get("backend")
        if not backend:
            return emu._error(400, "'backend' is required.")
        params = body.get("params")
        if program == "executor":
            if not isinstance(params, dict) or not isinstance(params.get("quantum_program"), dict):
                return emu._error(400, "'params.quantum_program' must be an object.")
        elif not isinstance(params, dict) or not isinstance(params.get("pubs"), list):
            return emu._error(400, "'params.pubs' must be a list.")
        session_id = body.get("session_id")
        tags = body.get("tags") or []
        with emu._lock:
            qpu = emu._qpus.get(backend)
            visible = qpu is not None and (inst.backends is None or backend in inst.backends)
            session = emu._sessions.get(session_id) if session_id else None
        if not visible:
            return emu._error(404, f"Backend {backend} not found.")
        if session_id and (session is None or session["instance"] != inst.crn):
            return emu._error(404, f"Session {session_id} not found.")
        if session is not None and not session.get("accepting_jobs", True):
            return emu._error(400, f"Session {session_id} is closed and accepts no more jobs.")
        with self._lock:
            self._seq += 1
            job = EmulatedJob(
                id="d" + uuid.UUID(int=emu._rng.getrandbits(128), version=4).hex[:19],
                backend=backend,
                program=program,
                instance=inst.crn,
                params=params,
                session_id=session_id,
                tags=[str(t) for t in tags],
                created=time.time(),
                queue_for=float(emu.job_queue_seconds),
                run_for=float(emu.job_run_seconds),
                held=bool(emu.hold_jobs),
            )
            self._jobs[job.id] = job
            seed = self._seq

        def simulate() -> None:
            try:
                job.result = run_primitive(job.program, job.params, seed)
            except Exception as exc:
                job.sim_error = f"The job failed: {type(exc).__name__}: {exc}"[:300]
                emu._job_errors.append(traceback.format_exc())
            finally:
                job.sim_finished = time.time()
                job.sim_done.set()

        WORKER.submit(simulate)
        return Response.json(200, {"id": job.id, "backend": backend})

    def _list(self, request: Request, inst: Instance, empty: bool) -> Response:
        emu = self._emu
        query = request.query
        try:
            limit = max(1, min(int(query.get("limit", "200")), 200))
            offset = max(0, int(query.get("offset", "0")))
        except ValueError:
            return emu._error(400, "'limit' and 'offset' must be integers.")
        pending = query.get("pending")
        if pending not in (None, "true", "false"):
            return emu._error(400, "'pending' must be true or false.")
        tags = set(request.query_list("tags"))
        now = time.time()
        with self._lock:
            matches = []
            for job in self._jobs.values():
                job.advance(now)
                if job.instance != inst.crn or empty:
                    continue
                if pending == "true" and job.status not in PENDING:
                    continue
                if pending == "false" and job.status in PENDING:
                    continue
                if query.get("backend") and job.backend != query["backend"]:
                    continue
                if query.get("program") and job.program != query["program"]:
                    continue
                if query.get("session_id") and job.session_id != query["session_id"]:
                    continue
                if tags and not tags <= set(job.tags):
                    continue
                matches.append(job)
            matches.sort(key=lambda j: j.created, reverse=query.get("sort", "DESC").upper() != "ASC")
            page = [job.view() for job in matches[offset : offset + limit]]
        return Response.json(200, {"jobs": page, "count": len(matches), "limit": limit, "offset": offset})

    def _cancel(self, job: EmulatedJob) -> Response:
        with self._lock:
            job.advance(time.time())
            if job.status in FINAL:
                return self._emu._error(
                    409, f"Job {job.id} is {job.status.lower()} and cannot be cancelled.", code=1213
                )
            job.status, job.finished = "Cancelled", time.time()
            job.reason = "Cancelled by the user."
        return Response(204)

    def _results(self, job: EmulatedJob) -> Response:
        with self._lock:
            job.advance(time.time())
            status, result = job.status, job.result
        if status == "Failed":  # IBM answers a failed job's results with its error text (the client reads it)
            return Response(200, (job.reason or "The job failed.").encode(), content_type="text/plain")
        if status != "Completed" or result is None:
            return self._emu._error(404, f"Job {job.id} has no results (it is {status.lower()}).")
        return Response(200, result.encode())

    def _metrics(self, job: EmulatedJob) -> dict[str, Any]:
        charge = None if job.finished is None or job.started is None else round(job.finished - job.started, 3)
        done = job.status in FINAL
        out: dict[str, Any] = {
            "timestamps": {"created": _iso(job.created), "running": _iso(job.started), "finished": _iso(job.finished)},
            "bss": {"seconds": charge or 0},
            "usage": {
                "status": "completed" if done else "pending",
                "quantum_seconds": charge or 0,
                "seconds": charge or 0,
                "qpu_charge_time_seconds": charge or 0,
            },
            "executions": _count_items(job.params),
            "num_circuits": _count_items(job.params),
            "num_qubits": [],
            "qiskit_version": "emulated",
            "caller": "qiskit_ibm_runtime",
        }
        if job.status == "Queued":
            out["position_in_queue"] = 1
        return out
