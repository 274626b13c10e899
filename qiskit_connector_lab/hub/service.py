"""The class's QPU service: a tornado app JupyterHub starts, serving listings from one upstream per instance.

=================================  ==================================================================
GET  {prefix}api/listing           the instance's QPU listing (the sidebar's ``GET backends`` answer)
GET  {prefix}api/backends/{name}   one QPU's configuration and calibration properties, as IBM gave them
GET  {prefix}api/plan              the instance (name, CRN, plan IBM reports), its usage, the plan answer
GET  {prefix}api/status            what each instance's shared upstream is doing (counts, backoff)
=================================  ==================================================================

Each route takes ``?instance=NAME`` (default: the instance of the class's own configuration); an instance the
service does not serve is a 404 ``instance_not_served``. Every caller is checked with the hub before anything
else: a token or user without ``access:services!service=<name>`` gets 403.

Configuration: the service's own process environment (``IQP_API_TOKEN``, a plan switch, ``*_INSTANCE``, ...), or
the ``.env`` named by ``QCONNECTOR_HUB_ENV_FILE`` (readable by the hub's user only); more instances in
``QCONNECTOR_HUB_INSTANCES``. The cache's settings are ``QConnectorServer``'s, on the command line
(``--QConnectorServer.ttl=15``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import threading
from typing import Any, cast
from urllib.parse import urlparse

from jupyterhub.services.auth import HubAuth, HubAuthenticated, UserNotAllowed
from tornado import web
from tornado.httpserver import HTTPServer
from traitlets import Unicode
from traitlets.config import Application

from ..config import load_settings
from ..errors import ConfigError, ConnectorError
from ..plans import InstanceInfo
from ..providers import Provider
from ..secret import guard_loggers, redact
from ..server.app_settings import QConnectorServer
from ..server.http_errors import ApiError, api_error, error_body, finish_rendered
from ..server.shared_upstream import SharedUpstream
from ..server.upstream import build_provider

log = logging.getLogger("qiskit_connector_lab.hub")

DEFAULT_NAME = "qiskit-connector-lab"
QPU_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:/")
#: Seconds allowed for the hub to say who a caller is (its answer is cached for ``HubAuth.cache_max_age``).
AUTH_DEADLINE = 10.0


class Kept:
    """The provider's raw answers the shared upstream last fetched: configuration, properties, instance.

    The shared upstream caches what it computes from them (a QPU's detail, the plan); the students' servers
    compute the same from the raw answers, so the service hands those on. Nothing here fetches anything.
    """

    def __init__(self, provider: Provider) -> None:
        self._provider = provider
        self.configurations: dict[str, dict[str, Any]] = {}
        self.properties_by_name: dict[str, dict[str, Any] | None] = {}
        self.instance_info: InstanceInfo | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)

    def configuration(self, name: str) -> dict[str, Any]:
        value = self._provider.configuration(name)
        self.configurations[name] = value
        return value

    def properties(self, name: str) -> dict[str, Any] | None:
        value = self._provider.properties(name)
        self.properties_by_name[name] = value
        return value

    def instance(self) -> InstanceInfo:
        info = self._provider.instance()
        self.instance_info = info
        return info


class InstanceUpstream:
    """One instance: its shared upstream and the raw answers its provider gave."""

    def __init__(self, options: QConnectorServer, instance: str | None) -> None:
        self.instance = instance
        self.kept: Kept | None = None
        self.options = options
        self.cache = SharedUpstream(options, log=log, provider_factory=self._build)

    def _build(self) -> Provider:
        if self.kept is None:
            if self.instance is None:
                provider = build_provider(self.options)
            else:
                settings = load_settings(
                    self.options.env_file,
                    instance=self.instance,
                    local=False,
                    deadline=self.options.deadline,
                    listing_ttl=self.options.ttl,
                )
                from ..providers import provider_for

                provider = provider_for(settings)
            self.kept = Kept(provider)
        return cast(Provider, self.kept)


class ClassUpstreams:
    """The instances this service serves (the class configuration's own, plus ``QCONNECTOR_HUB_INSTANCES``)."""

    def __init__(self, options: QConnectorServer, default_instance: str | None, more: list[str]) -> None:
        self.options = options
        self.default_instance = default_instance
        self.served = {name for name in [default_instance, *more] if name}
        self._upstreams: dict[str | None, InstanceUpstream] = {}
        self._lock = threading.Lock()

    def for_instance(self, wanted: str | None) -> InstanceUpstream:
        key: str | None = None if not wanted or wanted == self.default_instance else wanted
        if key is not None and key not in self.served:
            raise ApiError(
                404,
                "instance_not_served",
                "The class's QPU service does not serve that instance.",
                hint="Ask the teacher to add it to QCONNECTOR_HUB_INSTANCES, or use your own credentials.",
            )
        with self._lock:
            upstream = self._upstreams.get(key)
            if upstream is None:
                upstream = self._upstreams[key] = InstanceUpstream(self.options, key)
        return upstream

    def all(self) -> dict[str, InstanceUpstream]:
        with self._lock:
            return {key or (self.default_instance or "default"): value for key, value in self._upstreams.items()}

    async def stop(self) -> None:
        for upstream in self.all().values():
            await upstream.cache.stop()


class ServiceHandler(HubAuthenticated, web.RequestHandler):
    """Every route: the caller checked with the hub first (403 without the scope), JSON answers and errors."""

    upstreams: ClassUpstreams

    def initialize(self, upstreams: ClassUpstreams, hub_auth: HubAuth) -> None:
        self.upstreams = upstreams
        self.hub_auth = hub_auth

    async def prepare(self) -> None:
        # HubAuthenticated asks the hub synchronously from get_current_user; ask here, off the event loop's way,
        # under a deadline, and leave the answer where get_current_user looks for it.
        try:
            model = await asyncio.wait_for(self.hub_auth.get_user(self, sync=False), AUTH_DEADLINE)
        except TimeoutError:
            raise ApiError(504, "hub_timeout", "The hub did not say who is asking in time.") from None
        if not model:
            raise ApiError(403, "forbidden", "Send a JupyterHub token (Authorization: token ...).")
        try:
            self._hub_auth_user_cache = self.check_hub_user(model)
        except UserNotAllowed:
            raise ApiError(
                403,
                "forbidden",
                "This token may not use the class's QPU service.",
                hint="Its token needs the scope access:services!service=<name> (c.Spawner.server_token_scopes).",
            ) from None

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Type", "application/json")

    def reply(self, data: Any) -> None:
        self.finish(json.dumps(data))

    def upstream(self) -> InstanceUpstream:
        wanted = self.get_query_argument("instance", "").strip()
        if wanted and (len(wanted) > 300 or not set(wanted) <= NAME_CHARS):
            raise ApiError(400, "bad_instance", "instance must be an instance name or CRN.")
        return self.upstreams.for_instance(wanted or None)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        body = error_body(self, status_code, error, "The class's QPU service failed; its log has the details.")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, web.HTTPError):
            log.debug("%s %s -> %d", self.request.method, self.request.path, value.status_code)
        else:
            import traceback

            log.error(
                "%s %s failed:\n%s",
                self.request.method,
                self.request.path,
                redact("".join(traceback.format_exception(typ, value, tb))),
            )

    async def answer(self, upstream: InstanceUpstream, produce: Any) -> None:
        try:
            self.reply(await produce())
        except ConnectorError as error:
            raise api_error(error, retry_after=upstream.cache.retry_after()) from None


class ListingHandler(ServiceHandler):
    async def get(self) -> None:
        upstream = self.upstream()
        try:
            # The sidebar's own answer: ranked, serialized and gzipped once per listing by the shared upstream.
            rendered, age = await upstream.cache.backends_rendered()
        except ConnectorError as error:
            raise api_error(error, retry_after=upstream.cache.retry_after()) from None
        finish_rendered(self, rendered, age)


class DetailHandler(ServiceHandler):
    async def get(self, name: str) -> None:
        upstream = self.upstream()
        if not QPU_NAME.match(name):
            raise ApiError(400, "bad_name", "A QPU name is 1 to 64 letters, digits, '_', '.' or '-'.")

        async def produce() -> dict[str, Any]:
            await upstream.cache.detail(name)  # cached per QPU, one flight, backoff: the server's own rule
            kept = upstream.kept
            if kept is None or name not in kept.configurations:
                raise ApiError(503, "not_ready", "The QPU's calibration is not read yet; ask again in a moment.")
            return {
                "name": name,
                "configuration": kept.configurations[name],
                "properties": kept.properties_by_name.get(name),
            }

        await self.answer(upstream, produce)


class PlanHandler(ServiceHandler):
    async def get(self) -> None:
        upstream = self.upstream()

        async def produce() -> dict[str, Any]:
            plan = await upstream.cache.plan()
            kept = upstream.kept
            info = kept.instance_info if kept is not None else None
            return {"plan": plan, "instance": info.as_dict() if info is not None else None, "usage": plan["usage"]}

        await self.answer(upstream, produce)


class StatusHandler(ServiceHandler):
    async def get(self) -> None:
        self.reply({name: value.cache.status() for name, value in self.upstreams.all().items()})


def make_app(upstreams: ClassUpstreams, prefix: str, hub_auth: HubAuth) -> web.Application:
    kwargs = {"upstreams": upstreams, "hub_auth": hub_auth}
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    return web.Application(
        [
            (prefix + "api/listing", ListingHandler, kwargs),
            (prefix + r"api/backends/([^/]+)", DetailHandler, kwargs),
            (prefix + "api/plan", PlanHandler, kwargs),
            (prefix + "api/status", StatusHandler, kwargs),
        ]
    )


class HubService(Application):
    name = "qiskit-connector-lab-hub"
    description = "The class's QPU service for JupyterHub (started by the hub as a managed service)."
    classes = [QConnectorServer]  # noqa: RUF012 - traitlets' own class attribute

    env_file = Unicode(
        None,
        allow_none=True,
        help="The class's .env (default: QCONNECTOR_HUB_ENV_FILE; else the service's process environment only).",
    ).tag(config=True)

    ip = Unicode(
        "",
        help="The address to listen on (default: the host of JUPYTERHUB_SERVICE_URL; '0.0.0.0' in a Kubernetes pod).",
    ).tag(config=True)

    def start_service(self) -> int:
        guard_loggers("qiskit_connector_lab", "qiskit_connector_lab.hub", "tornado.access", "tornado.application")
        # Its own lines at INFO; other libraries' (qiskit's transpiler, each request's access line) at WARNING.
        logging.basicConfig(level=logging.WARNING, format="[qiskit-connector-lab hub %(levelname)s] %(message)s")
        log.setLevel(logging.INFO)
        options = QConnectorServer(parent=self)
        options.provider = "ibm"
        env_file = self.env_file or os.environ.get("QCONNECTOR_HUB_ENV_FILE") or None
        options.env_file = env_file
        try:
            settings = load_settings(env_file, local=False, deadline=options.deadline, listing_ttl=options.ttl)
            if settings.local:
                raise ConfigError(
                    "IQP_API_TOKEN",
                    "is not set for the class's QPU service.",
                    "Give the hub's environment the class's key and plan, or name its .env in QCONNECTOR_HUB_ENV_FILE.",
                )
        except ConnectorError as error:
            log.error("%s", error.message)
            return 2
        more = [name.strip() for name in os.environ.get("QCONNECTOR_HUB_INSTANCES", "").split(",") if name.strip()]
        upstreams = ClassUpstreams(options, settings.instance, more)
        service_url = os.environ.get("JUPYTERHUB_SERVICE_URL") or "http://127.0.0.1:10101"
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or f"/services/{DEFAULT_NAME}/"
        parsed = urlparse(service_url)
        hub_auth = HubAuth(api_token=os.environ.get("JUPYTERHUB_API_TOKEN", ""), cache_max_age=60)
        app = make_app(upstreams, prefix, hub_auth)
        host = self.ip or parsed.hostname or "127.0.0.1"
        return asyncio.run(_serve(app, host, parsed.port or 10101, prefix, upstreams))


async def _serve(app: web.Application, host: str, port: int, prefix: str, upstreams: ClassUpstreams) -> int:
    server = HTTPServer(app, xheaders=True)
    server.listen(port, host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("serving the class's QPUs at http://%s:%d%s (instances: %s)", host, port, prefix, sorted(upstreams.served))
    await stop.wait()
    server.stop()
    await upstreams.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    app = HubService()
    app.initialize(argv)
    return app.start_service()
