"""The REST routes under ``{base_url}qiskit-connector-lab/``: plan, QPUs, one QPU, the pick, status.

Every handler is an authenticated ``APIHandler`` (403 without a Jupyter token or login cookie), and POST
keeps jupyter_server's XSRF check (a cookie-authenticated POST must carry the ``_xsrf`` token). All answers,
errors included, are JSON; an error is ``{"message": one sentence, "code": ..., "hint"?: what to do}``.

=============================  =========================================================================
GET  plan                      plan, instance, channel, modes, usage
GET  backends                  every QPU (ranked), least busy, fetched_at, stale flag and reason
GET  backends/{name}           one QPU: layout, errors, medians, queue history
GET  pick                      the QPU picked in the sidebar (used by a bare ``%qconnect``)
POST pick                      ``{"qpu": name | null}``: pick (or clear) a listed QPU
GET  status                    what the shared upstream cache is doing (counts, backoff, refresher)
GET  jobs                      recent jobs, newest first: ``pending``, ``qpu``, ``limit``, ``offset``
GET  jobs/{id}                 one job: timestamps, usage, error text
POST jobs/{id}/cancel          cancel a queued or running job (409 once it has finished)
GET/POST/DELETE account        sign in with an API key, the signed-in account, sign out (``account_routes``)
=============================  =========================================================================

``wire.schema.json`` (next to this module) describes every answer; ``tests/test_server_wire.py`` holds the real
answers to it. A request from a page of another origin (a browser's ``Origin`` header that is not this server's)
is refused with 403 ``cross_origin``.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..errors import ConnectorError
from ..pick import Pick, read_pick, write_pick
from ..ranking import select
from .handler import QConnectorHandler
from .http_errors import CONFIG_ERROR_CODES, ApiError, api_error, finish_rendered
from .shared_upstream import SharedUpstream

NAMESPACE = "qiskit-connector-lab"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _answers(method: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Turn a connector error raised by a route into its JSON error answer."""

    @functools.wraps(method)
    async def wrapper(self: QConnectorHandler, *args: Any, **kwargs: Any) -> None:
        try:
            await method(self, *args, **kwargs)
        except ConnectorError as error:
            answer = api_error(error, retry_after=self.cache.retry_after())
            if answer.code in CONFIG_ERROR_CODES:  # the sidebar asks again when the .env changes, not on a timer
                answer.extra["config"] = self.cache.config()
            raise answer from None

    return wrapper


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ApiError(400, "bad_name", "A QPU name is 1 to 64 letters, digits, '_', '.' or '-'.")
    return name


def pick_payload(pick: Pick | None, provider: str) -> dict[str, Any]:
    return {
        "qpu": pick.backend if pick else None,
        "provider": provider,
        "updated_at": pick.updated_at if pick else None,
    }


class PlanHandler(QConnectorHandler):
    @web.authenticated
    @_answers
    async def get(self) -> None:
        self.reply(await self.cache.plan())


class BackendsHandler(QConnectorHandler):
    @web.authenticated
    @_answers
    async def get(self) -> None:
        # Ranked, serialized and gzipped once per listing, off the event loop (a 5000-QPU listing is 1.2 MB).
        rendered, age = await self.cache.backends_rendered()
        finish_rendered(self, rendered, age)


class BackendHandler(QConnectorHandler):
    @web.authenticated
    @_answers
    async def get(self, name: str) -> None:
        self.reply(await self.cache.detail(check_name(name)))


class PickHandler(QConnectorHandler):
    @web.authenticated
    @_answers
    async def get(self) -> None:
        kind = (await self.cache.provider()).kind
        pick = await asyncio.get_running_loop().run_in_executor(None, read_pick, kind)
        self.reply(pick_payload(pick, kind))

    @web.authenticated
    @_answers
    async def post(self) -> None:
        data = self.json_body()
        if not isinstance(data, dict) or not {"qpu", "backend"} & data.keys():
            shape = 'The body must be a JSON object: {"qpu": "<QPU name>"} or {"qpu": null}.'
            raise ApiError(400, "bad_request", shape)
        field = "qpu" if "qpu" in data else "backend"  # "backend": what the sidebar sent before
        name = data[field]
        if name is not None and not isinstance(name, str):
            raise ApiError(400, "bad_name", f"{field} must be a QPU name (a string) or null.")
        kind = (await self.cache.provider()).kind
        if name is not None:
            check_name(name)
            listing = await self.cache.listing()
            # UnknownBackend (404) unless it is listed now; its hint is built off the event loop (5000 names)
            await asyncio.get_running_loop().run_in_executor(None, select, listing, name)
        else:
            self.cache.touch()
        pick = await asyncio.get_running_loop().run_in_executor(None, write_pick, name, kind)
        self.log.info("qiskit-connector-lab: picked %s (%s)", name or "nothing", kind)
        self.reply(pick_payload(pick, kind))


