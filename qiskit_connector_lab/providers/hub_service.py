"""A student's provider on JupyterHub: the class's QPU service for listings, the student's own key for the rest.

Used by :func:`qiskit_connector_lab.providers.provider_for` when ``QCONNECTOR_HUB_SERVICE_URL`` is set (the hub
passes it with ``c.Spawner.environment``) and the student has IBM credentials of their own (signed in, or a
``.env``). Then:

* the listing, each QPU's configuration and calibration, and the instance (with its usage) come from the service,
  which asks IBM once per instance for the whole class (``GET {url}api/...``, the server's own
  ``JUPYTERHUB_API_TOKEN`` as credential, a deadline on every call);
* jobs, sessions, batches and backend objects use the student's own credentials (:class:`~.ibm.IBMProvider`);
* the plan is checked against the student's own plan switch, with the instance the service reports.

When the service is down or refuses (no answer, 401/403, an instance it does not serve, a reply that is not its
own), the student's own provider answers instead, and every listing says so in one note until the service answers
again (it is asked again after :data:`RETRY_SECONDS`). An error IBM gave the service (429, unreachable, ...) is the
student's error too: asking IBM with the student's key then would only multiply the load on IBM.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from datetime import datetime
from typing import Any

import requests

from ..config import Settings
from ..errors import BadResponse, RateLimited, ServerError, Unreachable
from ..plans import InstanceInfo, PlanCheck, verify_plan
from ..qpus import QPU, Listing, utcnow
from .base import JobsPage, Provider, Usage

log = logging.getLogger("qiskit_connector_lab")

SERVICE_URL_VARIABLE = "QCONNECTOR_HUB_SERVICE_URL"
#: Seconds the student's own provider answers alone after the service failed, before the service is asked again.
RETRY_SECONDS = 30.0
#: Seconds one plan answer of the service is reused (the plan is read as instance, check, usage in a row).
PLAN_REUSE_SECONDS = 5.0
_QPU_FIELDS = {f.name for f in dataclasses.fields(QPU)}
_UPSTREAM_CODES = {"rate_limited", "unreachable", "deadline_exceeded", "server_error", "bad_response", "unauthorized"}


def service_url(environ: Any = None) -> str | None:
    """The class's QPU service, from ``QCONNECTOR_HUB_SERVICE_URL`` (None when unset or blank)."""
    value = (os.environ if environ is None else environ).get(SERVICE_URL_VARIABLE, "").strip()
    if not value:
        return None
    return value if value.endswith("/") else value + "/"


class ServiceUnusable(Exception):
    """The service is down, refused, or answered something that is not its own: fall back (reason: one line)."""


def _qpu(data: Any) -> QPU:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ServiceUnusable("a QPU in its listing has no name")
    fields = {key: value for key, value in data.items() if key in _QPU_FIELDS}
    try:
        return QPU(**fields)
    except TypeError:
        raise ServiceUnusable("a QPU in its listing lacks a field") from None


def listing_from_answer(data: Any) -> Listing:
    """The listing the service sent (a ``GET backends`` answer: QPUs, fetched_at, stale, notes), checked field by
    field (the QPUs' extra keys, such as ``least_busy``, are not a QPU's: left out)."""
    if not isinstance(data, dict) or not isinstance(data.get("qpus"), list):
        raise ServiceUnusable("its listing is not a listing")
    try:
        fetched_at = datetime.fromisoformat(str(data.get("fetched_at")))
    except ValueError:
        raise ServiceUnusable("its listing has no time") from None
    notes = data.get("notes")
    notes = notes if isinstance(notes, list) else []
    return Listing(
        qpus=tuple(_qpu(item) for item in data["qpus"]),
        fetched_at=fetched_at,
        provider="ibm",
        stale=bool(data.get("stale")),
        stale_reason=str(data.get("stale_reason") or ""),
        notes=tuple(str(note) for note in notes),
    )


