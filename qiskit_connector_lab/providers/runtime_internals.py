"""The one place that touches qiskit-ibm-runtime's private internals, each with a public-API fallback.

The connector leans on a few private names of ``QiskitRuntimeService`` because the public API costs many more
requests for the same facts (see ``docs``/README "Bounded time, few requests"):

=====================================  ========================================  =====================================
What                                   Private name (client 0.49 - 0.51)         Public fallback, and its cost
=====================================  ========================================  =====================================
every QPU's status and queue           ``service._active_api_client              ``service.backends()`` + ``status()``
in one ``GET /api/v1/backends``        .list_backends()``                        per QPU: 1 + 2N requests
the listing the client's init          ``service._backends_info_per_instance``   none: the first listing costs one
already fetched                                                                  more request
one backend, one request               ``service._create_backend_obj(name,       ``service.backend(name)``: re-lists
                                       instance=..., use_fractional_gates=...)``  every QPU first (one more request)
configuration / properties as dicts    ``_active_api_client.backend_             ``service.backend(name)
                                       configuration(name)`` / ``..._properties`` .configuration().to_dict()``
a page of jobs with their states       ``_active_api_client.jobs_get(...)``      ``service.jobs()`` + one status
and the total, in one request                                                    request per unfinished job
a read timeout and a short retry on    ``qiskit_ibm_runtime.api.session           none: the deadline still holds (the
the client's HTTP sessions             .RetrySession._initialize_retry``         caller is freed), but an abandoned
                                                                                 worker lives until the client gives up
a key's instances without a service    ``accounts.Account.list_instances()``     a service with no instance, then
(sign-in: 2 + N requests)              (near-public)                             ``instances()``: IAM twice, /backends
=====================================  ========================================  =====================================

When a private name is missing or has changed shape (a newer client), the fallback runs and one note is logged on
the ``qiskit_connector_lab`` logger, once per name. ``tests/test_runtime_internals.py`` checks the signatures and
shapes used here against the installed client, and runs every fallback through the real client against the
emulator. Nothing else in the package may use a private name of a dependency.

The local fleet's names (``QiskitRuntimeLocalService._run`` / ``._run_executor``,
``QuantumProgram._semantic_role``) are in their own section at the end, each with its fallback.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("qiskit_connector_lab")

_noted: set[str] = set()
_noted_lock = threading.Lock()


def _note_fallback(what: str, cost: str) -> None:
    with _noted_lock:
        if what in _noted:
            return
        _noted.add(what)
    log.info(
        "qiskit-ibm-runtime %s has no usable %s: using its public API instead (%s).", _runtime_version(), what, cost
    )


def _runtime_version() -> str:
    try:
        import qiskit_ibm_runtime

        return str(qiskit_ibm_runtime.__version__)
    except Exception:  # noqa: BLE001 - only a version for a log line  # pragma: no cover
        return "?"


def fallbacks_used() -> frozenset[str]:
    """The private names this process had to do without. Only the contract tests read it; a user sees each missing
    name once, in the note logged when its fallback is first taken."""
    with _noted_lock:
        return frozenset(_noted)


def reset_fallbacks() -> None:
    with _noted_lock:
        _noted.clear()


# --- the API client: one request for every queue ----------------------------------------------------------------


def runtime_client_class() -> type | None:
    """The client's REST client class: ``api.client.RuntimeClient`` (0.51), ``api.clients.runtime`` (0.49, 0.50)."""
    import importlib

    for module in ("qiskit_ibm_runtime.api.client", "qiskit_ibm_runtime.api.clients.runtime"):
        try:
            return importlib.import_module(module).RuntimeClient
        except (ImportError, AttributeError):
            continue
    return None


def _api_client(service: Any) -> Any | None:
    client = getattr(service, "_active_api_client", None)
    if client is None or not callable(getattr(client, "list_backends", None)):
        return None
    return client


