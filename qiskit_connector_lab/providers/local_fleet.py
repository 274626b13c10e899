"""The embedded offline fleet: qiskit-ibm-runtime's fake backends with simulated, moving queues.

It is the default when no IBM credentials are configured, and it always says it is local: its QPUs keep the
fake backends' ``fake_*`` names, its provider kind is ``"local"`` and its instance is "local fleet".

* The listing is read straight from the fake backends' ``conf_*.json`` snapshots (no import of the IBM client).
* Queue depth is simulated: a slow wave per QPU plus a per-step jitter, derived from a seed and the clock, so
  it changes over time, is plausible (busy big machines, quiet small ones) and is reproducible for a seed.
* Overrides, for demos and tests: :meth:`LocalFleet.set_queue` / :meth:`set_status` in-process, or a JSON file
  named by ``QCONNECTOR_FLEET_FILE`` (``{"fake_fez": {"queue": 3, "status": "paused"}}``), re-read when it changes.
  ``{"_outage": "reason"}`` in that file simulates an IBM outage: listings fail until it is removed, so a class can
  see what the sidebar and the magics do when IBM is down.
* Backends are the fake backends of the real chips (same target, coupling map, calibration, configuration and
  properties), whose runs simulate only the qubits a circuit touches, with those qubits' noise
  (:mod:`.local_simulator`); their Sampler/Estimator jobs behave like IBM's and are recorded in the local job store
  (:mod:`.local_jobs`, :mod:`qiskit_connector_lab.jobs`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..config.values import fake_backend_names
from ..errors import ConfigError, ServerError, UnknownBackend
from ..files import read_bounded
from ..jobs import JobNotFound, LocalJobStore
from ..plans import InstanceInfo, Plan, PlanCheck
from ..qpus import ONLINE, PAUSED, QPU, STATUSES, Listing, whole_number
from .base import JobsPage, Provider, Usage
from .local_simulator import statevector_limit

#: The default fleet: Heron r1/r2/r3, Nighthawk, Eagle r3, Egret and Falcon (27 and 5 qubits).
DEFAULT_MEMBERS = (
    "fez",
    "torino",
    "aachen",
    "nighthawk",
    "brisbane",
    "sherbrooke",
    "kyiv",
    "prague",
    "kolkata",
    "manila",
)

_FLEET_NOTE = (
    "Local fleet: fake backends with simulated queues; jobs run on this machine, simulating the qubits a "
    "circuit uses with their calibrated noise; beyond {limit} active qubits the noise is approximated, "
    "as each such job says."
)

STEP_SECONDS = 10.0  # the simulated queue moves every STEP_SECONDS
FLEET_FILE_VARIABLE = "QCONNECTOR_FLEET_FILE"


def _backends_dir() -> Path:
    spec = importlib.util.find_spec("qiskit_ibm_runtime")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "qiskit-ibm-runtime",
            "is not installed, so the local fleet has no backends.",
            "pip install qiskit-ibm-runtime",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "fake_provider" / "backends"


@dataclass(frozen=True)
class _Member:
    folder: str
    name: str
    qubits: int
    family: str | None
    revision: str | None
    version: str | None
    clops: int | None


def _read_member(folder: str) -> _Member:
    """A member of the fleet, from its configuration snapshot. The path is built only from a name the client's
    ``fake_provider`` lists (the settings refuse other names too): ``/tmp/x`` or ``../x`` never reads a file."""
    backends = _backends_dir()
    listed = {name: name for name in fake_backend_names()}.get(folder) if isinstance(folder, str) else None
    conf_files = sorted((backends / listed).glob("conf_*.json")) if listed is not None else []
    if not conf_files:
        raise ConfigError(
            "QCONNECTOR_FLEET",
            f"names {folder!r}, which is not a fake backend.",
            "Use names of qiskit_ibm_runtime.fake_provider backends, e.g. fez,brisbane.",
        )
    conf = json.loads(conf_files[0].read_text())
    processor = conf.get("processor_type") or {}
    revision = processor.get("revision")
    return _Member(
        folder=folder,
        name=f"fake_{folder}",
        qubits=int(conf.get("n_qubits") or 0),
        family=processor.get("family"),
        revision=None if revision is None else str(revision),
        version=conf.get("backend_version"),
        clops=whole_number(conf.get("clops_h")),  # some snapshots hold the string "None"
    )


def _unit(*parts: object) -> float:
    """A reproducible number in [0, 1) from the parts."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class LocalFleet(Provider):
    kind = "local"

    def __init__(
        self,
        settings: Settings,
        *,
        members: tuple[str, ...] | None = None,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        maintenance_rate: float = 0.04,
    ) -> None:
        super().__init__(settings, clock)
        # QCONNECTOR_FLEET / _SEED / _FILE are resolved by the settings (argument > environment > .env).
        if members is None:
            members = getattr(settings, "fleet", None)
        if seed is None:
            seed = getattr(settings, "fleet_seed", None)
        self.seed = 0 if seed is None else seed
        self._wall_clock = wall_clock
        self.maintenance_rate = maintenance_rate
        self._members = [_read_member(folder) for folder in (members or DEFAULT_MEMBERS)]
        self._overrides: dict[str, dict[str, Any]] = {}
        self._file_overrides: dict[str, dict[str, Any]] = {}
        self._file_mtime: float | None = None
        self._outage: str | None = None  # a simulated upstream outage, from the fleet file's "_outage"
        self._file_problem: str | None = None  # why the fleet file cannot be read (one line), else None
        self._backends: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- simulation ------------------------------------------------------------------------------------------
    def _simulated(self, member: _Member, now: float) -> tuple[str, str, int]:
        """(status, reason, queue) for a member at wall time ``now``."""
        # Bigger, newer chips attract more work; every chip has its own rhythm.
        load = 2 + 40 * _unit(self.seed, member.name, "load") + member.qubits / 8
        period = 600 + 1800 * _unit(self.seed, member.name, "period")
        phase = 2 * math.pi * _unit(self.seed, member.name, "phase")
        step = math.floor(now / STEP_SECONDS)
        wave = 1 + 0.6 * math.sin(2 * math.pi * now / period + phase)
        jitter = (_unit(self.seed, member.name, step) - 0.5) * 0.3 * load
        queue = max(0, round(load * wave + jitter))
        window = math.floor(now / 900)  # a 15-minute calibration window, now and then
        if _unit(self.seed, member.name, "maintenance", window) < self.maintenance_rate:
            return PAUSED, "calibration (simulated)", queue
        return ONLINE, "", queue

    def set_queue(self, name: str, queue: int | None) -> None:
        """Pin a QPU's queue (None to let the simulation run again)."""
        self._member(name)
        with self._lock:
            entry = self._overrides.setdefault(name, {})
            if queue is None:
                entry.pop("queue", None)
            else:
                entry["queue"] = int(queue)
            self._listing = None  # the next listing must show it

    def set_status(self, name: str, status: str | None, reason: str = "") -> None:
        """Pin a QPU's status ("online", "paused", "offline"; None to let the simulation run again)."""
        self._member(name)
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        with self._lock:
            entry = self._overrides.setdefault(name, {})
            if status is None:
                entry.pop("status", None)
                entry.pop("reason", None)
            else:
                entry["status"], entry["reason"] = status, reason
            self._listing = None

    def _fleet_file(self) -> str | None:
        path = getattr(self.settings, "fleet_file", None)
        return str(path) if path else None

    def _read_fleet_file(self) -> dict[str, dict[str, Any]]:
        path = self._fleet_file()
        if not path:
            self._outage = self._file_problem = None
            return {}
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            self._outage = self._file_problem = None
            return {}
        if mtime != self._file_mtime:
            try:
                # A regular file of at most 1 MB, opened without blocking: a FIFO or a device is one line.
                data = json.loads(read_bounded(path, variable=FLEET_FILE_VARIABLE))
                self._file_problem = None
            except ConfigError as error:
                data = None
                self._file_problem = f"{error} Its overrides are ignored until then."
                self._file_overrides, self._outage, self._file_mtime = {}, None, mtime
            except (OSError, ValueError):
                data = None  # a half-written file: keep the last good overrides
            if isinstance(data, dict):
                self._file_overrides = {k: self._valid_override(v) for k, v in data.items() if isinstance(v, dict)}
                outage = data.get("_outage")
                self._outage = " ".join(outage.split())[:200] if isinstance(outage, str) and outage.strip() else None
                self._file_mtime = mtime
        return self._file_overrides

    @staticmethod
    def _valid_override(entry: dict[str, Any]) -> dict[str, Any]:
        """Keep the usable fields of a fleet-file entry: a whole queue >= 0, a known status (others dropped)."""
        clean: dict[str, Any] = {}
        queue = entry.get("queue")
        if isinstance(queue, int) and not isinstance(queue, bool) and queue >= 0:
            clean["queue"] = queue
        if entry.get("status") in STATUSES:
            clean["status"], clean["reason"] = entry["status"], str(entry.get("reason", ""))
        return clean

    def _member(self, name: str) -> _Member:
        for member in self._members:
            if member.name == name:
                return member
        raise UnknownBackend(
            f"QPU {name!r} is not in the local fleet. It has: {', '.join(m.name for m in self._members)}."
        )

    def _fetch_listing(self) -> Listing:
        now = self._wall_clock()
        file_overrides = self._read_fleet_file()
        if self._outage:
            raise ServerError(
                f"Simulated outage of the local fleet: {self._outage.rstrip('.')}. "
                f'Remove "_outage" from {FLEET_FILE_VARIABLE} to end it.',
                503,
            )
        qpus = []
        with self._lock:
            for member in self._members:
                status, reason, queue = self._simulated(member, now)
                for source in (file_overrides.get(member.name, {}), self._overrides.get(member.name, {})):
                    queue = int(source.get("queue", queue))
                    if "status" in source:
                        status, reason = source["status"], source.get("reason", "")
                qpus.append(
                    QPU(
                        name=member.name,
                        status=status,
                        status_reason=reason,
                        qubits=member.qubits,
                        queue=queue,
                        family=member.family,
                        revision=member.revision,
                        clops=member.clops,
                        version=member.version,
                    )
                )
        return Listing(
            qpus=tuple(qpus),
            fetched_at=datetime.fromtimestamp(now, UTC),
            provider="local",
            notes=(_FLEET_NOTE.format(limit=statevector_limit()),)
            + ((self._file_problem,) if self._file_problem else ()),
        )

    def listing(self, max_age: float | None = None) -> Listing:
        path = self._fleet_file()
        if path:
            try:
                if os.stat(path).st_mtime != self._file_mtime:
                    max_age = 0  # the fleet file changed: show it now
            except OSError:
                pass
        return super().listing(max_age)

    # -- backends, plan, modes -------------------------------------------------------------------------------
    def backend(self, name: str) -> Any:
        member = self._member(name)
        with self._lock:
            if name not in self._backends:
                from . import local_jobs
                from .local_simulator import local_backend_class_named

                local_jobs.install()  # the runtime's local mode returns local-fleet jobs for these backends
                local_jobs.prestart_worker(member.name)  # the first job finds its worker process warm
                backend_class = local_backend_class_named(member.name)
                if backend_class is None:
                    raise UnknownBackend(f"No fake backend class is named {member.name!r}.")
                with warnings.catch_warnings():
                    # fake_nighthawk warns that its error values are not typical: true of every fake
                    # backend, and the fleet already says it is a simulation.
                    warnings.filterwarnings("ignore", message="Properties of fake_", category=UserWarning)
                    self._backends[name] = backend_class()  # the warning: at __init__
                # The target (the calibration decoded: 1-2 s for a large chip) is built in the background,
                # so the connect returns first; a transpile that comes sooner waits for it.
                self._backends[name].build_target_in_background()
            return self._backends[name]

    def instance(self) -> InstanceInfo:
        plan = self.settings.plan or Plan.OPEN
        return InstanceInfo(name="local fleet", crn=None, plan_name=plan.value, pricing_type="local")

    def check_plan(self) -> PlanCheck:
        plan = self.settings.plan or Plan.OPEN
        return PlanCheck(plan, False, ("Local fleet: the plan is simulated; nothing is checked against IBM.",))

    def usage(self) -> Usage | None:
        return None  # local runs cost no quantum time

    def open_mode(self, backend: Any, mode: str) -> Any:
        from qiskit_ibm_runtime import Batch, Session

        return (Session if mode == "session" else Batch)(backend=backend)

    def configuration(self, name: str) -> dict[str, Any]:
        member = self._member(name)
        conf_files = sorted((_backends_dir() / member.folder).glob("conf_*.json"))
        data = json.loads(conf_files[0].read_text())
        data["backend_name"] = member.name
        return data

    def properties(self, name: str) -> dict[str, Any] | None:
        member = self._member(name)
        files = sorted((_backends_dir() / member.folder).glob("props_*.json"))
        if not files:
            return None
        data = json.loads(files[0].read_text())
        data["backend_name"] = member.name
        return data

    # -- jobs: the per-user local job store, written by every kernel that runs a job on this fleet ------------
    def job_store(self) -> LocalJobStore:
        return LocalJobStore()  # the path and N come from the environment each time (tests change them)

    def jobs(self, pending: bool = False, backend: str | None = None, limit: int = 20, offset: int = 0) -> JobsPage:
        records, total = self.job_store().list(pending=pending, backend=backend, limit=limit, offset=offset)
        return JobsPage(tuple(records), total, "local")

    def job_detail(self, job_id: str) -> dict[str, Any]:
        record = self.job_store().get(job_id)
        if record is None:
            raise JobNotFound(f"No local job has the id {job_id!r}.")
        return dict(record.as_dict(), usage_seconds=None)  # local runs cost no quantum time

    def cancel_job(self, job_id: str) -> str:
        return self.job_store().request_cancel(job_id)

    def job_handle(self, job_id: str) -> Any:
        """The job object if this process ran it, else its record (a local job lives in the kernel that ran it)."""
        from .local_jobs import live_job

        running = live_job(job_id)
        if running is not None:
            return running
        record = self.job_store().get(job_id)
        if record is None:
            raise JobNotFound(f"No local job has the id {job_id!r}.")
        return record