class HubServiceProvider(Provider):
    kind = "ibm"

    def __init__(self, settings: Settings, url: str) -> None:
        super().__init__(settings)
        from .ibm import IBMProvider

        self.url = url
        #: The student's own provider: jobs, sessions, backends; the listing too while the service is unusable.
        self.own = IBMProvider(settings)
        self._http = requests.Session()
        self._http_lock = threading.Lock()
        self._down_until = 0.0
        self._down_reason: str | None = None
        self._properties: dict[str, dict[str, Any] | None] = {}
        self._plan: tuple[float, dict[str, Any]] | None = None
        #: Calls answered by the service, and by the student's own provider instead of it (tests, benchmarks).
        self.service_answers = 0
        self.fallbacks = 0

    @property
    def client_notes(self) -> list[str]:
        return self.own.client_notes

    # -- asking the service ----------------------------------------------------------------------------------
    def _get(self, path: str) -> Any:
        if time.monotonic() < self._down_until:
            raise ServiceUnusable(self._down_reason or "it failed a moment ago")
        token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
        params = {"instance": self.settings.instance} if self.settings.instance else {}
        deadline = self.settings.deadline
        try:
            response = self._http.get(
                self.url + path,
                params=params,
                headers={"Authorization": f"token {token}", "Accept": "application/json"},
                timeout=(min(3.0, deadline), deadline),
                allow_redirects=False,
            )
        except requests.Timeout:
            self._went_down(f"it did not answer within {deadline:g} s")
            raise ServiceUnusable(self._down_reason) from None
        except requests.RequestException:
            self._went_down("it could not be reached")
            raise ServiceUnusable(self._down_reason) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        code = body.get("code") if isinstance(body, dict) else None
        if response.status_code == 200 and isinstance(body, dict):
            self._came_back()
            self.service_answers += 1
            return body
        if code in _UPSTREAM_CODES and response.status_code >= 500:
            self._came_back()  # the service works; IBM behind it does not
            message = str(body.get("message") or "IBM Quantum failed behind the class's QPU service.")
            if code == "rate_limited":
                retry = response.headers.get("Retry-After", "")
                raise RateLimited(message, float(retry) if retry.isdigit() else None)
            if code in ("unreachable", "deadline_exceeded"):
                raise Unreachable(message)
            raise ServerError(message, response.status_code)
        if response.status_code in (401, 403):
            self._went_down(f"it refused this server's token (HTTP {response.status_code})")
        elif code == "instance_not_served":
            self._went_down(f"it does not serve the instance {self.settings.instance}")
        else:
            self._went_down(f"it answered HTTP {response.status_code}")
        raise ServiceUnusable(self._down_reason)

    def _went_down(self, reason: str) -> None:
        if self._down_reason is None:
            log.warning("qiskit-connector-lab: the class's QPU service at %s failed: %s.", self.url, reason)
        self._down_reason = reason
        self._down_until = time.monotonic() + RETRY_SECONDS

    def _came_back(self) -> None:
        if self._down_reason is not None:
            log.info("qiskit-connector-lab: the class's QPU service answers again.")
        self._down_reason, self._down_until = None, 0.0

    def fallback_note(self) -> str:
        return (
            f"The class's QPU service could not be used ({self._down_reason or 'it failed'}); "
            "listing with your own credentials."
        )

    # -- listing ---------------------------------------------------------------------------------------------
    def _fetch_listing(self) -> Listing:
        try:
            return listing_from_answer(self._get("api/listing"))
        except ServiceUnusable:
            self.fallbacks += 1
            own = self.own.listing(1.0)
            return dataclasses.replace(own, notes=(*own.notes, self.fallback_note()))

    # -- one QPU ---------------------------------------------------------------------------------------------
    def configuration(self, name: str) -> dict[str, Any]:
        try:
            answer = self._get(f"api/backends/{name}")
        except ServiceUnusable:
            self.fallbacks += 1
            return self.own.configuration(name)
        configuration = answer.get("configuration")
        if not isinstance(configuration, dict):
            raise BadResponse(f"The class's QPU service sent no configuration for {name}.")
        properties = answer.get("properties")
        self._properties[name] = properties if isinstance(properties, dict) else None
        return configuration

    def properties(self, name: str) -> dict[str, Any] | None:
        if name in self._properties:  # fetched with the configuration, a moment ago
            return self._properties.pop(name)
        try:
            answer = self._get(f"api/backends/{name}")
        except ServiceUnusable:
            self.fallbacks += 1
            return self.own.properties(name)
        properties = answer.get("properties")
        return properties if isinstance(properties, dict) else None

    # -- the instance and the plan ---------------------------------------------------------------------------
    def _plan_answer(self) -> dict[str, Any]:
        cached = self._plan
        if cached is not None and time.monotonic() - cached[0] < PLAN_REUSE_SECONDS:
            return cached[1]
        answer = self._get("api/plan")
        self._plan = (time.monotonic(), answer)
        return answer

    def instance(self) -> InstanceInfo:
        try:
            info = self._plan_answer().get("instance")
        except ServiceUnusable:
            self.fallbacks += 1
            return self.own.instance()
        if not isinstance(info, dict) or not isinstance(info.get("name"), str):
            raise BadResponse("The class's QPU service sent no instance.")
        return InstanceInfo(
            name=info["name"],
            crn=info.get("crn") if isinstance(info.get("crn"), str) else None,
            plan_name=str(info.get("plan_name") or ""),
            pricing_type=str(info.get("pricing_type") or "unknown"),
        )

    def check_plan(self) -> PlanCheck:
        settings = self.settings
        # The fallback is said by the listing's notes (the sidebar and the summary show those): not here again.
        return verify_plan(settings.plan, self.instance(), switch=settings.plan_switch, plan_names=settings.plan_names)

    def usage(self) -> Usage | None:
        try:
            usage = self._plan_answer().get("usage")
        except ServiceUnusable:
            self.fallbacks += 1
            return self.own.usage()
        if not isinstance(usage, dict):
            return None

        def seconds(key: str) -> float | None:
            value = usage.get(key)
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        return Usage(
            consumed_seconds=seconds("consumed_seconds"),
            limit_seconds=seconds("limit_seconds"),
            limit_reached=usage.get("limit_reached") is True,
        )

    # -- the student's own -----------------------------------------------------------------------------------
    def backend(self, name: str) -> Any:
        return self.own.backend(name)

    def open_mode(self, backend: Any, mode: str) -> Any:
        return self.own.open_mode(backend, mode)

    def close_mode(self, session: Any) -> None:
        self.own.close_mode(session)

    def jobs(self, pending: bool = False, backend: str | None = None, limit: int = 20, offset: int = 0) -> JobsPage:
        return self.own.jobs(pending=pending, backend=backend, limit=limit, offset=offset)

    def job_detail(self, job_id: str) -> dict[str, Any]:
        return self.own.job_detail(job_id)

    def cancel_job(self, job_id: str) -> str:
        return self.own.cancel_job(job_id)

    def job_handle(self, job_id: str) -> Any:
        return self.own.job_handle(job_id)

    def describe_service(self) -> dict[str, Any]:
        """Where listings come from now (no secret): for diagnostics."""
        return {
            "url": self.url,
            "down_reason": self._down_reason,
            "service_answers": self.service_answers,
            "fallbacks": self.fallbacks,
            "checked_at": utcnow().isoformat(),
        }


__all__ = ["HubServiceProvider", "ServiceUnusable", "listing_from_answer", "service_url"]
