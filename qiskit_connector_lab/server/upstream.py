"""The server's one way to the provider: the provider itself, the thread pool, the deadline guard and the backoff.

Every blocking provider call of the server goes through :meth:`Upstream.call`: it runs in a bounded thread pool
(never on the event loop), under an outer guard on top of the core's own deadline, and reports its outcome to the
:class:`~.backoff.Backoff` (a failure starts or lengthens it, a success ends it). The cached values
(:mod:`.cache`) and the routes' uncached calls (a job's detail, a cancel) both use it; nothing else in the server
calls the provider.

When the ``.env`` changes, the provider is built again and :attr:`Upstream.generation` goes up, so every cached
value from the old configuration is dropped (see :class:`~.cache.SharedValue`).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import os
import time
import traceback
from collections.abc import Awaitable, Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from ..accounts import store as account_store
from ..config import find_env_file, load_settings, shown_path
from ..errors import ConfigError, ConnectorError, DeadlineExceeded, UnknownBackend, UpstreamError
from ..jobs.records import JobNotCancellable, JobNotFound
from ..providers import Provider, provider_for
from ..providers.bounded import classify
from ..secret import redact, redacting_filter
from .backoff import Backoff
from .http_errors import first_sentence
from .single_flight import SingleFlight

T = TypeVar("T")

_LOCAL_ARG = {"auto": None, "local": True, "ibm": False}

#: Errors that answer the question asked (no such job, already finished, no such QPU): not upstream failures.
_ANSWERS = (JobNotFound, JobNotCancellable, UnknownBackend)


#: How often a call runs again when the configuration changed while it ran, before the request gives up.
_GENERATION_TRIES = 3


class ConfigurationChanged(ConnectorError):
    """The configuration changed again and again while one request was being answered."""

    code = "configuration_changed"


class InternalError(ConnectorError):
    """Something in the server extension itself failed (the log has the traceback, the client a sentence)."""

    code = "internal_error"


def config_stamp(options: Any) -> tuple[Any, ...]:
    """What the server's configuration was resolved from: the .env (see :func:`_env_stamp`) and the signed-in
    account's file (a sign-in or sign-out changes it), each a few stats."""
    return (*_env_stamp(options), account_store.stamp())


def _env_stamp(options: Any) -> tuple[Any, ...]:
    """The .env found and its mtime and size (cheap: a few stats). When it changes, the server resolves its
    settings again, so an added or edited .env is seen."""
    try:
        path, _ = find_env_file(options.env_file or None, os.environ)
        if path is None:
            return (None,)
        info = path.stat()
        return (str(path), info.st_mtime_ns, info.st_size)
    except OSError:
        return ("unreadable",)
    except Exception:  # noqa: BLE001 - a stamp that never matches makes the next request resolve (and report)
        return (time.monotonic(),)


def config_info(options: Any, provider: Provider | None) -> dict[str, Any]:
    """Where the server's configuration comes from, for the sidebar: the .env (``~/...``), the endpoint when it is
    not IBM's default, and when the .env last changed (ISO; None without a .env). A configuration error is retried
    by the sidebar when ``changed_at`` changes, not on a timer."""
    try:
        path, _ = find_env_file(options.env_file or None, os.environ)
    except Exception:  # noqa: BLE001 - an unreadable rule is shown as "no .env"; the error itself is reported apart
        path = None
    changed_at = None
    if path is not None:
        try:
            changed_at = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
        except OSError:
            changed_at = None
    return {
        "env_file": shown_path(path),
        "endpoint": provider.settings.endpoint if provider is not None else None,
        "changed_at": changed_at,
    }


def build_provider(options: Any) -> Provider:
    """The provider the server traits ask for (blocking: reads .env, may import the IBM client)."""
    settings = load_settings(
        options.env_file, local=_LOCAL_ARG[options.provider], deadline=options.deadline, listing_ttl=options.ttl
    )
    if options.provider == "ibm" and settings.local:
        raise ConfigError(
            "QConnectorServer.provider",
            "is 'ibm', but no IBM Quantum credentials were found.",
            "Set IQP_API_TOKEN (and a plan switch such as OPEN_PLAN=on) in the .env, or use 'auto'.",
        )
    if settings.token is not None:
        redacting_filter.add(settings.token)
    if not settings.local:
        # A cold import of the IBM client takes seconds: pay it here, not inside the first call's deadline.
        importlib.import_module("qiskit_ibm_runtime")
    return provider_for(settings)


@dataclass
class Stats:
    listing_calls: int = 0  # provider.listing() calls (each at most one upstream request)
    detail_calls: int = 0
    plan_calls: int = 0
    background_refreshes: int = 0
    failures: int = 0
    cache_hits: int = 0
    stale_served: int = 0
    payload_renders: int = 0  # GET backends answers ranked and serialized (once per listing)


