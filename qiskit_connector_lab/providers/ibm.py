"""IBM Quantum through the real ``qiskit_ibm_runtime.QiskitRuntimeService``, with every call bounded.

Costs, per the measured behaviour of qiskit-ibm-runtime 0.51 (see the README):

* the service is built once per configuration and cached; its init already fetches ``GET /api/v1/backends``,
  and that reply becomes the first listing (no second request);
* every later listing is **one** ``GET /api/v1/backends``: every QPU's status and queue in one reply (no
  ``status()`` per QPU, and no ranking on the client's own cached list);
* a backend object costs one ``configuration`` request the first time, then comes from the client's cache.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..config import Settings
from ..errors import BadResponse, ConfigError, Unauthorized, Unreachable
from ..jobs.from_ibm import (
    BadJobRow,
    UnreadableJob,
    checked_record,
    iso,
    job_status,
    read_tags,
    records_from_api,
    row_notes,
    usage_seconds,
    with_metrics,
)
from ..jobs.records import CANCELLED, ERROR, JobNotCancellable, JobNotFound, JobRecord
from ..plans import InstanceInfo, PlanCheck, find_instance, verify_plan
from ..qpus import Listing, listing_from_devices, usable_devices
from ..secret import guard_loggers, redacting_filter
from . import runtime_internals as internals
from .base import JobsPage, Provider, Usage
from .bounded import call_with_deadline, capture_client_warnings, install_bounded_http

T = TypeVar("T")


class _QuietAccountNotice(logging.Filter):
    """Drop the client's "Loading account with the given token" warning: the token is ours to pass, by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Loading account with the given token")


_quiet_account_notice = _QuietAccountNotice()


