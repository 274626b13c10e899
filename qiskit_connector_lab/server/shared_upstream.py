"""The QPU side of the server's one shared upstream: the listing, each QPU's detail, the plan, the refresher.

Every browser tab and sidebar asks this server, never IBM, and the server asks IBM as little as it can:

* **One rule.** The listing, each QPU's detail and the plan are each a :class:`~.cache.SharedValue`: fresh from
  memory (``ttl``, ``detail_ttl``, ``plan_ttl``); else, while the upstream backs off, the last good data marked
  ``stale`` with a one-sentence reason; else one shared fetch for every request that arrives meanwhile.
* **One way upstream.** Every provider call goes through :class:`~.upstream.Upstream` (the thread pool, the
  deadline guard, the backoff). :class:`~.jobs_upstream.SharedJobs` serves the jobs the same way, on the same
  ``Upstream``; the kernels call the provider themselves, in their own processes.
* **Background refresh.** Every ``refresh_interval`` seconds the listing is refreshed while some client has
  asked within ``idle_timeout``; with nobody asking, the refresher sleeps until the next request.
* **One render per listing.** ``GET backends`` is ranked, serialized and gzipped once per listing, off the loop.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import struct
import time
import traceback
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config import LOCAL_CHANNEL
from ..errors import ConnectorError, UpstreamError
from ..plans import InstanceInfo, PlanCheck
from ..providers import Provider, Usage
from ..qpus import QPU, Listing, utcnow
from ..ranking import least_busy, ranked, select
from ..render.qpu_detail import qpu_detail
from ..secret import redact
from .cache import SharedValue
from .http_errors import first_sentence
from .jobs_upstream import SharedJobs
from .single_flight import SingleFlight
from .upstream import Upstream, config_info


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


@dataclass(frozen=True)
class _Plan:
    data: dict[str, Any]
    ttl: float


class SharedUpstream:
    """The QPU listing, details and plan every client shares, and the jobs (:attr:`jobs`) on the same upstream."""

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
        self.upstream = Upstream(options, log=self.log, provider_factory=provider_factory, clock=clock)
        self.backoff = self.upstream.backoff
        self.stats = self.upstream.stats
        self._clock = clock
        self.listing_value: SharedValue[Listing] = SharedValue(
            self.upstream, "listing", ttl=options.ttl, serve_while_refreshing=True
        )
        self._details: dict[str, SharedValue[dict[str, Any]]] = {}
        self._plan: SharedValue[_Plan] = SharedValue(self.upstream, "plan", ttl=lambda plan: plan.ttl)
        self._renders = SingleFlight()  # GET backends answers being serialized (one per listing)
        self._payload: tuple[Any, RenderedListing] | None = None  # (listing key, GET backends minus its age)
        self._history: dict[str, deque[dict[str, Any]]] = {}
        self._last_demand: float | None = None
        self._demand = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self.refresher_state = "not started"
        self.jobs = SharedJobs(self.upstream, touch=self.touch)

    # -- lifecycle -------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """The background refresher has been started and not stopped."""
        return self._task is not None

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
        await self.upstream.stop()

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
            if self.listing_value.taken_within(0.8 * interval):
                continue  # a request refreshed it a moment ago
            try:
                await self.listing_value.refresh(self._fetch_listing)
                self.stats.background_refreshes += 1
            except ConnectorError:
                pass  # logged where it happened; the next tick (after the backoff) tries again
            except Exception:  # noqa: BLE001 - the refresher must outlive any single bad refresh
                self.log.error("qiskit-connector-lab: background refresh failed: %s", redact(traceback.format_exc()))

    def retry_after(self) -> float | None:
        """Seconds until the server will ask upstream again (None: it may ask now)."""
        return self.upstream.retry_after()

    async def provider(self) -> Provider:
        return await self.upstream.provider()

    def config(self) -> dict[str, Any]:
        """:func:`~.upstream.config_info` for the provider in use."""
        return self.upstream.config()

    def config_changed(self) -> None:
        """The credential changed (sign-in, sign-out): compare the configuration stamp now, not within a second."""
        self.upstream.check_config(now=True)

    # -- the listing -----------------------------------------------------------------------------------------
    async def listing(self, *, demand: bool = True) -> Listing:
        """The QPU listing: fresh, else the last good one marked stale, else one shared refresh."""
        if demand:
            self.touch()
        served = await self.listing_value.get(self._fetch_listing)
        if not served.stale:
            return served.value
        return served.value.marked_stale(served.stale_reason)

    async def _fetch_listing(self) -> Listing:
        provider = await self.provider()
        # Until there is a first listing, one the provider got for free (the IBM service's init fetches one) is
        # taken; after that the server decided its cache is too old, so the provider must ask upstream.
        max_age = self.options.ttl if self.listing_value.value is None else 0.0
        self.stats.listing_calls += 1
        listing = await self.upstream.call("listing the QPUs", provider.listing, max_age)
        self._record_history(listing)
        return listing

    async def backends_rendered(self) -> tuple[RenderedListing, float]:
        """The ``GET backends`` answer for the current listing, and its age in seconds.

        Ranked, serialized and gzipped once per listing, off the event loop; every request for the same listing
        shares the bytes, and only ``age_seconds`` is written per request (see :class:`RenderedListing`).
        """
        listing = await self.listing()
        key = (id(self.listing_value.value), listing.fetched_at, listing.stale, listing.stale_reason)
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
        value = self._details.get(name)
        if value is None:
            if len(self._details) >= 4 * len(listing.qpus) + 16:  # bounded: QPUs no longer listed
                self._details.clear()
            value = self._details[name] = SharedValue(self.upstream, ("detail", name), ttl=self.options.detail_ttl)
        served = await value.get(functools.partial(self._fetch_detail, qpu))
        data = dict(served.value)
        # Live fields come from the listing; the rest (layout, errors, medians) from the cached calibration.
        data.update(status=qpu.status, status_reason=qpu.status_reason, queue=qpu.queue)
        data["queue_history"] = self.history(name)
        data["fetched_at"] = served.fetched_at.isoformat()
        data["listing_fetched_at"] = listing.fetched_at.isoformat()
        data["stale"] = listing.stale or served.stale
        data["stale_reason"] = listing.stale_reason or served.stale_reason
        return data

    async def _fetch_detail(self, qpu: QPU) -> dict[str, Any]:
        provider = await self.provider()
        name = qpu.name
        self.stats.detail_calls += 1

        def fetch() -> dict[str, Any]:
            configuration = provider.configuration(name)
            properties = provider.properties(name)
            return qpu_detail(qpu, configuration, properties)

        return await self.upstream.call(f"reading the calibration of {name}", fetch)

    # -- the plan --------------------------------------------------------------------------------------------
    async def plan(self) -> dict[str, Any]:
        """The plan, instance, channel, modes and usage (cached ``plan_ttl``)."""
        self.touch()
        served = await self._plan.get(self._fetch_plan)
        data = dict(served.value.data, config=self.config())
        if served.stale:
            data.update(stale=True, stale_reason=served.stale_reason)
        return data

    async def _fetch_plan(self) -> _Plan:
        provider = await self.provider()
        self.stats.plan_calls += 1

        def fetch() -> tuple[PlanCheck, InstanceInfo, Usage | None, UpstreamError | None]:
            check = provider.check_plan()
            info = provider.instance()
            try:
                return check, info, provider.usage(), None
            except UpstreamError as error:  # the plan stands without the usage
                return check, info, None, error

        check, info, usage, usage_error = await self.upstream.call("reading the plan", fetch)
        notes = list(check.notes)
        ttl = self.options.plan_ttl
        if usage_error is not None:
            self.upstream.failed(usage_error)
            notes.append(f"Usage could not be read: {first_sentence(usage_error.message)}")
            ttl = min(ttl, max(5.0, self.backoff.remaining()))
        plan = check.plan
        local = provider.kind == "local"
        data = {
            "provider": provider.kind,
            "local": local,
            "plan": plan.value,
            "plan_label": plan.label,
            "plan_display_name": plan.display_name,
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
        return _Plan(data=data, ttl=ttl)

    # -- diagnostics -----------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """What the cache is doing, for the status route and the load benchmark (nothing secret)."""
        provider = self.upstream.current
        listing = self.listing_value.value
        last = self.backoff.last_error
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
                "stale": self.listing_value.failed,
            },
            "upstream": {
                "listing_calls": self.stats.listing_calls,
                "provider_listing_fetches": provider.listing_fetches if provider else 0,
                "detail_calls": self.stats.detail_calls,
                "plan_calls": self.stats.plan_calls,
                "background_refreshes": self.stats.background_refreshes,
                "coalesced_waits": self.upstream.flights.joined,
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