def list_devices(service: Any) -> list[Any]:
    """Every QPU of the active instance as the API's ``devices`` entries (``GET /api/v1/backends``).

    Fallback: the public ``service.backends()`` and one ``status()`` per QPU, shaped like the API's entries.
    """
    client = _api_client(service)
    if client is not None:
        devices = client.list_backends()
        remember_devices(service, devices)
        return devices  # validated by the caller (qpus.listing_from_devices): bad data from IBM is bad input
    _note_fallback("RuntimeClient.list_backends", "one status request per QPU")
    devices = []
    for backend in service.backends():
        status = backend.status()
        processor = getattr(backend, "processor_type", None) or {}
        devices.append(
            {
                "name": backend.name,
                "status": {"name": "online" if status.operational else "paused", "reason": status.status_msg or ""},
                "qubits": backend.num_qubits,
                "queue_length": status.pending_jobs,
                "processor_type": processor if isinstance(processor, dict) else {},
                "clops": getattr(backend, "clops", None),
            }
        )
    return devices


def first_listing(service: Any) -> list[Any] | None:
    """The ``devices`` the service's own init already fetched for its instance, or None."""
    cache = getattr(service, "_backends_info_per_instance", None)
    if not isinstance(cache, dict):
        _note_fallback("QiskitRuntimeService._backends_info_per_instance", "one more GET /backends after sign-in")
        return None
    devices = cache.get(service.active_instance())
    return devices if isinstance(devices, list) else None


def remember_devices(service: Any, devices: list[Any]) -> None:
    """Keep the client's own listing cache current, so its ``least_busy()`` / ``backend()`` agree with ours."""
    cache = getattr(service, "_backends_info_per_instance", None)
    if isinstance(cache, dict):
        cache[service.active_instance()] = devices


def _create_backend_usable(service: Any) -> Callable[..., Any] | None:
    create = getattr(service, "_create_backend_obj", None)
    if not callable(create):
        return None
    try:
        parameters = inspect.signature(create).parameters
    except (TypeError, ValueError):
        return None
    if not {"backend_name", "instance", "use_fractional_gates"} <= set(parameters):
        return None
    return create


def load_backend(service: Any, name: str) -> Any:
    """The backend object for ``name`` with one configuration request (the listing was just fetched).

    Fallback: ``service.backend(name)``, which lists every QPU again first.
    """
    create = _create_backend_usable(service)
    if create is None:
        _note_fallback("QiskitRuntimeService._create_backend_obj", "one more GET /backends per backend")
        return service.backend(name, use_fractional_gates=False)
    backend = create(backend_name=name, instance=service.active_instance(), use_fractional_gates=False)
    if backend is None:  # the client returns None for a name the instance cannot use
        from qiskit.providers.exceptions import QiskitBackendNotFoundError

        raise QiskitBackendNotFoundError(f"No backend matches the criteria: {name}")
    backend.options.use_fractional_gates = False
    return backend


def backend_configuration(service: Any, name: str) -> dict[str, Any]:
    """The QPU's configuration as the API gives it."""
    client = _api_client(service)
    if client is not None and callable(getattr(client, "backend_configuration", None)):
        return dict(client.backend_configuration(name))
    _note_fallback("RuntimeClient.backend_configuration", "a backend object is built first")
    return dict(service.backend(name).configuration().to_dict())


def backend_properties(service: Any, name: str) -> dict[str, Any] | None:
    """The QPU's calibration properties as the API gives them, or None."""
    client = _api_client(service)
    if client is not None and callable(getattr(client, "backend_properties", None)):
        raw = client.backend_properties(name)
        return dict(raw) if raw else None
    _note_fallback("RuntimeClient.backend_properties", "a backend object is built first")
    properties = service.backend(name).properties()
    return None if properties is None else dict(properties.to_dict())