class Upstream:
    """The provider, the pool its blocking calls run in, the backoff they obey, and the single flights."""

    def __init__(
        self,
        options: Any,
        *,
        log: logging.Logger,
        provider_factory: Callable[[], Provider] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.log = log
        self.clock = clock
        self.flights = SingleFlight()
        self.backoff = Backoff(cap=options.max_backoff, clock=clock)
        self.stats = Stats()
        #: Goes up when the configuration changes: a value cached (or fetched) before belongs to another account.
        self.generation = 0
        self._executor = ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="qconnector-upstream")
        self._provider_factory = provider_factory or functools.partial(build_provider, options)
        self._provider: Provider | None = None
        self._stamp: tuple[Any, ...] | None = None  # config_stamp() of the provider in use
        self._stamp_checked = -1e9
        self._last_logged = ""

    @property
    def current(self) -> Provider | None:
        """The provider in use, if one was built (never builds one)."""
        return self._provider

    async def stop(self) -> None:
        """Cancel the flights and stop the pool (a call already running finishes within its deadline)."""
        await self.flights.cancel_all()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def provider(self) -> Provider:
        self.check_config()
        if self._provider is None:
            # A build that began before a configuration change is not installed (see flight()): it read the old one.
            provider, stamp = await self.flight("provider", self._build_provider)
            if self._provider is None:  # the first of the callers that shared the build installs it
                self._provider, self._stamp, self._stamp_checked = provider, stamp, self.clock()
        return self._provider

    async def _build_provider(self) -> tuple[Provider, tuple[Any, ...]]:
        stamp = config_stamp(self.options)
        return await self.call("reading the connector settings", self._provider_factory), stamp

    async def flight(self, key: Hashable, factory: Callable[[], Awaitable[T]]) -> T:
        """``factory()`` as one flight per (:attr:`generation`, ``key``): a request after a configuration change
        never joins a call made for the old configuration, and the outcome of a call that the change overtook is
        dropped: the call runs again for the new configuration."""
        for _ in range(_GENERATION_TRIES):
            generation = self.generation
            try:
                result = await self.flights.run((generation, key), factory)
            except ConnectorError:
                if generation == self.generation:
                    raise
                continue
            if generation == self.generation:
                return result
        raise ConfigurationChanged(
            "The server's configuration kept changing while this was read (sign-ins, sign-outs or .env edits). "
            "Retry once it is settled."
        )

    def in_flight(self, key: Hashable) -> bool:
        """A call for ``key`` under the current configuration is under way."""
        return self.flights.in_flight((self.generation, key))

    def check_config(self, *, now: bool = False) -> None:
        """Forget the provider, and with :attr:`generation` everything it served, when the .env changed (looked
        at most once a second, or ``now``). ``now`` with no provider in use (none yet, or one being built) moves
        :attr:`generation` on all the same: a build under way read the configuration before the change."""
        moment = self.clock()
        if self._provider is None:
            if now:
                self.generation += 1
                self.backoff.succeeded()
            return
        if not now and moment - self._stamp_checked < 1.0:
            return
        self._stamp_checked = moment
        if config_stamp(self.options) == self._stamp:
            return
        self.log.info("qiskit-connector-lab: the configuration changed; reading it again.")
        self._provider = None
        self.generation += 1
        self.backoff.succeeded()

    async def call(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the thread pool, with an outer guard on top of the core's deadline; the outcome is
        reported to the backoff (an error that answers the question, such as no such job, is not a failure; nor is
        the outcome of a call that a configuration change overtook: it was the old configuration's)."""
        generation = self.generation
        try:
            result = await self._run(what, fn, *args)
        except ConnectorError as error:
            if not isinstance(error, _ANSWERS) and generation == self.generation:
                self.failed(error)
            raise
        if generation == self.generation:
            self.succeeded()
        return result

    async def _run(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, functools.partial(fn, *args))
        guard = 4 * self.options.deadline + 1
        try:
            return await asyncio.wait_for(future, guard)
        except ConnectorError:  # first: DeadlineExceeded is a TimeoutError too, and must keep its own figures
            raise
        except TimeoutError:
            raise DeadlineExceeded(what, guard) from None
        except Exception as exc:  # noqa: BLE001 - turned into a one-line error; the log keeps the traceback
            kind = self._provider.kind if self._provider is not None else "local"
            self.log.warning(
                "qiskit-connector-lab: unexpected error while %s: %s", what, redact(traceback.format_exc())
            )
            if kind == "ibm":
                raise classify(exc, what=what) from None
            raise InternalError(f"The server extension failed while {what}. The server log has the details.") from None

    def failed(self, error: ConnectorError) -> None:
        """Count a failure; an upstream one starts (or lengthens) the backoff. Logged once per message."""
        self.stats.failures += 1
        if isinstance(error, UpstreamError):
            delay = self.backoff.failed(error)
            self.log.warning(
                "qiskit-connector-lab: %s [%s]; no upstream call for %.1f s.",
                first_sentence(error.message),
                error.code,
                delay,
            )
        elif error.message != self._last_logged:  # e.g. a broken .env: say it once, not on every request
            self.log.warning("qiskit-connector-lab: %s [%s]", error.message, error.code)
        self._last_logged = error.message

    def succeeded(self) -> None:
        if self.backoff.failures:
            self.log.info("qiskit-connector-lab: IBM Quantum answers again after %d failure(s).", self.backoff.failures)
        self.backoff.succeeded()
        self._last_logged = ""

    def retry_after(self) -> float | None:
        """Seconds until the server will ask upstream again (None: it may ask now)."""
        return self.backoff.remaining() or None

    def blocking_error(self, own: ConnectorError | None = None) -> ConnectorError:
        """The error to answer with during a backoff when there is no data: the value's own last one, else the
        one that started the backoff."""
        error = own or self.backoff.last_error
        assert error is not None
        return error.with_traceback(None)

    def config(self) -> dict[str, Any]:
        """:func:`config_info` for the provider in use (a few stats: cheap enough for the event loop)."""
        return config_info(self.options, self._provider)
