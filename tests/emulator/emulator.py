"""Loopback emulator of the IBM Quantum Platform API for the project's tests.

It lets the tests drive the **real** ``qiskit_ibm_runtime.QiskitRuntimeService``
(never mocked) against ``http://127.0.0.1:<ephemeral port>``.

How the real client (qiskit-ibm-runtime 0.51) derives its endpoints
--------------------------------------------------------------------
* IAM (``POST {IAM_URL}/identity/token``): ``IAM_URL`` env var, else
  ``https://iam.<hostname of url>`` -- the port of ``url`` is dropped, so the
  env var is the only way to reach a loopback port.  Both the instance listing
  (``Account.list_instances`` -> ``IAMAuthenticator``) and every runtime call
  (``api/auth.py: CloudAuth`` -> ``IAMTokenManager``) read it; each keeps its own
  token, so a fresh service exchanges the key twice.
* Global Search (``POST {GLOBAL_SEARCH_URL}/v3/resources/search``) and Global
  Catalog (``GET {GLOBAL_CATALOG_URL}/{plan_id}``): read by ibm-cloud-sdk-core's
  ``configure_service("global_search"/"global_catalog")`` from the env vars
  ``GLOBAL_SEARCH_URL`` / ``GLOBAL_CATALOG_URL`` (an ``ibm-credentials.env``
  in the cwd or ``$HOME``, or ``IBM_CREDENTIALS_FILE``, would win over them).
  Without them: ``https://api.global-search-tagging.<host>`` and
  ``https://globalcatalog.<host>/api/v1``.
* Runtime API (``/api/v1/...``): ``url_resolver(url, instance_crn,
  private_endpoint, channel)``; the default resolver rewrites ``url`` to
  ``https://[region.]quantum.<host>/api/v1`` **unless ``url`` contains
  "experimental"**, in which case ``url`` is used verbatim.  Hence the two
  recipes: ``QISKIT_IBM_URL=<base>/experimental/api/v1`` (no code; only read
  together with ``QISKIT_IBM_TOKEN`` from the environment, or from a saved
  account's ``url``), or ``url=<base>`` plus ``url_resolver=lambda *a: <base>/api/v1``.
  The emulator strips a leading ``/experimental`` so both log the same paths.

Headers on runtime calls: ``Authorization: Bearer <IAM JWT>`` (or, if the IAM
exchange failed, ``Authorization: apikey <the API key>`` -- ``CloudAuth``
falls back to sending the raw key), ``Service-CRN: <crn>``, ``IBM-API-Version``.
"""

from __future__ import annotations

import base64
import calendar
import hmac
import json
import random
import socket
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from . import data
from .faults import Fault, FaultTable
from .jobs import JobsAPI
from .server import THREAD_PREFIX, EmulatorHTTPServer, Request, RequestRecord, Response, normalise_path

DEFAULT_API_KEY = "test-api-key-emulator-0123456789abcdef"

DEFAULT_INSTANCES: tuple[dict[str, Any], ...] = (
    {"name": "open-instance", "plan": "open"},
    {"name": "paygo-instance", "plan": "pay-as-you-go"},
    {"name": "premium-instance", "plan": "premium"},
)

MORE_INFO = "https://cloud.ibm.com/apidocs/quantum-computing#error-handling"

_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
_FAULT_MESSAGES = {
    401: "Unable to authenticate the request: the token is invalid or expired.",
    403: "You are not authorized to access this resource.",
    404: "Resource not found.",
    429: "Too many requests. Please retry later.",
    500: "Internal server error.",
    502: "Bad gateway.",
    503: "Service is temporarily unavailable.",
    504: "Gateway timeout.",
}

OPEN_PLAN_SESSION_CODE = 1352
OPEN_PLAN_SESSION_MESSAGE = "You are not authorized to run a session when using the open plan."

STATUS_NAMES = ("online", "paused", "offline")
_DEFAULT_REASON = {"online": "available", "paused": "internal", "offline": "maintenance"}
# /backends/{name}/status: (state -> BackendStatus.operational, status -> status_msg)
_STATUS_ENDPOINT = {"online": (True, "active"), "paused": (True, "internal"), "offline": (False, "maintenance")}

_UNSET: Any = object()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass
class QPU:
    """Mutable state of one emulated QPU."""

    name: str
    snapshot: str
    n_qubits: int
    processor_type: dict[str, str]
    clops: dict[str, Any] | None
    backend_version: str
    status: str = "online"
    reason: str = "available"
    queue_length: int = 0
    mock: bool = False

    def device(self, with_wait_time: bool = False) -> dict[str, Any]:
        item: dict[str, Any] = {
            "name": self.name,
            "status": {"name": self.status, "reason": self.reason},
            "is_simulator": False,
            "qubits": self.n_qubits,
            "clops": dict(self.clops) if self.clops else None,
            "processor_type": dict(self.processor_type),
            "queue_length": self.queue_length,
            "performance_metrics": data.performance_metrics(self.snapshot),
        }
        if self.mock:
            item["class"] = "mock"
        if with_wait_time:
            q = self.queue_length
            item["wait_time_seconds"] = {"average": q * 40, "p50": q * 30, "p95": q * 90}
        return item

    def public(self) -> dict[str, Any]:
        out = self.device()
        out["snapshot"] = self.snapshot
        out.pop("performance_metrics", None)
        return out


