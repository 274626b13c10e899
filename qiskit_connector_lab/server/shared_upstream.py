"""One upstream for every client: the server's cached, coalesced, backed-off view of the QPUs and the plan.

Every browser tab and sidebar asks this server, never IBM. This module is the only place that calls the
provider, and it calls it as little as possible:

* **Cache + single flight.** A listing is served from memory for ``ttl`` seconds. When it is older, the
  first request fetches a new one (``provider.listing(max_age=0)``: the server's TTL is the one that counts)
  and every request that arrives meanwhile awaits that same fetch: K concurrent requests, one upstream call.
  QPU details (configuration + calibration) are cached per QPU (``detail_ttl``), the plan and usage for
  ``plan_ttl``, each with its own single flight.
* **Off the event loop.** Every blocking provider call runs in a bounded thread pool; the core already puts
  its deadline on each IBM call, and this module adds an outer guard so no request waits much longer.
* **Background refresh.** Every ``refresh_interval`` seconds the listing is refreshed while some client has
  asked within ``idle_timeout``; with nobody asking, the refresher sleeps until the next request.
* **Backoff.** After an upstream failure nothing is sent upstream until the backoff ends (a 429's
  ``Retry-After``, else 2, 4, 8, ... s up to ``max_backoff``). Meanwhile the last good data is served marked
  ``stale`` with a one-sentence reason; with no data at all, the error itself is the answer.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import json
import logging
import os
import struct
import time
import traceback
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from ..accounts import store as account_store
from ..config import LOCAL_CHANNEL, find_env_file, load_settings, shown_path
from ..errors import ConfigError, ConnectorError, DeadlineExceeded, UpstreamError
from ..plans import InstanceInfo, PlanCheck
from ..providers import Provider, Usage, provider_for
from ..providers.bounded import classify
from ..qpus import QPU, Listing, utcnow
from ..ranking import least_busy, ranked, select
from ..render.qpu_detail import qpu_detail
from ..secret import redact, redacting_filter
from .backoff import Backoff
from .http_errors import first_sentence
from .single_flight import SingleFlight

T = TypeVar("T")

_LOCAL_ARG = {"auto": None, "local": True, "ibm": False}


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


def backends_payload(listing: Listing, refresh_interval: float) -> dict[str, Any]:
    """The ``GET backends`` answer for a listing (ranked; ``least_busy`` only among known queues)."""
    chosen = least_busy(listing)
    name = chosen.name if chosen else None
    return {
        "provider": listing.provider,
        "local": listing.local,
        "fetched_at": listing.fetched_at.isoformat(),
        "age_seconds": round(listing.age(utcnow()), 3),
        "stale": listing.stale,
        "stale_reason": listing.stale_reason,
        "least_busy": name,
        "refresh_interval": refresh_interval,
        "notes": list(listing.notes),
        "qpus": [dict(qpu.as_dict(), least_busy=qpu.name == name) for qpu in ranked(listing.qpus)],
    }


_GZIP_HEADER = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF])  # deflate, no name, no mtime, unknown OS


class RenderedListing:
    """One ``GET backends`` answer, serialized and gzipped once, with ``age_seconds`` written per request.

    The body is everything that never changes for a listing, then ``"age_seconds":AGE}``. For gzip, that fixed
    prefix is deflated once (ending on a sync flush, so a second raw deflate stream may follow it) with its CRC;
    per request only the few bytes of the age are deflated and the gzip trailer is completed. A 5000-QPU answer
    (1.1 MB of JSON, ~100 kB gzipped) then costs a request microseconds of CPU instead of a serialization.
    """

    def __init__(self, payload_without_age: dict[str, Any]) -> None:
        text = json.dumps(payload_without_age, separators=(",", ":"))
        self.prefix = (text[:-1] + ("," if text != "{}" else "") + '"age_seconds":').encode("utf-8")
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.prefix_deflated = deflate.compress(self.prefix) + deflate.flush(zlib.Z_SYNC_FLUSH)
        self.prefix_crc = zlib.crc32(self.prefix)

    @staticmethod
    def _suffix(age: float) -> bytes:
        return json.dumps(age).encode("ascii") + b"}"

    def body(self, age: float) -> bytes:
        return self.prefix + self._suffix(age)

    def gzipped(self, age: float) -> bytes:
        suffix = self._suffix(age)
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        suffix_deflated = deflate.compress(suffix) + deflate.flush(zlib.Z_FINISH)
        trailer = struct.pack("<II", zlib.crc32(suffix, self.prefix_crc), (len(self.prefix) + len(suffix)) & 0xFFFFFFFF)
        return b"".join((_GZIP_HEADER, self.prefix_deflated, suffix_deflated, trailer))


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
class _Detail:
    data: dict[str, Any]
    fetched_at: datetime
    expires: float


@dataclass
class _Plan:
    data: dict[str, Any]
    expires: float


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


class SharedUpstream:
    def __init__(
        self,
        options: Any,
        *,
        log: logging.Logger | None = None,
        provider_factory: Callable[[], Provider] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.log = log or logging.getLogger("qiskit_connector_lab.server")
        self._provider_factory = provider_factory or functools.partial(build_provider, options)
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="qconnector-upstream")
        self._flights = SingleFlight()
        self._renders = SingleFlight()  # GET backends answers being serialized (one per listing)
        self.backoff = Backoff(cap=options.max_backoff, clock=clock)
        self.stats = Stats()
        self._provider: Provider | None = None
        self._listing: Listing | None = None
        self._listing_at = 0.0
        self._listing_error: ConnectorError | None = None
        self._history: dict[str, deque[dict[str, Any]]] = {}
        self._details: dict[str, _Detail] = {}
        self._plan: _Plan | None = None
        self._last_demand: float | None = None
        self._demand = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._last_logged = ""
        self.refresher_state = "not started"
        self._stamp: tuple[Any, ...] | None = None  # config_stamp() of the provider in use
        self._stamp_checked = -1e9
        self._payload: tuple[Any, RenderedListing] | None = None  # (listing key, GET backends minus its age)
        from .jobs_upstream import SharedJobs

        self.jobs = SharedJobs(self)  # the jobs ride on this one upstream: same pool, flights, backoff

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the background refresher (idempotent; needs a running event loop)."""
        if self._task is None and not self._stopped:
            self._task = asyncio.get_running_loop().create_task(
                self._refresh_loop(), name="qiskit-connector-lab refresher"
            )

    async def stop(self) -> None:
        """Stop the refresher and the thread pool (a call already running finishes within its deadline)."""
        self._stopped = True
        self.refresher_state = "stopped"
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await self._flights.cancel_all()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def touch(self) -> None:
        """A client asked: keep (or start) the background refresh going."""
        self._last_demand = self._clock()
        self._demand.set()
        self.start()

    def active(self) -> bool:
        return self._last_demand is not None and self._clock() - self._last_demand <= self.options.idle_timeout

    async def _refresh_loop(self) -> None:
        interval = self.options.refresh_interval
        self.refresher_state = "running"
        while not self._stopped:
            await asyncio.sleep(interval)
            if not self.active():
                self.refresher_state = "paused"
                self._demand.clear()
                await self._demand.wait()
                self.refresher_state = "running"
                continue
            if self.backoff.active():
                continue
            if self._listing is not None and self._clock() - self._listing_at < 0.8 * interval:
                continue  # a request refreshed it a moment ago
            try:
                await self._refresh_listing()
                self.stats.background_refreshes += 1
            except ConnectorError:
                pass  # logged where it happened; the next tick (after the backoff) tries again
            except Exception:  # noqa: BLE001 - the refresher must outlive any single bad refresh
                self.log.error("qiskit-connector-lab: background refresh failed: %s", redact(traceback.format_exc()))

    # -- calling the provider --------------------------------------------------------------------------------
    async def _call(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking provider call in the thread pool, with an outer guard on top of the core's deadline."""
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

    def _failed(self, error: ConnectorError, what: str) -> None:
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

    def _succeeded(self) -> None:
        if self.backoff.failures:
            self.log.info("qiskit-connector-lab: IBM Quantum answers again after %d failure(s).", self.backoff.failures)
        self.backoff.succeeded()
        self._last_logged = ""

    def retry_after(self) -> float | None:
        """Seconds until the server will ask upstream again (None: it may ask now)."""
        remaining = self.backoff.remaining()
        return remaining or None

    async def provider(self) -> Provider:
        self._check_config()
        if self._provider is None:
            self._provider = await self._flights.run("provider", self._build_provider)
        return self._provider

    def config_changed(self) -> None:
        """The credential changed (sign-in, sign-out): compare the configuration stamp on the next request."""
        self._stamp_checked = -1e9

    def _check_config(self) -> None:
        """Forget the provider and everything it served when the .env changed (checked at most once a second)."""
        now = self._clock()
        if self._provider is None or now - self._stamp_checked < 1.0:
            return
        self._stamp_checked = now
        stamp = config_stamp(self.options)
        if stamp == self._stamp:
            return
        self.log.info("qiskit-connector-lab: the .env changed; reading the configuration again.")
        self._provider = None
        self._listing, self._listing_error, self._plan, self._payload = None, None, None, None
        self._details.clear()
        self.jobs.forget()  # another account or provider: its jobs are not these
        self.backoff.succeeded()

    async def _build_provider(self) -> Provider:
        if self._provider is not None:
            return self._provider
        stamp = config_stamp(self.options)
        try:
            provider = await self._call("reading the connector settings", self._provider_factory)
            self._stamp, self._stamp_checked = stamp, self._clock()
            return provider
        except ConnectorError as error:
            self._failed(error, "reading the connector settings")
            raise

    # -- the listing -----------------------------------------------------------------------------------------
    async def listing(self, *, demand: bool = True) -> Listing:
        """The QPU listing: cached, else refreshed (one flight), else the last good one marked stale."""
        self._check_config()
        if demand:
            self.touch()
        if self._listing is not None and self._clock() - self._listing_at <= self.options.ttl:
            self.stats.cache_hits += 1
            return self._serve_listing()
        if self.backoff.active():
            if self._listing is None:
                raise self._blocking_error()
            return self._serve_listing()
        if self._listing is not None and self._flights.in_flight("listing"):
            # A refresh is under way (started by the refresher or an earlier request): serve the listing it
            # replaces, at most one refresh old, rather than queue every request behind the upstream call (a
            # 5000-QPU listing takes seconds). Only the request that started the refresh waits for it.
            self.stats.cache_hits += 1
            return self._serve_listing()
        try:
            await self._refresh_listing()
        except ConnectorError:
            if self._listing is None:
                raise
        return self._serve_listing()

    def _blocking_error(self) -> ConnectorError:
        error = self._listing_error or self.backoff.last_error
        assert error is not None
        return error.with_traceback(None)

    def _serve_listing(self) -> Listing:
        assert self._listing is not None
        error = self._listing_error
        if error is None and self.backoff.active() and self._clock() - self._listing_at > self.options.ttl:
            error = self.backoff.last_error
        if error is None:
            return self._listing
        self.stats.stale_served += 1
        return self._listing.marked_stale(stale_reason(error))

    async def _refresh_listing(self) -> Listing:
        return await self._flights.run("listing", self._fetch_listing)

    async def _fetch_listing(self) -> Listing:
        provider = await self.provider()
        # Until there is a first listing, one the provider got for free (the IBM service's init fetches one) is
        # taken; after that the server decided its cache is too old, so the provider must ask upstream.
        max_age = self.options.ttl if self._listing is None else 0.0
        self.stats.listing_calls += 1
        try:
            listing = await self._call("listing the QPUs", provider.listing, max_age)
        except ConnectorError as error:
            self._listing_error = error
            self._failed(error, "listing the QPUs")
            raise
        self._succeeded()
        self._listing, self._listing_at, self._listing_error = listing, self._clock(), None
        self._record_history(listing)
        return listing

    async def backends_rendered(self) -> tuple[RenderedListing, float]:
        """The ``GET backends`` answer for the current listing, and its age in seconds.

        Ranked, serialized and gzipped once per listing, off the event loop; every request for the same listing
        shares the bytes, and only ``age_seconds`` is written per request (see :class:`RenderedListing`).
        """
        listing = await self.listing()
        key = (id(self._listing), listing.fetched_at, listing.stale, listing.stale_reason)
        cached = self._payload
        if cached is None or cached[0] != key:

            def render() -> RenderedListing:
                self.stats.payload_renders += 1
                payload = backends_payload(listing, self.options.refresh_interval)
                del payload["age_seconds"]
                return RenderedListing(payload)

            rendered = await self._renders.run(
                key, functools.partial(asyncio.get_running_loop().run_in_executor, None, render)
            )
            self._payload = cached = (key, rendered)
        return cached[1], round(listing.age(utcnow()), 3)

    def _record_history(self, listing: Listing) -> None:
        stamp = listing.fetched_at.isoformat()
        for qpu in listing.qpus:
            points = self._history.setdefault(qpu.name, deque(maxlen=self.options.history_length))
            if not points or points[-1]["t"] != stamp:
                points.append({"t": stamp, "queue": qpu.queue})

    def history(self, name: str) -> list[dict[str, Any]]:
        return list(self._history.get(name, ()))

    # -- one QPU in detail -----------------------------------------------------------------------------------
    async def detail(self, name: str) -> dict[str, Any]:
        """``detail.qpu_detail`` for a listed QPU, plus its queue history (raises UnknownBackend if unlisted)."""
        listing = await self.listing()
        qpu = listing.by_name(name)
        if qpu is None:  # UnknownBackend; its did-you-mean hint reads every name (5000 of them): off the loop
            await asyncio.get_running_loop().run_in_executor(None, select, listing, name)
            raise AssertionError("select() raises for a name the listing does not have")
        entry = self._details.get(name)
        stale_error: ConnectorError | None = None
        if entry is None or self._clock() > entry.expires:
            if self.backoff.active():
                if entry is None:
                    raise self._blocking_error()
                stale_error = self.backoff.last_error
            else:
                try:
                    entry = await self._flights.run(("detail", name), functools.partial(self._fetch_detail, qpu))
                except ConnectorError as error:
                    if entry is None:
                        raise
                    stale_error = error
        assert entry is not None
        data = dict(entry.data)
        # Live fields come from the listing; the rest (layout, errors, medians) from the cached calibration.
        data.update(status=qpu.status, status_reason=qpu.status_reason, queue=qpu.queue)
        data["queue_history"] = self.history(name)
        data["fetched_at"] = entry.fetched_at.isoformat()
        data["listing_fetched_at"] = listing.fetched_at.isoformat()
        data["stale"] = listing.stale or stale_error is not None
        data["stale_reason"] = listing.stale_reason or (stale_reason(stale_error) if stale_error else "")
        return data

    async def _fetch_detail(self, qpu: QPU) -> _Detail:
        provider = await self.provider()
        name = qpu.name
        self.stats.detail_calls += 1

        def fetch() -> dict[str, Any]:
            configuration = provider.configuration(name)
            properties = provider.properties(name)
            return qpu_detail(qpu, configuration, properties)

        try:
            data = await self._call(f"reading the calibration of {name}", fetch)
        except ConnectorError as error:
            self._failed(error, f"reading the calibration of {name}")
            raise
        self._succeeded()
        entry = _Detail(data=data, fetched_at=utcnow(), expires=self._clock() + self.options.detail_ttl)
        self._details[name] = entry
        return entry

    # -- the plan --------------------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """:func:`config_info` for the provider in use (a few stats: cheap enough for the event loop)."""
        return config_info(self.options, self._provider)

    async def plan(self) -> dict[str, Any]:
        """The plan, instance, channel, modes and usage (cached ``plan_ttl``)."""
        self._check_config()
        self.touch()
        cached = self._plan
        if cached is not None and self._clock() <= cached.expires:
            return dict(cached.data, config=self.config())
        if self.backoff.active():
            if cached is None:
                raise self._blocking_error()
            return dict(cached.data, stale=True, stale_reason=stale_reason(self.backoff.last_error))
        try:
            fresh = await self._flights.run("plan", self._fetch_plan)
        except ConnectorError as error:
            if cached is None:
                raise
            return dict(cached.data, stale=True, stale_reason=stale_reason(error))
        return fresh.data

    async def _fetch_plan(self) -> _Plan:
        provider = await self.provider()
        self.stats.plan_calls += 1

        def fetch() -> tuple[PlanCheck, InstanceInfo, Usage | None, ConnectorError | None]:
            check = provider.check_plan()
            info = provider.instance()
            try:
                return check, info, provider.usage(), None
            except UpstreamError as error:  # the plan stands without the usage
                return check, info, None, error

        try:
            check, info, usage, usage_error = await self._call("reading the plan", fetch)
        except ConnectorError as error:
            if isinstance(error, UpstreamError):
                self._failed(error, "reading the plan")
            raise
        notes = list(check.notes)
        ttl = self.options.plan_ttl
        if usage_error is not None:
            self._failed(usage_error, "reading the usage")
            notes.append(f"Usage could not be read: {first_sentence(usage_error.message)}")
            ttl = min(ttl, max(5.0, self.backoff.remaining()))
        else:
            self._succeeded()
        plan = check.plan
        local = provider.kind == "local"
        data = {
            "provider": provider.kind,
            "local": local,
            "plan": plan.value,
            "plan_label": plan.label,
            "plan_title": plan.display_name,
            "verified": check.verified,
            "instance": info.name,
            "crn": info.crn,
            "pricing_type": info.pricing_type,
            "channel": LOCAL_CHANNEL if local else provider.settings.channel,
            "modes": list(plan.allowed_modes()),
            "default_mode": plan.default_mode,
            "usage": usage.as_dict() if usage is not None else None,
            # Where the configuration came from: the .env read (``~/...``) and the endpoint if not IBM's default.
            "env_file": provider.settings.env_file_shown,
            "endpoint": provider.settings.endpoint,
            "config": config_info(self.options, provider),
            "notes": notes + list(provider.settings.notes),
            "stale": False,
            "stale_reason": "",
        }
        entry = _Plan(data=data, expires=self._clock() + ttl)
        self._plan = entry
        return entry

    # -- diagnostics -----------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """What the cache is doing, for the status route and the load benchmark (nothing secret)."""
        provider = self._provider
        listing = self._listing
        last = self.backoff.last_error or self._listing_error
        return {
            "provider": provider.kind if provider else None,
            "settings": self.options.describe(),
            "clients_active": self.active(),
            "refresher": self.refresher_state,
            "listing": None
            if listing is None
            else {
                "fetched_at": listing.fetched_at.isoformat(),
                "age_seconds": round(listing.age(), 3),
                "stale": self._listing_error is not None,
            },
            "upstream": {
                "listing_calls": self.stats.listing_calls,
                "provider_listing_fetches": provider.listing_fetches if provider else 0,
                "detail_calls": self.stats.detail_calls,
                "plan_calls": self.stats.plan_calls,
                "background_refreshes": self.stats.background_refreshes,
                "coalesced_waits": self._flights.joined,
                "cache_hits": self.stats.cache_hits,
                "stale_served": self.stats.stale_served,
                "payload_renders": self.stats.payload_renders,
                "failures": self.stats.failures,
                "consecutive_failures": self.backoff.failures,
                "backoff_remaining": round(self.backoff.remaining(), 3),
                "last_error": None if last is None else {"message": first_sentence(last.message), "code": last.code},
            },
            "jobs": self.jobs.status(),
        }


def stale_reason(error: ConnectorError | None) -> str:
    """One sentence: why the data is stale."""
    if error is None:
        return "The last refresh failed; showing the last good data."
    return first_sentence(error.message).rstrip(".!? ") + "; showing the last good data."