class StatusHandler(QConnectorHandler):
    @web.authenticated
    @_answers
    async def get(self) -> None:
        self.reply(self.cache.status())


JOB_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_JOBS_LIMIT = 100
MAX_JOBS_OFFSET = 100_000
ASCII_NUMBER = re.compile(r"[0-9]{1,6}")  # ASCII digits only: str.isdigit() also takes '²' and '①'


def check_job_id(job_id: str) -> str:
    if not JOB_ID_PATTERN.match(job_id):
        raise ApiError(400, "bad_job_id", "A job id is 1 to 64 letters, digits, '_' or '-'.")
    return job_id


def jobs_query(handler: APIHandler) -> dict[str, Any]:
    """The job list's filters from the query string, each checked (a bad one is a 400 naming it)."""
    pending_text = handler.get_query_argument("pending", "false").strip().lower()
    if pending_text not in ("true", "false", "1", "0", ""):
        raise ApiError(400, "bad_pending", "pending must be true or false.")
    qpu = (handler.get_query_argument("qpu", "") or handler.get_query_argument("backend", "")).strip() or None
    if qpu is not None:
        check_name(qpu)
    numbers = {}
    for name, default, low, high in (("limit", 20, 1, MAX_JOBS_LIMIT), ("offset", 0, 0, MAX_JOBS_OFFSET)):
        text = handler.get_query_argument(name, str(default)).strip()
        if not ASCII_NUMBER.fullmatch(text) or not low <= int(text) <= high:
            raise ApiError(400, f"bad_{name}", f"{name} must be a whole number from {low} to {high}, in ASCII digits.")
        numbers[name] = int(text)
    return {"pending": pending_text in ("true", "1"), "qpu": qpu, **numbers}


class JobsHandler(QConnectorHandler):
    @web.authenticated
    @_answers
    async def get(self) -> None:
        self.reply(await self.cache.jobs.page(**jobs_query(self)))


class JobHandler(QConnectorHandler):
    @web.authenticated
    @_answers
    async def get(self, job_id: str) -> None:
        self.reply(await self.cache.jobs.detail(check_job_id(job_id)))


class JobCancelHandler(QConnectorHandler):
    @web.authenticated
    @_answers
    async def post(self, job_id: str) -> None:
        answer = await self.cache.jobs.cancel(check_job_id(job_id))
        self.log.info("qiskit-connector-lab: cancelled job %s", job_id)
        self.reply(answer)


class NotFoundHandler(QConnectorHandler):
    """Anything else under the namespace: a JSON 404 (after authentication, so nothing leaks)."""

    @web.authenticated
    def get(self, _path: str) -> None:
        raise web.HTTPError(404)

    post = put = patch = delete = get


def route_table(base_url: str, cache: SharedUpstream) -> list[tuple[str, type, dict[str, Any]]]:
    from .account_routes import AccountHandler  # sign-in and sign-out; it builds on QConnectorHandler

    def path(tail: str) -> str:
        return url_path_join(base_url, NAMESPACE, tail)

    kwargs = {"cache": cache}
    return [
        (path("plan"), PlanHandler, kwargs),
        (path("backends"), BackendsHandler, kwargs),
        (path(r"backends/(?P<name>[^/]+)"), BackendHandler, kwargs),
        (path("pick"), PickHandler, kwargs),
        (path("status"), StatusHandler, kwargs),
        (path("jobs"), JobsHandler, kwargs),
        (path(r"jobs/(?P<job_id>[^/]+)"), JobHandler, kwargs),
        (path(r"jobs/(?P<job_id>[^/]+)/cancel"), JobCancelHandler, kwargs),
        (path("account"), AccountHandler, kwargs),
        (path("(.*)"), NotFoundHandler, kwargs),
    ]


def setup_routes(web_app: Any, cache: SharedUpstream) -> None:
    web_app.add_handlers(".*$", route_table(web_app.settings["base_url"], cache))