class IBMProvider(Provider):
    kind = "ibm"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        if settings.token is None:
            raise ConfigError("IQP_API_TOKEN", "is not set.", "Put your IBM Quantum API key in .env.")
        self._service: Any = None
        self._service_lock = threading.Lock()
        self._instances: list[InstanceInfo] | None = None
        #: The IBM client's own warnings during our calls, one line each (taken by connect() as notes).
        self.client_notes: list[str] = []
        self._final_jobs: dict[str, JobRecord] = {}  # a final job never changes: no status request for it again
        redacting_filter.add(settings.token)
        guard_loggers("qiskit_ibm_runtime", "ibm_cloud_sdk_core", "urllib3", "requests", "qiskit_connector_lab")
        account_logger = logging.getLogger("qiskit_ibm_runtime.qiskit_runtime_service")
        if _quiet_account_notice not in account_logger.filters:
            account_logger.addFilter(_quiet_account_notice)

    def _bounded(self, what: str, fn: Callable[[], T]) -> T:
        return call_with_deadline(
            fn, what=what, seconds=self.settings.deadline, secrets=(self.settings.token,), notes=self.client_notes
        )

    # -- the service -----------------------------------------------------------------------------------------
    def _service_kwargs(self) -> dict[str, Any]:
        settings = self.settings
        assert settings.token is not None
        kwargs: dict[str, Any] = {
            "channel": settings.channel,
            "token": settings.token.reveal(),
            "instance": settings.instance,
        }
        if settings.cloud_url:
            kwargs["url"] = settings.cloud_url
        if settings.runtime_url:
            runtime_url = settings.runtime_url
            kwargs.setdefault("url", runtime_url)
            kwargs["url_resolver"] = lambda url, instance, private_endpoint=False, channel=None: runtime_url
        if settings.instance is None:
            kwargs["instance"] = "auto"
        return kwargs

    @property
    def service(self) -> Any:
        """The cached ``QiskitRuntimeService``, built (once) under the deadline."""
        first = None
        with self._service_lock:
            if self._service is None:
                install_bounded_http()
                capture_client_warnings()
                kwargs = self._service_kwargs()

                def build() -> tuple[Any, Listing | None]:
                    from qiskit_ibm_runtime import QiskitRuntimeService

                    service = QiskitRuntimeService(**kwargs)
                    # The init fetched GET /backends for the instance: that reply becomes the first listing, read
                    # and validated here, inside the bounded, classified call. The client keeps only the devices
                    # that could be read, so a malformed one cannot break its backend() later.
                    devices = internals.first_listing(service)
                    if devices is None:
                        return service, None
                    listing = listing_from_devices(devices, "ibm")
                    internals.remember_devices(service, usable_devices(devices, listing))
                    return service, listing

                try:
                    service, first = self._bounded("signing in", build)
                except Unreachable as exc:
                    raise self._sign_in_unreachable(exc) from None
                self._service = service
            service = self._service
        if first is not None:  # primed outside the service lock: the listing lock is never taken inside it
            self._prime_listing(first)
        return service

    def _sign_in_unreachable(self, exc: Unreachable) -> Unreachable:
        """With an endpoint override but no ``IAM_URL``, the client signs in at IBM Cloud's IAM (or ``iam.`` + the
        override's host), not at the endpoint: name the variable that is missing, not only the network."""
        if self.settings.endpoint is None or os.environ.get("IAM_URL"):
            return exc
        return Unreachable(
            "IBM Quantum could not be reached while signing in (connection failed): the endpoint is overridden "
            f"({self.settings.endpoint}) but IAM_URL is not set, so the client signed in at IBM Cloud's IAM. Set "
            "IAM_URL in the process environment to that endpoint's sign-in URL, or use the offline local fleet "
            "(%qconnect --local, connect(local=True))."
        )

    # -- listing ---------------------------------------------------------------------------------------------
    def listing(self, max_age: float | None = None) -> Listing:
        self.service  # noqa: B018 - the service's init may provide the first listing
        return super().listing(max_age)

    def _signed_in(self, what: str, action: Callable[[Any], T]) -> T:
        """``action(service)`` under the deadline; on a 401, sign in again once (a new service) and retry.

        The client keeps its IAM token until its own clock says it expired, but IBM may revoke it earlier. A
        second refusal is the key's fault, and is reported.
        """
        service = self.service
        try:
            return self._bounded(what, lambda: action(service))
        except Unauthorized:
            with self._service_lock:
                if self._service is service:
                    self._service = None
            service = self.service
            return self._bounded(what, lambda: action(service))

    def _fetch_listing(self) -> Listing:
        def list_backends(service: Any) -> Listing:
            # The one call that returns every queue (GET /api/v1/backends); the client's cache keeps the devices
            # that could be read, so its least_busy()/backend() agree with us and never trip on a malformed one.
            devices = internals.list_devices(service)
            listing = listing_from_devices(devices, "ibm")
            internals.remember_devices(service, usable_devices(devices, listing))
            return listing

        return self._signed_in("listing the QPUs", list_backends)

    # -- backends, plan, modes -------------------------------------------------------------------------------
    def backend(self, name: str) -> Any:
        # service.backend(name) re-lists every QPU (GET /backends) before building one backend. We have just
        # listed them, so build the backend directly: one configuration request, cached by the client.
        return self._signed_in(f"loading QPU {name}", lambda service: internals.load_backend(service, name))

    def instances(self) -> list[InstanceInfo]:
        if self._instances is None:
            raw = self._signed_in("reading the instances", lambda service: service.instances())
            self._instances = [
                InstanceInfo(
                    name=str(i.get("name") or ""),
                    crn=i.get("crn"),
                    plan_name=str(i.get("plan") or ""),
                    pricing_type=str(i.get("pricing_type") or "unknown"),
                )
                for i in raw
            ]
        return self._instances

    def instance(self) -> InstanceInfo:
        service = self.service
        crn = service.active_instance()
        info = find_instance(self.instances(), self.settings.instance, crn)
        return info or InstanceInfo(
            name=self.settings.instance or crn or "", crn=crn, plan_name="", pricing_type="unknown"
        )

    def check_plan(self) -> PlanCheck:
        return verify_plan(
            self.settings.plan, self.instance(), switch=self.settings.plan_switch, plan_names=self.settings.plan_names
        )

    def usage(self) -> Usage | None:
        raw = self._signed_in("reading the usage", lambda service: service.usage())
        if not raw:
            return None
        limit = raw.get("usage_limit_seconds", raw.get("usage_allocation_seconds"))
        return Usage(
            consumed_seconds=raw.get("usage_consumed_seconds"),
            limit_seconds=limit,
            limit_reached=bool(raw.get("usage_limit_reached", False)),
        )

    def open_mode(self, backend: Any, mode: str) -> Any:
        from qiskit_ibm_runtime import Batch, Session

        factory = Session if mode == "session" else Batch
        return call_with_deadline(
            lambda: factory(backend=backend),
            what=f"opening a {mode} on {backend.name}",
            seconds=self.settings.deadline,
            secrets=(self.settings.token,),
            on_late_result=lambda late: late.close(),
        )  # opened after we gave up: close it

    def close_mode(self, session: Any) -> None:
        self._bounded("closing the previous session", session.close)

    def configuration(self, name: str) -> dict[str, Any]:
        return self._signed_in(
            f"reading the configuration of {name}", lambda service: internals.backend_configuration(service, name)
        )

    def properties(self, name: str) -> dict[str, Any] | None:
        return self._signed_in(
            f"reading the properties of {name}", lambda service: internals.backend_properties(service, name)
        )

    # -- jobs ------------------------------------------------------------------------------------------------
    def jobs(self, pending: bool = False, backend: str | None = None, limit: int = 20, offset: int = 0) -> JobsPage:
        filters: dict[str, Any] = {
            "limit": limit,
            "skip": offset,
            "pending": True if pending else None,
            "backend_name": backend,
        }
        # One GET /api/v1/jobs: the raw page carries every job's state and the total (None: the client lacks it).
        raw = self._signed_in(
            "listing the jobs",
            lambda service: internals.jobs_page(
                service, limit=limit, skip=offset, pending=filters["pending"], backend_name=backend
            ),
        )
        if raw is not None:
            try:  # a job that cannot be read is left out with a note; only a page that is no list fails
                records, total, notes = records_from_api(raw)
            except ValueError:
                raise BadResponse("IBM Quantum sent a job list that could not be read. Retry later.") from None
            return JobsPage(records, total, "ibm", notes)
        # The public client: service.jobs() is one GET /api/v1/jobs, but its job objects carry no status, so each
        # job not yet known to be final costs one GET /api/v1/jobs/{id} more.
        found, problems = self._signed_in("listing the jobs", lambda service: self._public_jobs(service, filters))
        listed = len(found) + len(problems)
        more = 1 if listed == limit else 0  # the public call does not say the total
        return JobsPage(tuple(found), offset + listed + more, "ibm", row_notes(problems))

    def _public_jobs(self, service: Any, filters: dict[str, Any]) -> tuple[list[JobRecord], list[str]]:
        """The records of ``service.jobs()``, and one "row N: why" per job that cannot be read (left out)."""
        out: list[JobRecord] = []
        problems: list[str] = []
        for position, job in enumerate(service.jobs(**filters), start=1):
            known = self._final_jobs.get(job.job_id())
            if known is not None:
                out.append(known)
                continue
            try:
                record = record_from_job(job, with_session=False)
            except BadJobRow as problem:
                problems.append(f"row {position}, job {_shown_id(job)}: {problem}")
                continue
            if record.final:
                self._final_jobs[record.id] = record
                while len(self._final_jobs) > 1000:  # bounded: forget the oldest
                    self._final_jobs.pop(next(iter(self._final_jobs)))
            out.append(record)
        return out, problems

    def job_detail(self, job_id: str) -> dict[str, Any]:
        def read(service: Any) -> dict[str, Any]:
            job = _client_job(service, job_id)
            metrics = job.metrics()
            try:
                record = with_metrics(record_from_job(job), metrics)
            except BadJobRow as problem:  # this job's answer: not an upstream failure, no backoff
                raise UnreadableJob(
                    f"IBM Quantum sent job {_shown_id(job)} in a form that cannot be read ({problem}); the other "
                    "jobs still show."
                ) from None
            return dict(record.as_dict(), usage_seconds=usage_seconds(None, metrics))

        return self._signed_in(f"reading job {job_id}", read)

    def cancel_job(self, job_id: str) -> str:
        def cancel(service: Any) -> str:
            from qiskit_ibm_runtime.exceptions import RuntimeInvalidStateError

            job = _client_job(service, job_id)
            try:
                job.cancel()
            except RuntimeInvalidStateError:
                raise JobNotCancellable(job_id, job_status(job.status())) from None
            self._final_jobs.pop(job_id, None)
            return CANCELLED

        return self._signed_in(f"cancelling job {job_id}", cancel)

    def job_handle(self, job_id: str) -> Any:
        return self._signed_in(f"reading job {job_id}", lambda service: _client_job(service, job_id))