@dataclass
class Instance:
    """One emulated IBM Cloud service instance of quantum-computing."""

    name: str
    crn: str
    plan: str
    display_name: str
    pricing_type: str
    plan_id: str
    region: str
    tags: list[str]
    backends: set[str] | None  # None: sees every QPU
    usage: dict[str, Any]
    extensions: Any = _UNSET  # _UNSET: generated; None/{}: no allocation (client skips it)

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "crn": self.crn,
            "plan": self.display_name.lower(),
            "pricing_type": self.pricing_type,
            "plan_id": self.plan_id,
            "region": self.region,
            "tags": list(self.tags),
            "backends": None if self.backends is None else sorted(self.backends),
            "usage": dict(self.usage),
        }


class IBMQuantumEmulator:
    """Loopback HTTP emulator of IBM Quantum Platform (IAM, Global Search/Catalog, runtime ``/api/v1``).

    Args:
        backends: ``None`` (7 default QPUs from fake-provider snapshots), an int
            ``N`` (N QPUs cycling the default snapshots: ``ibm_fez``, ...,
            ``ibm_fez_2``, ...), or a list of names (``"ibm_kyiv"``, ``"fez"``;
            an unknown name gets a cycled snapshot) and/or dicts with keys
            ``name``, ``snapshot``, ``queue_length``, ``status``, ``reason``,
            ``clops``, ``processor_type``, ``mock``.
        instances: ``None`` (open / pay-as-you-go / premium) or a list of dicts
            with keys ``name``, ``plan`` (open, pay-as-you-go, flex, premium,
            dedicated, ...), optional ``pricing_type``, ``region``
            (``us-east``), ``tags``, ``crn``, ``backends`` (names visible to the
            instance), ``usage`` (dict of ``usage_*`` fields) and
            ``allocated=False`` (no ``doc.extensions``: the client skips it).
        api_key: the only API key IAM accepts.
        latency: seconds slept before every reply (mutable attribute).
        seed: seeds CRNs, default queue lengths, session ids.
        token_ttl: lifetime of issued IAM tokens, seconds.  The client treats
            a token as expired 10 s early, so ``token_ttl <= 10`` makes it
            re-authenticate before every runtime call.
        search_page_size: Global Search page size (paging by ``search_cursor``).
        accept_apikey_auth: accept ``Authorization: apikey <key>`` on runtime
            calls, as IBM does (the client falls back to it when IAM fails).
        extra_api_keys: more API keys IAM accepts (several accounts on one emulator).

    Jobs (see :mod:`.jobs`): ``job_queue_seconds`` / ``job_run_seconds`` (mutable) set how long a new job is
    queued, then running; ``hold_jobs = True`` keeps new jobs queued until :meth:`release_jobs`.
    """

    def __init__(
        self,
        backends: int | Sequence[str | dict[str, Any]] | None = None,
        instances: Sequence[dict[str, Any] | str] | None = None,
        api_key: str = DEFAULT_API_KEY,
        latency: float = 0.0,
        seed: int = 0,
        *,
        token_ttl: int = 3600,
        search_page_size: int = 100,
        accept_apikey_auth: bool = True,
        extra_api_keys: Sequence[str] = (),
    ) -> None:
        if not api_key:
            raise ValueError("api_key must be non-empty")
        self._api_key = api_key
        #: More keys IAM accepts (a class: one key per student and the teacher's), each a test key, not a secret.
        self.extra_api_keys = tuple(extra_api_keys)
        self.latency = float(latency)
        self.token_ttl = int(token_ttl)
        self.search_page_size = max(1, int(search_page_size))
        self.accept_apikey_auth = accept_apikey_auth
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._log_lock = threading.Lock()
        self._log: list[RequestRecord] = []
        self._errors: list[str] = []
        self._faults = FaultTable()
        self._stopping = threading.Event()
        self._server: EmulatorHTTPServer | None = None
        self._serve_thread: threading.Thread | None = None
        self._port: int | None = None
        self._tokens: dict[str, int] = {}
        self._tokens_issued = 0
        self._sessions: dict[str, dict[str, Any]] = {}
        self.job_queue_seconds = 1.0
        self.job_run_seconds = 0.5
        self.hold_jobs = False
        self._job_errors: list[str] = []
        self._jobs = JobsAPI(self)
        self._account_id = "".join(self._rng.choices("0123456789abcdef", k=32))
        #: Rewrites the ``devices`` of ``GET /api/v1/backends`` (malformed-data tests): ``hook(devices) -> anything``.
        self.devices_hook: Callable[[list[dict[str, Any]]], Any] | None = None
        self._qpus: dict[str, QPU] = {}
        for qpu in self._build_qpus(backends):
            self._qpus[qpu.name] = qpu
        self._instances: list[Instance] = [
            self._build_instance(spec, index)
            for index, spec in enumerate(DEFAULT_INSTANCES if instances is None else instances)
        ]
        if not self._instances:
            raise ValueError("at least one instance is required")
        crns = [inst.crn for inst in self._instances]
        if len(set(crns)) != len(crns):
            raise ValueError("duplicate instance CRN")

    # ------------------------------------------------------------------ setup
    def _build_qpus(self, spec: int | Sequence[str | dict[str, Any]] | None) -> list[QPU]:
        fleet = data.default_fleet()
        entries: list[dict[str, Any]]
        if spec is None:
            entries = [{"snapshot": snap} for snap in fleet]
        elif isinstance(spec, int):
            if spec < 0:
                raise ValueError("backends must be >= 0")
            entries = []
            for i in range(spec):
                snap = fleet[i % len(fleet)]
                cycle = i // len(fleet)
                entries.append({"snapshot": snap, "name": f"ibm_{snap}" if cycle == 0 else f"ibm_{snap}_{cycle + 1}"})
        else:
            entries = [{"name": item} if isinstance(item, str) else dict(item) for item in spec]
        queues = (
            self._rng.sample(range(1, 500), len(entries))
            if len(entries) < 499
            else [self._rng.randint(0, 999) for _ in entries]
        )
        out = []
        for index, (entry, queue) in enumerate(zip(entries, queues, strict=True)):
            entry.setdefault("queue_length", queue)
            out.append(self._make_qpu(index=index, **entry))
        seen = set()
        for qpu in out:
            if qpu.name in seen:
                raise ValueError(f"duplicate backend name {qpu.name!r}")
            seen.add(qpu.name)
        return out

    def _make_qpu(
        self,
        name: str | None = None,
        snapshot: str | None = None,
        *,
        queue_length: int = 0,
        status: str = "online",
        reason: str = "",
        clops: Any = _UNSET,
        processor_type: dict[str, str] | None = None,
        mock: bool = False,
        index: int = 0,
    ) -> QPU:
        fleet = data.default_fleet()
        if snapshot is None and name is not None:
            snapshot = data.snapshot_for(name)
        if snapshot is None:
            snapshot = fleet[index % len(fleet)]
        if snapshot not in data.available_snapshots():
            raise ValueError(f"unknown fake-provider snapshot {snapshot!r}")
        if name is None:
            name = f"ibm_{snapshot}"
        status = self._check_status(status)
        conf = data.load_conf(snapshot)
        return QPU(
            name=name,
            snapshot=snapshot,
            n_qubits=int(conf["n_qubits"]),
            processor_type=dict(processor_type) if processor_type else data.processor_type(snapshot),
            clops=data.clops(snapshot) if clops is _UNSET else clops,
            backend_version=str(conf.get("backend_version", "0.0.0")),
            status=status,
            reason=reason or _DEFAULT_REASON[status],
            queue_length=int(queue_length),
            mock=bool(mock),
        )

    def _make_crn(self, region: str) -> str:
        guid = uuid.UUID(int=self._rng.getrandbits(128), version=4)
        return f"crn:v1:bluemix:public:quantum-computing:{region}:a/{self._account_id}:{guid}::"

    def _build_instance(self, spec: dict[str, Any] | str, index: int) -> Instance:
        if isinstance(spec, str):
            spec = {"name": spec}
        spec = dict(spec)
        plan = data.plan_key(spec.get("plan", "open"))
        display = spec.get("display_name") or data.plan_display_name(plan)
        default_pricing = data.PLANS.get(plan, {}).get("pricing_type", "paid")
        pricing = str(spec.get("pricing_type") or default_pricing).lower()
        pid = spec.get("plan_id") or (
            data.plan_id(plan) if pricing == default_pricing else data.plan_id(f"{plan}|{pricing}")
        )
        region = spec.get("region", "us-east")
        usage = dict(data.PLANS.get(plan, {}).get("usage", {"usage_consumed_seconds": 0}))
        usage.update(spec.get("usage") or {})
        for key, value in spec.items():
            if key.startswith("usage_"):
                usage[key] = value
        usage = {k: v for k, v in usage.items() if v is not None}
        backends = spec.get("backends")
        extensions = _UNSET
        if spec.get("allocated", True) is False:
            extensions = None
        elif "extensions" in spec:
            extensions = spec["extensions"]
        return Instance(
            name=spec.get("name") or f"instance-{index + 1}",
            crn=spec.get("crn") or self._make_crn(region),
            plan=plan,
            display_name=display,
            pricing_type=pricing,
            plan_id=pid,
            region=region,
            tags=list(spec.get("tags") or []),
            backends=None if backends is None else set(backends),
            usage=usage,
            extensions=extensions,
        )

    # -------------------------------------------------------------- lifecycle
    def start(self) -> IBMQuantumEmulator:
        """Bind 127.0.0.1 (ephemeral port; the same port again after a ``stop()``) and serve."""
        if self._server is not None:
            raise RuntimeError("emulator already running")
        # Warm the per-process snapshot caches so the first /backends is not slow.
        for qpu in list(self._qpus.values()):
            data.performance_metrics(qpu.snapshot)
        self._stopping.clear()
        server = EmulatorHTTPServer(("127.0.0.1", self._port or 0), self)
        self._server = server
        self._port = server.server_address[1]
        self._serve_thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{THREAD_PREFIX}-serve-{self._port}",
            daemon=True,
        )
        self._serve_thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving: wake stalled handlers, end keep-alive connections, close the socket.

        Afterwards the port refuses connections.  ``start()`` may be called again.
        """
        server = self._server
        if server is None:
            return
        self._stopping.set()
        server.shutdown()  # ends serve_forever (polls every 50 ms)
        server.server_close()  # closes the listening socket
        server.abort_connections()  # wakes handlers blocked on keep-alive reads
        leftovers = server.join_connections(timeout)
        if leftovers:  # a handler blocked mid-write: try once more
            server.abort_connections()
            server.join_connections(1.0)
        if self._serve_thread is not None:
            self._serve_thread.join(timeout)
        self._serve_thread = None
        self._server = None

    def __enter__(self) -> IBMQuantumEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.base_url if self.running else "stopped"
        return f"<IBMQuantumEmulator {state} qpus={len(self._qpus)} instances={len(self._instances)}>"

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator was never started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_key(self) -> str:
        return self._api_key

    @staticmethod
    def refused_url() -> str:
        """A base URL on a loopback port nobody listens on (connection refused)."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return f"http://127.0.0.1:{port}"

    # ------------------------------------------------------- client recipes
    def client_env(self, *, include_token: bool = False, instance: str | None = None) -> dict[str, str]:
        """Environment variables that point the real client at this emulator.

        ``IAM_URL``, ``GLOBAL_SEARCH_URL`` and ``GLOBAL_CATALOG_URL`` are always
        needed (the client drops the port when deriving these hosts).
        ``QISKIT_IBM_URL`` (``<base>/experimental/api/v1``) is only used by the
        client when the token also comes from the environment
        (``include_token=True`` adds ``QISKIT_IBM_TOKEN`` and
        ``QISKIT_IBM_CHANNEL``) or from a saved account; with an explicit
        ``token=`` pass :meth:`service_kwargs` instead.
        """
        env = {
            "IAM_URL": self.base_url,
            "GLOBAL_SEARCH_URL": self.base_url,
            "GLOBAL_CATALOG_URL": self.base_url + "/catalog",
            "QISKIT_IBM_URL": self.base_url + "/experimental/api/v1",
        }
        if include_token:
            env["QISKIT_IBM_TOKEN"] = self._api_key
            env["QISKIT_IBM_CHANNEL"] = "ibm_quantum_platform"
        if instance is not None:
            env["QISKIT_IBM_INSTANCE"] = instance
        return env

    def service_kwargs(self, instance: str | None = None, *, token: str | None = None) -> dict[str, Any]:
        """Kwargs for ``QiskitRuntimeService(**kwargs)`` (needs :meth:`client_env` in the env too).

        ``instance`` is a name or CRN; ``None`` leaves it out (the client then
        auto-selects, which costs more requests and logs a warning).
        """
        api_base = self.base_url + "/api/v1"

        def url_resolver(url: str, instance: str, private_endpoint: bool | None = False, channel: str = "") -> str:
            return api_base

        kwargs: dict[str, Any] = {
            "channel": "ibm_quantum_platform",
            "token": self._api_key if token is None else token,
            "url": self.base_url,
            "url_resolver": url_resolver,
        }
        if instance is not None:
            kwargs["instance"] = instance
        return kwargs

    # ------------------------------------------------------------ QPU state
    @staticmethod
    def _check_status(status: str) -> str:
        status = status.lower()
        if status not in STATUS_NAMES:
            raise ValueError(f"status must be one of {STATUS_NAMES}, got {status!r}")
        return status

    def _qpu(self, name: str) -> QPU:
        try:
            return self._qpus[name]
        except KeyError:
            raise KeyError(f"no emulated backend {name!r}") from None

    @property
    def backend_names(self) -> list[str]:
        with self._lock:
            return list(self._qpus)

    def backend(self, name: str) -> dict[str, Any]:
        """A copy of one QPU's state (the ``/backends`` item plus ``snapshot``)."""
        with self._lock:
            return self._qpu(name).public()

    def set_queue(self, name: str, n: int) -> None:
        if n < 0:
            raise ValueError("queue length must be >= 0")
        with self._lock:
            self._qpu(name).queue_length = int(n)

    def set_status(self, name: str, status: str, reason: str = "") -> None:
        """``status``: online / paused / offline; ``reason`` defaults per status."""
        status = self._check_status(status)
        with self._lock:
            qpu = self._qpu(name)
            qpu.status = status
            qpu.reason = reason or _DEFAULT_REASON[status]

    def set_clops(self, name: str, value: int | None, kind: str = "hardware") -> None:
        with self._lock:
            self._qpu(name).clops = None if value is None else {"type": kind, "value": int(value)}

    def set_processor_type(self, name: str, family: str, revision: str, segment: str | None = None) -> None:
        with self._lock:
            ptype = {"family": family, "revision": str(revision)}
            if segment:
                ptype["segment"] = segment
            self._qpu(name).processor_type = ptype

    def add_backend(
        self,
        name: str | None = None,
        snapshot: str | None = None,
        *,
        queue_length: int = 0,
        status: str = "online",
        reason: str = "",
        clops: Any = _UNSET,
        processor_type: dict[str, str] | None = None,
        mock: bool = False,
    ) -> str:
        """Add a QPU (visible to every instance whose ``backends`` is unrestricted). Returns its name."""
        with self._lock:
            qpu = self._make_qpu(
                name,
                snapshot,
                queue_length=queue_length,
                status=status,
                reason=reason,
                clops=clops,
                processor_type=processor_type,
                mock=mock,
                index=len(self._qpus),
            )
            if qpu.name in self._qpus:
                raise ValueError(f"duplicate backend name {qpu.name!r}")
            self._qpus[qpu.name] = qpu
        data.performance_metrics(qpu.snapshot)
        return qpu.name

    def remove_backend(self, name: str) -> None:
        """Retire a QPU: gone from ``/backends``; its endpoints answer 404."""
        with self._lock:
            self._qpu(name)
            del self._qpus[name]

    def clear_backends(self) -> None:
        """Remove every QPU (``/backends`` -> ``{"devices": []}`` for good)."""
        with self._lock:
            self._qpus.clear()

    set_backends_empty = clear_backends

    # -------------------------------------------------------- instance state
    def _find_instance(self, name_or_crn: str) -> Instance:
        for inst in self._instances:
            if inst.crn == name_or_crn or inst.name == name_or_crn:
                return inst
        raise KeyError(f"no emulated instance {name_or_crn!r}")

    @property
    def instances(self) -> list[dict[str, Any]]:
        """Copies: ``{name, crn, plan, pricing_type, plan_id, region, tags, backends, usage}``."""
        with self._lock:
            return [inst.public() for inst in self._instances]

    def instance_crn(self, name: str) -> str:
        with self._lock:
            return self._find_instance(name).crn

    def set_usage(
        self,
        instance: str,
        *,
        consumed: float | None = _UNSET,
        limit: float | None = _UNSET,
        allocation: float | None = _UNSET,
        limit_reached: bool | None = _UNSET,
    ) -> None:
        """Change ``/instances/usage`` for an instance (name or CRN); ``None`` removes a key.

        ``usage_limit_reached`` is computed from consumed vs limit/allocation
        unless set explicitly here.
        """
        fields = {
            "usage_consumed_seconds": consumed,
            "usage_limit_seconds": limit,
            "usage_allocation_seconds": allocation,
            "usage_limit_reached": limit_reached,
        }
        with self._lock:
            usage = self._find_instance(instance).usage
            for key, value in fields.items():
                if value is _UNSET:
                    continue
                if value is None:
                    usage.pop(key, None)
                else:
                    usage[key] = value

    @property
    def sessions(self) -> list[dict[str, Any]]:
        """Copies of the sessions/batches created so far (with their ``instance`` CRN)."""
        with self._lock:
            return [json.loads(json.dumps(s)) for s in self._sessions.values()]

    # ------------------------------------------------------------ jobs
    @property
    def jobs(self) -> list[dict[str, Any]]:
        """The submitted jobs (newest last), as ``GET /jobs/{id}`` shows them, plus ``instance``."""
        return [dict(job.view(), instance=job.instance) for job in self._jobs.all()]

    def release_jobs(self, job_id: str | None = None) -> None:
        """Let held jobs (``hold_jobs``) start running now: one job, or all of them."""
        self._jobs.release(job_id)

    def wait_jobs_simulated(self, timeout: float = 120.0) -> None:
        """Block until every submitted job's simulation has finished (not its state: that follows the delays)."""
        self._jobs.wait_simulated(timeout)

    @property
    def job_errors(self) -> list[str]:
        """Tracebacks of jobs whose simulation failed (those jobs end Failed, as on IBM)."""
        return list(self._job_errors)

    # ------------------------------------------------------------ tokens
    @property
    def tokens_issued(self) -> int:
        with self._lock:
            return self._tokens_issued

    def expire_tokens(self) -> None:
        """Invalidate every issued bearer token: 401 until the client re-authenticates at IAM.

        (The real client caches its token until its ``exp`` and does *not*
        re-authenticate on a 401; a new ``QiskitRuntimeService`` does.)
        """
        with self._lock:
            self._tokens.clear()

    def _issue_token(self) -> tuple[str, int, int]:
        with self._lock:
            now = int(time.time())
            exp = now + self.token_ttl
            self._tokens_issued += 1
            serial = self._tokens_issued
            jti = uuid.UUID(int=self._rng.getrandbits(128), version=4)
            header = {"kid": "emulator-key", "alg": "RS256"}
            payload = {
                "iam_id": "iam-ServiceId-emulator",
                "id": "iam-ServiceId-emulator",
                "realmid": "iam",
                "jti": str(jti),
                "identifier": "ServiceId-emulator",
                "sub": "ServiceId-emulator",
                "sub_type": "ServiceId",
                "account": {"valid": True, "bss": self._account_id, "frozen": True},
                "iat": now,
                "exp": exp,
                "iss": f"{self.base_url}/identity",
                "grant_type": "urn:ibm:params:oauth:grant-type:apikey",
                "scope": "ibm openid",
                "client_id": "default",
                "acr": 1,
                "amr": ["pwd"],
                "serial": serial,
            }
            signature = _b64url(self._rng.getrandbits(256).to_bytes(32, "big"))
            token = ".".join(
                [
                    _b64url(json.dumps(header, separators=(",", ":")).encode()),
                    _b64url(json.dumps(payload, separators=(",", ":")).encode()),
                    signature,
                ]
            )
            self._tokens[token] = exp
            return token, now, exp

    def _accepts(self, key: str) -> bool:
        return any(hmac.compare_digest(key.encode(), known.encode()) for known in (self._api_key, *self.extra_api_keys))

    def _bearer_error(self, request: Request) -> Response | None:
        """None if the request carries a valid credential, else the 401 reply."""
        auth = request.headers.get("Authorization") or ""
        scheme, _, credential = auth.partition(" ")
        scheme = scheme.lower()
        credential = credential.strip()
        if not auth:
            return self._error(401, "Missing Authorization header.")
        if scheme == "bearer":
            with self._lock:
                exp = self._tokens.get(credential)
            if exp is None:
                return self._error(401, "Invalid or revoked token. Re-authenticate at IAM.")
            if exp <= time.time():
                return self._error(401, "The token has expired. Re-authenticate at IAM.")
            return None
        if scheme == "apikey" and self.accept_apikey_auth:
            if self._accepts(credential):
                return None
            return self._error(401, "Invalid API key.")
        return self._error(401, "Unsupported Authorization scheme.")

    # ------------------------------------------------------------ faults
    def inject(
        self,
        fault: int | str,
        path: str | None = "/api/v1/backends",
        method: str | None = None,
        times: int | None = 1,
        *,
        retry_after: float | None = None,
        seconds: float = 30.0,
        prefix: bool = False,
    ) -> Fault:
        """Add a fault row (kinds: see :mod:`.faults`) and return it (``.hits``, ``.remaining``).

        ``fault``: an HTTP status (401, 403, 429, 500, 502, 503, ...), ``"stall"``
        (``seconds``), ``"refuse"``, ``"reset"``, ``"malformed"`` or ``"empty"``.
        ``path`` is exact (``/experimental`` is ignored); ``"/a/b/*"`` matches the
        sub-paths of ``/a/b`` only; ``prefix=True`` matches ``/a/b`` and its
        sub-paths; ``None`` matches every path.  ``method=None`` matches any
        method.  ``times=None`` = forever.  ``retry_after`` adds ``Retry-After``.
        """
        return self._faults.add(fault, path, method, times, retry_after=retry_after, seconds=seconds, prefix=prefix)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        return self._faults.snapshot()

    def _fault_response(self, request: Request, fault: Fault) -> Response:
        status = int(fault.kind)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = (
                str(int(fault.retry_after)) if float(fault.retry_after).is_integer() else str(fault.retry_after)
            )
        message = _FAULT_MESSAGES.get(status, f"HTTP {status}.")
        if request.path == "/identity/token":
            response = self._iam_error(status, "EMULATED_FAULT", message)
        else:
            response = self._error(status, message)
        response.headers.update(headers)
        return response

    # ------------------------------------------------------------ request log
    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the request log (oldest first)."""
        with self._log_lock:
            return list(self._log)

    def count(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        prefix: bool = False,
        status: int | None = None,
    ) -> int:
        """Number of logged requests; ``path`` is exact unless ``prefix=True`` (sub-paths too)."""
        want_method = method.upper() if method else None
        want_path = normalise_path(path) if path else None
        n = 0
        for rec in self.requests:
            if want_method and rec.method != want_method:
                continue
            if want_path is not None:
                if prefix:
                    if not (rec.path == want_path or rec.path.startswith(want_path.rstrip("/") + "/")):
                        continue
                elif rec.path != want_path:
                    continue
            if status is not None and rec.status != status:
                continue
            n += 1
        return n

    def reset_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    @property
    def errors(self) -> list[str]:
        """Tracebacks of emulator bugs (each also answered with a 500). Should stay empty."""
        return list(self._errors)

    # ------------------------------------------------------------ replies
    @staticmethod
    def _error(status: int, message: str, code: int | str | None = None, solution: str | None = None) -> Response:
        """IBM Cloud API error container: ``{"errors": [{code, message, more_info}], "trace", "status_code"}``.

        Note the client's ``RetrySession`` looks for ``body["error"]`` (singular),
        misses it, and appends the raw body text to the ``RequestsApiError``
        message instead -- so the code (e.g. 1352) appears in ``str(exc)``.
        """
        error: dict[str, Any] = {
            "code": _ERROR_CODES.get(status, "error") if code is None else code,
            "message": message,
            "more_info": MORE_INFO,
        }
        if solution:
            error["solution"] = solution
        return Response.json(status, {"errors": [error], "trace": uuid.uuid4().hex, "status_code": status})

    @staticmethod
    def _iam_error(status: int, code: str, message: str) -> Response:
        now = int(time.time() * 1000)
        return Response.json(
            status,
            {
                "errorCode": code,
                "errorMessage": message,
                "context": {
                    "requestId": uuid.uuid4().hex,
                    "requestType": "incoming.OIDC_Token",
                    "startTime": str(now),
                    "endTime": str(now),
                },
            },
        )

    def _route(self, request: Request, empty: bool = False) -> Response:
        path = request.path
        if path == "/identity/token":
            if request.method != "POST":
                return self._error(405, "Method not allowed.")
            return self._iam_token(request)
        if path == "/v3/resources/search":
            if request.method != "POST":
                return self._error(405, "Method not allowed.")
            return self._global_search(request, empty)
        if path.startswith("/catalog/"):
            if request.method != "GET":
                return self._error(405, "Method not allowed.")
            return self._catalog(request, path[len("/catalog/") :], empty)
        if path == "/api/v1" or path.startswith("/api/v1/"):
            return self._runtime(request, path[len("/api/v1") :], empty)
        return self._error(404, f"No route for {request.method} {path}.")

    # -- IAM
    def _iam_token(self, request: Request) -> Response:
        try:
            parsed = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
            form = {key: values[-1] for key, values in parsed.items()}
        except UnicodeDecodeError:
            form = {}
        grant = form.get("grant_type", "")
        apikey = form.get("apikey", "")
        if grant != "urn:ibm:params:oauth:grant-type:apikey":
            return self._iam_error(400, "BXNIM0109E", "Property missing or empty. Property name(s): 'grant_type'.")
        if not apikey:
            return self._iam_error(400, "BXNIM0109E", "Property missing or empty. Property name(s): 'apikey'.")
        if not self._accepts(apikey):
            return self._iam_error(400, "BXNIM0415E", "Provided API key could not be found.")
        token, _now, exp = self._issue_token()
        return Response.json(
            200,
            {
                "access_token": token,
                "refresh_token": "not_supported",
                "ims_user_id": 4242,
                "token_type": "Bearer",
                "expires_in": self.token_ttl,
                "expiration": exp,
                "scope": "ibm openid",
            },
        )

    # -- Global Search / Catalog
    def _visible(self, inst: Instance) -> list[QPU]:
        return [q for q in self._qpus.values() if inst.backends is None or q.name in inst.backends]

    def _search_item(self, inst: Instance, fields: Iterable[str] | None) -> dict[str, Any]:
        if inst.extensions is _UNSET:
            extensions: Any = {"quantum_computing": {"backends": [q.name for q in self._visible(inst)]}}
        else:
            extensions = inst.extensions
        doc: dict[str, Any] = {"resource_id": "quantum-computing", "region_id": inst.region}
        if extensions:
            doc["extensions"] = extensions
        item = {
            "crn": inst.crn,
            "name": inst.name,
            "tags": list(inst.tags),
            "service_plan_unique_id": inst.plan_id,
            "doc": doc,
            "type": "resource-instance",
            "family": "resource_controller",
            "region": inst.region,
        }
        if fields:
            wanted = set(fields)
            item = {k: v for k, v in item.items() if k in wanted or k == "crn"}
        return item

    def _global_search(self, request: Request, empty: bool) -> Response:
        denied = self._bearer_error(request)
        if denied:
            return denied
        try:
            body = request.json() or {}
        except ValueError:
            return self._error(400, "Request body is not valid JSON.")
        try:
            limit = max(1, min(int(request.query.get("limit", "10")), 1000))
        except ValueError:
            return self._error(400, "Invalid limit.")
        offset = 0
        cursor = body.get("search_cursor")
        if cursor:
            try:
                offset = int(json.loads(base64.urlsafe_b64decode(cursor.encode() + b"==="))["offset"])
            except (ValueError, KeyError, TypeError):
                return self._error(400, "Invalid search_cursor.")
        query = str(body.get("query", ""))
        with self._lock:
            matched = [] if empty or "quantum-computing" not in query else list(self._instances)
            page_size = min(limit, self.search_page_size)
            page = matched[offset : offset + page_size]
            items = [self._search_item(inst, body.get("fields")) for inst in page]
        result: dict[str, Any] = {"items": items, "limit": limit}
        if offset + len(page) < len(matched):
            result["search_cursor"] = _b64url(json.dumps({"offset": offset + len(page)}).encode())
        return Response.json(200, result)

    def _catalog(self, request: Request, entry_id: str, empty: bool) -> Response:
        denied = self._bearer_error(request)
        if denied:
            return denied
        if empty:
            return Response.json(200, {})
        with self._lock:
            match = next((inst for inst in self._instances if inst.plan_id == entry_id), None)
            if match is None:
                for key, plan in data.PLANS.items():
                    if data.plan_id(key) == entry_id:
                        match = Instance(
                            name="",
                            crn="",
                            plan=key,
                            display_name=plan["display_name"],
                            pricing_type=plan["pricing_type"],
                            plan_id=entry_id,
                            region="",
                            tags=[],
                            backends=None,
                            usage={},
                        )
                        break
        if match is None:
            return self._error(404, f"Catalog entry {entry_id} not found.")
        return Response.json(
            200,
            {
                "id": entry_id,
                "name": match.plan,
                "kind": "plan",
                "active": True,
                "disabled": False,
                "tags": [],
                "overview_ui": {
                    "en": {
                        "display_name": match.display_name,
                        "description": f"{match.display_name} plan of IBM Quantum Platform (emulated).",
                        "long_description": "",
                    }
                },
                "metadata": {"pricing": {"type": match.pricing_type, "origin": "global_catalog"}},
                "url": f"{self.base_url}/catalog/{entry_id}",
            },
        )

    # -- runtime /api/v1
    def _runtime(self, request: Request, sub: str, empty: bool) -> Response:
        denied = self._bearer_error(request)
        if denied:
            return denied
        crn = request.headers.get("Service-CRN")
        with self._lock:
            inst = next((i for i in self._instances if crn and i.crn == crn), None)
        if inst is None:
            return self._error(403, "The Service-CRN header does not name an instance this account can access.")
        parts = [p for p in sub.split("/") if p]
        method = request.method

        def only(*allowed: str) -> Response | None:
            return None if method in allowed else self._error(405, f"Method {method} not allowed on {request.path}.")

        if parts == ["backends"]:
            return only("GET") or self._devices(request, inst, empty)
        if len(parts) == 3 and parts[0] == "backends":
            return only("GET") or self._backend_resource(inst, parts[1], parts[2], empty)
        if parts == ["instances", "usage"]:
            return only("GET") or (Response.json(200, {}) if empty else self._usage(inst))
        if parts == ["instance"]:
            return only("GET") or self._instance_details(inst)
        if parts and parts[0] == "jobs" and len(parts) <= 3:
            return self._jobs.route(request, inst, parts, empty)
        if parts == ["sessions"]:
            return only("POST") or self._create_session(request, inst)
        if len(parts) == 2 and parts[0] == "sessions":
            return only("GET", "PATCH") or self._session(request, inst, parts[1])
        if len(parts) == 3 and parts[0] == "sessions" and parts[2] == "close":
            return only("DELETE") or self._close_session(inst, parts[1])
        return self._error(404, f"No route for {method} {request.path}.")

    def _devices(self, request: Request, inst: Instance, empty: bool) -> Response:
        include_mocks = request.query.get("include_mocks", "").lower() == "true"
        with_wait = "wait_time_seconds" in request.query.get("fields", "")
        with self._lock:
            devices = [] if empty else [q.device(with_wait) for q in self._visible(inst) if include_mocks or not q.mock]
        hook = self.devices_hook
        return Response.json(200, {"devices": hook(devices) if hook is not None else devices})

    def _backend_resource(self, inst: Instance, name: str, resource: str, empty: bool) -> Response:
        with self._lock:
            qpu = self._qpus.get(name)
            visible = qpu is not None and (inst.backends is None or name in inst.backends)
            snapshot = qpu.snapshot if qpu else ""
            status = qpu.status if qpu else ""
            reason = qpu.reason if qpu else ""
            queue = qpu.queue_length if qpu else 0
            version = qpu.backend_version if qpu else ""
        if not visible:
            return self._error(404, f"Backend {name} not found.")
        if empty:
            return Response.json(200, {})
        if resource == "configuration":
            return Response(200, data.conf_bytes(snapshot, name))
        if resource == "properties":
            return Response(200, data.props_bytes(snapshot, name))
        if resource == "status":
            state, msg = _STATUS_ENDPOINT[status]
            return Response.json(
                200,
                {"state": state, "status": msg, "message": reason, "length_queue": queue, "backend_version": version},
            )
        if resource == "defaults":
            return self._error(404, f"Backend {name} has no pulse defaults.")
        return self._error(404, f"No route for GET /api/v1/backends/{name}/{resource}.")

    def _usage(self, inst: Instance) -> Response:
        now = time.gmtime()
        start = calendar.timegm((now.tm_year, now.tm_mon, 1, 0, 0, 0))
        end_year, end_month = (now.tm_year + 1, 1) if now.tm_mon == 12 else (now.tm_year, now.tm_mon + 1)
        end = calendar.timegm((end_year, end_month, 1, 0, 0, 0))
        with self._lock:
            usage = {k: v for k, v in inst.usage.items() if v is not None}
        out: dict[str, Any] = {
            "instance_id": inst.crn,
            "plan_id": inst.plan_id,
            "usage_period": {"start_time": _iso(start), "end_time": _iso(end)},
        }
        out.update(usage)
        out.setdefault("usage_consumed_seconds", 0)
        cap = out.get("usage_limit_seconds", out.get("usage_allocation_seconds"))
        if "usage_limit_reached" not in out and cap is not None:
            out["usage_limit_reached"] = out["usage_consumed_seconds"] >= cap
        return Response.json(200, out)

    def _instance_details(self, inst: Instance) -> Response:
        with self._lock:
            out: dict[str, Any] = {"backends": [q.name for q in self._visible(inst)], "plan_id": inst.plan_id}
            if "usage_limit_seconds" in inst.usage:
                out["instance_limit_seconds"] = str(inst.usage["usage_limit_seconds"])
            if "usage_allocation_seconds" in inst.usage:
                out["usage_allocation_seconds"] = str(inst.usage["usage_allocation_seconds"])
        return Response.json(200, out)

    # -- sessions
    def _new_session_id(self) -> str:
        alphabet = string.ascii_lowercase + string.digits
        return "".join(self._rng.choices(alphabet, k=20))

    @staticmethod
    def _session_view(session: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if k != "instance" and v is not None}

    def _create_session(self, request: Request, inst: Instance) -> Response:
        try:
            body = request.json() or {}
        except ValueError:
            return self._error(400, "Request body is not valid JSON.")
        if not isinstance(body, dict):
            return self._error(400, "Request body must be a JSON object.")
        mode = body.get("mode")
        if mode not in ("batch", "dedicated"):
            return self._error(400, "'mode' must be one of: batch, dedicated.")
        backend = body.get("backend") or body.get("backend_name")
        max_ttl = body.get("max_ttl", 28800)
        if not isinstance(max_ttl, int) or max_ttl < 1:
            return self._error(400, "'max_ttl' must be a positive integer.")
        if mode == "dedicated" and inst.plan == "open":
            return self._error(
                400,
                OPEN_PLAN_SESSION_MESSAGE,
                code=OPEN_PLAN_SESSION_CODE,
                solution="Use batch or job mode, or use an instance with a different plan.",
            )
        with self._lock:
            if backend is not None:
                qpu = self._qpus.get(backend)
                if qpu is None or (inst.backends is not None and backend not in inst.backends):
                    return self._error(404, f"Backend {backend} not found.")
            now = time.time()
            session = {
                "id": self._new_session_id(),
                "backend_name": backend,
                "mode": mode,
                "state": "open",
                "accepting_jobs": True,
                "max_ttl": max_ttl,
                "active_ttl": max_ttl,
                "interactive_ttl": 60 if mode == "dedicated" else 1,
                "started_at": _iso(now),
                "timestamps": [{"status": "open", "timestamp": _iso(now)}],
                "user_id": "emulator-user",
                "instance": inst.crn,
            }
            self._sessions[session["id"]] = session
            return Response.json(200, self._session_view(session))

    def _session(self, request: Request, inst: Instance, session_id: str) -> Response:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session["instance"] != inst.crn:
                return self._error(404, f"Session {session_id} not found.")
            if request.method == "GET":
                return Response.json(200, self._session_view(session))
        try:
            body = request.json() or {}
        except ValueError:
            return self._error(400, "Request body is not valid JSON.")
        if not isinstance(body, dict) or not isinstance(body.get("accepting_jobs"), bool):
            return self._error(400, "'accepting_jobs' (boolean) is required.")
        with self._lock:
            session["accepting_jobs"] = body["accepting_jobs"]
            if not body["accepting_jobs"] and session["state"] != "closed":
                # No jobs ever run here, so "close when the queue drains" is immediate.
                self._close(session)
        return Response(204)

    def _close(self, session: dict[str, Any]) -> None:
        now = _iso(time.time())
        session["state"] = "closed"
        session["accepting_jobs"] = False
        session["closed_at"] = now
        session["timestamps"].append({"status": "closed", "timestamp": now})

    def _close_session(self, inst: Instance, session_id: str) -> Response:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session["instance"] != inst.crn:
                return self._error(404, f"Session {session_id} not found.")
            if session["state"] != "closed":
                self._close(session)
        return Response(204)


__all__ = ["DEFAULT_API_KEY", "DEFAULT_INSTANCES", "QPU", "IBMQuantumEmulator", "Instance"]