def jobs_page(
    service: Any, *, limit: int, skip: int, pending: bool | None, backend_name: str | None
) -> dict[str, Any] | None:
    """One ``GET /api/v1/jobs`` as the API answers it: ``{"jobs": [...with their state...], "count": total}``.

    Returns None, with one note, when the client has no such call: the caller then uses the public
    ``service.jobs()``, whose job objects carry no status (one more request per unfinished job).
    """
    client = _api_client(service)
    get = getattr(client, "jobs_get", None) if client is not None else None
    wanted = {"limit", "skip", "backend_name", "pending", "descending"}
    try:
        usable = callable(get) and wanted <= set(inspect.signature(get).parameters)
    except (TypeError, ValueError):
        usable = False
    if not usable:
        _note_fallback("RuntimeClient.jobs_get", "one status request per unfinished job")
        return None
    assert get is not None
    page = get(limit=limit, skip=skip, pending=pending, backend_name=backend_name, descending=True)
    return page if isinstance(page, dict) else {"jobs": page, "count": None}


# --- bounded HTTP for the client's own sessions ---------------------------------------------------------------

_hook_lock = threading.Lock()
_hook_installed = False


def install_session_hook(adapter_for_this_thread: Callable[[], Any | None]) -> bool:
    """Let the connector choose the HTTP adapter of every ``RetrySession`` the client creates.

    ``adapter_for_this_thread()`` returns a ``requests`` adapter to mount, or None to keep the client's own retry
    policy (sessions created outside the connector's bounded calls stay untouched). Returns False, with one note,
    when the client has no such hook: the deadlines still hold, only an abandoned worker may live longer.
    """
    global _hook_installed
    with _hook_lock:
        if _hook_installed:
            return True
        try:
            from qiskit_ibm_runtime.api import session as client_session

            original = client_session.RetrySession._initialize_retry
            parameters = list(inspect.signature(original).parameters)
        except (ImportError, AttributeError, TypeError, ValueError):
            _note_fallback("RetrySession._initialize_retry", "HTTP sessions keep the client's own timeouts")
            return False
        if parameters[:1] != ["self"]:
            _note_fallback("RetrySession._initialize_retry", "HTTP sessions keep the client's own timeouts")
            return False

        @functools.wraps(original)  # inspect.signature() still shows the client's own parameters
        def _initialize_retry(self: Any, *args: Any, **kwargs: Any) -> None:
            adapter = adapter_for_this_thread()
            if adapter is None:
                original(self, *args, **kwargs)
                return
            self.mount("http://", adapter)
            self.mount("https://", adapter)

        client_session.RetrySession._initialize_retry = _initialize_retry
        _hook_installed = True
        return True


# --- a key's instances without a service ----------------------------------------------------------------------


def list_instances_without_service(token: str, *, url: str | None, channel: str) -> list[Any]:
    """The key's instances as ``service.instances()`` gives them, with IAM + Global Search + one Global Catalog call
    per instance (2 + N requests) and no ``/backends``: ``accounts.Account(...).list_instances()``.

    Fallback (a client without that class or method): a service is built with no instance and asked for its
    ``instances()``, which also exchanges the key twice and lists the QPUs of the instance it picks.
    """
    try:
        from qiskit_ibm_runtime.accounts import Account

        usable = {"channel", "token", "url"} <= set(inspect.signature(Account.create_account).parameters) and list(
            inspect.signature(Account.list_instances).parameters
        ) == ["self"]
    except (ImportError, AttributeError, TypeError, ValueError):
        usable = False
    if usable:
        return list(Account.create_account(channel=channel, token=token, url=url).list_instances())
    _note_fallback("accounts.Account.list_instances", "a service is built first: IAM twice and GET /backends")
    from qiskit_ibm_runtime import QiskitRuntimeService

    return list(QiskitRuntimeService(channel=channel, token=token, url=url).instances())