def _client_job(service: Any, job_id: str) -> Any:
    from qiskit_ibm_runtime.exceptions import RuntimeJobNotFound

    try:
        return service.job(job_id)
    except RuntimeJobNotFound:
        raise JobNotFound(f"IBM Quantum has no job {job_id!r} in this instance.") from None


def _shown_id(job: Any) -> str:
    """The job's id for a one-line message (``?`` when it is not a short printable string)."""
    job_id = job.job_id()
    return job_id if isinstance(job_id, str) and 0 < len(job_id) <= 64 and job_id.isprintable() else "?"


def record_from_job(job: Any, with_session: bool = True) -> JobRecord:
    """The record of a client job object. ``job.status()`` costs one request unless the job is final, and so does
    ``job.session_id`` when it is None (job mode): the list leaves it out (``with_session=False``).

    A job the record refuses (tags that are not short strings, a field of the wrong type) is a :class:`BadJobRow`
    naming the field."""
    status = job_status(job.status())
    backend = job.backend()
    error = None
    if status == ERROR:
        error = " ".join(str(job.error_message() or "The job failed.").split())[:300]
    return checked_record(
        id=job.job_id(),
        backend=getattr(backend, "name", "") or "",
        primitive=job.primitive_id or "",
        status=status,
        created=iso(job.creation_date),
        tags=read_tags(job.tags),
        session_id=(job.session_id or None) if with_session else None,
        error=error,
        provider="ibm",
    )