# =====================================================================================================================
# Local fleet: local jobs that behave like IBM's.
#
# qiskit-ibm-runtime's primitives run a job on a fake backend through ``QiskitRuntimeLocalService``, which returns a
# ``LocalRuntimeJob`` (an enum status, no tags/metrics/logs). There is no public hook to choose the job class, so
# the local fleet wraps two of that service's private methods, for ITS OWN backends only (the backends that carry
# ``qcl_local_fleet``); every other backend goes through the original methods, untouched:
#
# * ``QiskitRuntimeLocalService._run`` (program "sampler"/"estimator": the V2 primitives, in job, Session and Batch
#   mode): it receives the runtime options (job tags) and the inputs (pubs, options);
# * ``QiskitRuntimeLocalService._run_executor`` (``executor_sampler.Sampler`` / ``executor_estimator.Estimator``).
#
# Fallback when either is missing: no hook; local jobs are the client's ``LocalRuntimeJob`` again (no store
# record), while ``run()`` on a local-fleet backend still simulates only the active qubits (public BackendV2 API).
# =====================================================================================================================

_local_hook_lock = threading.Lock()
_originals: dict[str, Callable[..., Any]] = {}

#: ``factory(kind, service, backend, run_original, *, inputs, options)`` -> the job to return, for our backends.
LocalJobFactory = Callable[..., Any]


def _ours(backend: Any) -> bool:
    return bool(getattr(backend, "qcl_local_fleet", False))


def install_local_job_hook(factory: LocalJobFactory) -> bool:
    """Route the local service's jobs for local-fleet backends to ``factory``. Idempotent; False if not possible."""
    with _local_hook_lock:
        if _originals:
            _originals["factory"] = factory
            return True
        try:
            from qiskit_ibm_runtime.fake_provider.local_service import QiskitRuntimeLocalService
        except ImportError:
            return False
        run = getattr(QiskitRuntimeLocalService, "_run", None)
        run_executor = getattr(QiskitRuntimeLocalService, "_run_executor", None)
        if not callable(run) or not callable(run_executor):
            return False

        @functools.wraps(run)
        def _run(self: Any, program_id: str, inputs: dict, options: Any, *args: Any, **kwargs: Any) -> Any:
            backend = options.get("backend") if isinstance(options, dict) else getattr(options, "backend", None)
            if not _ours(backend):
                return run(self, program_id, inputs, options, *args, **kwargs)
            original = functools.partial(run, self, program_id, inputs, options, *args, **kwargs)
            # A Session/Batch (local) passes "instance" in the options and keeps one service for all its jobs;
            # job mode passes no "instance" for a non-IBM backend. Fallback: every job in job mode.
            session = _session_id(self) if isinstance(options, dict) and "instance" in options else None
            return _originals["factory"](
                program_id, self, backend, original, inputs=inputs, options=options, session_id=session
            )

        @functools.wraps(run_executor)
        def _run_executor(self: Any, backend: Any, options: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
            if not _ours(backend):
                return run_executor(self, backend, options, inputs, *args, **kwargs)

            def original(simulator: Any = None) -> Any:
                # The program on ``simulator`` (an AerSimulator with the reduced noise), else on the backend.
                return run_executor(
                    self, simulator if simulator is not None else backend, options, inputs, *args, **kwargs
                )

            return _originals["factory"](
                "executor", self, backend, original, inputs=inputs, options=options, session_id=None
            )

        _originals.update({"_run": run, "_run_executor": run_executor, "factory": factory})
        QiskitRuntimeLocalService._run = _run
        QiskitRuntimeLocalService._run_executor = _run_executor
        return True


def _session_id(service: Any) -> str:
    """One id per local Session/Batch (its service object lives as long as it does)."""
    import uuid

    with _local_hook_lock:
        value = service.__dict__.get("_qcl_session_id")
        if value is None:
            value = service.__dict__["_qcl_session_id"] = f"local-session-{uuid.uuid4().hex[:12]}"
        return value


def local_job_hook_installed() -> bool:
    return bool(_originals)


def program_semantic_role(program: Any) -> str | None:
    """What an executor program stands for: ``"sampler_v2"``, ``"estimator_v2"``... (the Sampler and Estimator set
    it so the results decode as theirs).

    Private: ``QuantumProgram._semantic_role``. Fallback: None (the local job store then records the job as a
    sampler job).
    """
    role = getattr(program, "_semantic_role", None)
    return role if isinstance(role, str) else None
