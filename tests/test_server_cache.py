"""The one shared upstream: coalescing, stale data with backoff, the background refresh and its idle pause.

Unit tests drive ``SharedUpstream`` with the local fleet (and a clock the test moves); the server tests run a real
Jupyter server, on the local fleet and on the REAL qiskit-ibm-runtime client against the API emulator, and
count what actually went upstream (``provider.listing_fetches``, the emulator's request log).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import datetime

import pytest
from tornado.httpclient import AsyncHTTPClient

pytest.register_assert_rewrite("server_conftest")

import qiskit_ibm_runtime  # noqa: E402,F401 - imported up front: a cold import inside a short deadline would fail it
from server_conftest import BACKENDS, server_config  # noqa: E402

from qiskit_connector_lab.config import load_settings  # noqa: E402
from qiskit_connector_lab.errors import (  # noqa: E402
    DeadlineExceeded,
    RateLimited,
    ServerError,
    UnknownBackend,
    Unreachable,
)
from qiskit_connector_lab.providers.local_fleet import LocalFleet  # noqa: E402
from qiskit_connector_lab.server.app_settings import QConnectorServer  # noqa: E402
from qiskit_connector_lab.server.backoff import Backoff  # noqa: E402
from qiskit_connector_lab.server.shared_upstream import SharedUpstream  # noqa: E402
from qiskit_connector_lab.server.single_flight import SingleFlight  # noqa: E402
from qiskit_connector_lab.server.upstream import InternalError  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server", "server_conftest")

CONCURRENT = 50


@pytest.fixture
def jp_server_config(qc_env, server_traits):
    return server_config({"provider": "local", **server_traits})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FlakyFleet(LocalFleet):
    """The local fleet, with an upstream that can be made slow or failing."""

    def __init__(self, settings) -> None:
        super().__init__(settings, seed=5, maintenance_rate=0)
        self.fail_with: BaseException | None = None
        self.delay = 0.0
        self.calls = 0

    def _fetch_listing(self):
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        return super()._fetch_listing()


@pytest.fixture
def flaky(qc_env):
    return FlakyFleet(load_settings(environ={}, local=True))


@pytest.fixture
def make_cache(flaky, jp_asyncio_loop):
    caches: list[SharedUpstream] = []

    def make(clock=time.monotonic, **traits) -> SharedUpstream:
        cache = SharedUpstream(QConnectorServer(**traits), provider_factory=lambda: flaky, clock=clock)
        caches.append(cache)
        return cache

    yield make
    for cache in caches:
        jp_asyncio_loop.run_until_complete(cache.stop())


async def many(http_server_client, jp_auth_header, jp_base_url, path: str, count: int = CONCURRENT):
    """``count`` truly concurrent GETs (a client with enough connections for all of them at once)."""
    client = AsyncHTTPClient(force_instance=True, max_clients=count + 5)
    url = http_server_client.get_url(jp_base_url + path)
    try:
        return await asyncio.gather(
            *(client.fetch(url, headers=jp_auth_header, request_timeout=30) for _ in range(count))
        )
    finally:
        client.close()


# --- the pieces ---------------------------------------------------------------------------------------------
def test_backoff_is_exponential_capped_and_honours_retry_after():
    clock = Clock()
    backoff = Backoff(cap=60, clock=clock)
    delays = [backoff.failed(ServerError("IBM Quantum had a server error.", 500)) for _ in range(8)]
    assert delays == [2, 4, 8, 16, 32, 60, 60, 60]
    assert backoff.active() and backoff.remaining() == 60
    assert backoff.failed(RateLimited("IBM Quantum is rate-limiting requests.", retry_after=90)) == 90
    assert backoff.failed(RateLimited("IBM Quantum is rate-limiting requests.", retry_after=None)) == 60
    clock.now += 61
    assert not backoff.active()
    backoff.succeeded()
    assert backoff.failures == 0 and backoff.failed(Unreachable("IBM Quantum could not be reached.")) == 2


async def test_single_flight_shares_one_call_and_outlives_a_cancelled_waiter():
    flights = SingleFlight()
    calls = 0

    async def slow() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return "listing"

    waiters = [asyncio.ensure_future(flights.run("listing", slow)) for _ in range(CONCURRENT)]
    await asyncio.sleep(0)
    waiters[0].cancel()  # a client went away: the others still get the answer
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert calls == 1 and flights.started == 1 and flights.joined == CONCURRENT - 1
    assert isinstance(results[0], asyncio.CancelledError) and results[1:] == ["listing"] * (CONCURRENT - 1)

    async def broken() -> str:
        raise ServerError("IBM Quantum had a server error (HTTP 500).", 500)

    outcomes = await asyncio.gather(*(flights.run("listing", broken) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(o, ServerError) for o in outcomes) and not flights.in_flight("listing")


async def test_cache_single_flight_with_a_slow_upstream(make_cache, flaky):
    cache = make_cache()
    flaky.delay = 0.3
    listings = await asyncio.gather(*(cache.listing() for _ in range(CONCURRENT)))
    assert flaky.calls == 1 and flaky.listing_fetches == 1 and cache.stats.listing_calls == 1
    assert all(listing is listings[0] for listing in listings)
    await cache.listing()  # within the TTL: from memory
    assert flaky.calls == 1


async def test_while_a_refresh_is_under_way_the_others_get_the_listing_it_replaces(make_cache, flaky):
    """Only the request that starts a refresh waits for it; the rest are answered at once from memory."""
    clock = Clock()
    cache = make_cache(clock=clock, ttl=10)
    first = await cache.listing()
    clock.now += 11
    flaky.delay = 0.5
    refresh = asyncio.ensure_future(cache.listing())  # starts the refresh, and waits for it
    await asyncio.sleep(0.05)
    meanwhile = await asyncio.gather(*(cache.listing() for _ in range(10)))
    assert not refresh.done()  # the upstream call is still going...
    assert all(listing is first for listing in meanwhile)  # ...and nobody else waited for it
    fresh = await refresh
    assert fresh is not first and flaky.calls == 2


async def test_stale_data_during_backoff_then_fresh_again(make_cache, flaky):
    clock = Clock()
    cache = make_cache(clock=clock, ttl=10)
    first = await cache.listing()
    assert not first.stale and flaky.calls == 1

    clock.now += 11  # the TTL ran out, and IBM fails
    flaky.fail_with = ServerError("IBM Quantum had a server error (HTTP 500) while listing the QPUs. Retry later.", 500)
    stale = await cache.listing()
    assert stale.stale and stale.qpus == first.qpus and stale.fetched_at == first.fetched_at
    assert stale.stale_reason == (
        "IBM Quantum had a server error (HTTP 500) while listing the QPUs; showing the last good data."
    )
    assert flaky.calls == 2 and cache.backoff.last_delay == 2

    clock.now += 1.5  # still backing off: nothing goes upstream
    assert (await cache.listing()).stale and flaky.calls == 2
    clock.now += 1  # the backoff is over; IBM still fails: the next wait doubles
    assert (await cache.listing()).stale and flaky.calls == 3 and cache.backoff.last_delay == 4

    clock.now += 4.5
    flaky.fail_with = RateLimited("IBM Quantum is rate-limiting requests (HTTP 429). Retry after 30 s.", 30)
    assert (await cache.listing()).stale and flaky.calls == 4 and cache.backoff.last_delay == 30
    clock.now += 29
    assert (await cache.listing()).stale and flaky.calls == 4  # Retry-After is honoured

    clock.now += 1.5
    flaky.fail_with = None
    fresh = await cache.listing()
    assert not fresh.stale and fresh.fetched_at > first.fetched_at and flaky.calls == 5
    assert cache.backoff.failures == 0 and cache.status()["upstream"]["failures"] == 3


async def test_with_no_data_the_error_is_the_answer(make_cache, flaky):
    clock = Clock()
    cache = make_cache(clock=clock)
    flaky.fail_with = DeadlineExceeded("listing the QPUs", 10)
    with pytest.raises(DeadlineExceeded):
        await cache.listing()
    with pytest.raises(DeadlineExceeded):  # during the backoff: no second call
        await cache.listing()
    assert flaky.calls == 1 and 1.9 < cache.retry_after() <= 2


async def test_an_unexpected_failure_is_one_line_and_logged(make_cache, flaky, caplog):
    cache = make_cache()
    flaky.fail_with = RuntimeError("boom in the fleet")
    with pytest.raises(InternalError) as caught:
        await cache.listing()
    assert caught.value.code == "internal_error" and "boom" not in str(caught.value)
    assert any("boom in the fleet" in r.getMessage() and "Traceback" in r.getMessage() for r in caplog.records)


async def test_details_are_cached_per_qpu(make_cache, flaky):
    cache = make_cache()
    one = await cache.detail("fake_fez")
    two = await cache.detail("fake_fez")
    assert cache.stats.detail_calls == 1 and one["layout"] == two["layout"] and one["qubits"] == 156
    await asyncio.gather(*(cache.detail("fake_kyiv") for _ in range(10)))
    assert cache.stats.detail_calls == 2
    # The calibration stays cached; the live fields (queue, status) come from the newest listing.
    flaky.set_queue("fake_fez", 4321)
    cache.listing_value.expire()  # the listing is past its TTL
    three = await cache.detail("fake_fez")
    assert cache.stats.detail_calls == 2 and three["queue"] == 4321 and three["layout"] == one["layout"]
    with pytest.raises(UnknownBackend):
        await cache.detail("fake_nowhere")


# --- on a real server: coalescing -------------------------------------------------------------------------
async def test_fifty_concurrent_requests_one_listing_on_the_local_fleet(
    http_server_client, jp_auth_header, jp_base_url, shared_upstream
):
    responses = await many(http_server_client, jp_auth_header, jp_base_url, "qiskit-connector-lab/backends")
    assert all(r.code == 200 for r in responses)
    provider = await shared_upstream.provider()
    assert provider.listing_fetches == 1 and shared_upstream.stats.listing_calls == 1
    bodies = [json.loads(r.body) for r in responses]
    assert len({b["fetched_at"] for b in bodies}) == 1  # every client got the same listing
    assert shared_upstream.stats.cache_hits + shared_upstream.upstream.flights.joined == CONCURRENT - 1


@pytest.mark.parametrize("server_traits", [{"provider": "ibm"}])
async def test_fifty_concurrent_requests_one_backends_request_upstream(
    http_server_client, jp_auth_header, jp_base_url, shared_upstream, ibm_env, api
):
    emulator = ibm_env
    emulator.inject("stall", path=BACKENDS, times=1, seconds=1.0)  # keep the one call in flight a while
    started = time.perf_counter()
    responses = await many(http_server_client, jp_auth_header, jp_base_url, "qiskit-connector-lab/backends")
    assert all(r.code == 200 for r in responses) and time.perf_counter() - started < 10
    assert emulator.count("GET", BACKENDS) == 1  # exactly one upstream /backends for 50 clients
    status = (await api("GET", "status")).json["upstream"]
    assert status["listing_calls"] == 1 and status["coalesced_waits"] >= CONCURRENT - 1

    # The next round, after the TTL, is again one request for all.
    shared_upstream.listing_value.expire()
    await many(http_server_client, jp_auth_header, jp_base_url, "qiskit-connector-lab/backends")
    assert emulator.count("GET", BACKENDS) == 2


# --- on a real server: stale data, backoff, recovery -------------------------------------------------------
async def _backends(api):
    started = time.perf_counter()
    answer = await api("GET", "backends")
    return answer, time.perf_counter() - started


async def _wait_out_backoff(api) -> None:
    remaining = (await api("GET", "status")).json["upstream"]["backoff_remaining"]
    await asyncio.sleep(remaining + 0.05)


@pytest.mark.parametrize("server_traits", [{"provider": "ibm", "deadline": 1.5, "ttl": 0.2}])
@pytest.mark.parametrize("fault", [500, "stall"])
async def test_a_failing_upstream_serves_the_last_data_marked_stale(api, ibm_env, fault):
    emulator = ibm_env
    first, _ = await _backends(api)
    assert first.status == 200 and first.json["stale"] is False

    if fault == "stall":
        emulator.inject("stall", path=BACKENDS, times=None, seconds=4)
        reason = "did not answer"
    else:
        emulator.inject(500, path=BACKENDS, times=None)
        reason = "server error"
    await asyncio.sleep(0.25)  # past the TTL
    stale, elapsed = await _backends(api)
    assert stale.status == 200 and elapsed < 1.5 + 1.0  # bounded by the deadline, not by IBM
    assert stale.json["stale"] is True and reason in stale.json["stale_reason"]
    assert stale.json["stale_reason"].endswith("; showing the last good data.")
    assert stale.json["fetched_at"] == first.json["fetched_at"] and stale.json["qpus"] == first.json["qpus"]

    sent = emulator.count("GET", BACKENDS)
    for _ in range(5):  # during the backoff: instant, from memory, nothing upstream
        again, elapsed = await _backends(api)
        assert again.json["stale"] is True and elapsed < 0.5
    assert emulator.count("GET", BACKENDS) == sent
    status = (await api("GET", "status")).json["upstream"]
    assert status["consecutive_failures"] == 1 and 0 < status["backoff_remaining"] <= 2

    emulator.clear_faults()  # IBM recovers, with a new queue on one QPU
    emulator.set_queue("ibm_kyiv", 4242)
    await _wait_out_backoff(api)
    fresh, _ = await _backends(api)
    assert fresh.json["stale"] is False and fresh.json["stale_reason"] == ""
    assert fresh.json["fetched_at"] > first.json["fetched_at"]
    assert {r["name"]: r["queue"] for r in fresh.json["qpus"]}["ibm_kyiv"] == 4242
    detail = (await api("GET", "backends/ibm_kyiv")).json
    assert detail["queue"] == 4242 and detail["queue_history"][-1]["queue"] == 4242


@pytest.mark.parametrize("server_traits", [{"provider": "ibm", "ttl": 0.2}])
async def test_a_429_is_honoured_with_its_retry_after(api, ibm_env):
    emulator = ibm_env
    assert (await api("GET", "backends")).json["stale"] is False
    emulator.inject(429, path=BACKENDS, times=1, retry_after=5)
    await asyncio.sleep(0.25)
    stale = (await api("GET", "backends")).json
    assert stale["stale"] is True and "rate-limiting" in stale["stale_reason"]
    status = (await api("GET", "status")).json["upstream"]
    assert 4 < status["backoff_remaining"] <= 5 and status["last_error"]["code"] == "rate_limited"
    sent = emulator.count("GET", BACKENDS)
    await api("GET", "backends")
    assert emulator.count("GET", BACKENDS) == sent


@pytest.mark.parametrize("server_traits", [{"provider": "ibm", "deadline": 2}])
async def test_a_429_with_no_data_is_a_503_with_retry_after(api, ibm_env):
    ibm_env.inject(429, path=BACKENDS, times=None, retry_after=7)
    answer = await api("GET", "backends")
    assert answer.status == 503 and answer.json["code"] == "rate_limited", answer
    assert 6 <= int(answer.headers["Retry-After"]) <= 7
    assert set(answer.json) <= {"message", "code", "hint"} and "Traceback" not in answer.text


# --- on a real server: the background refresh and its idle pause -------------------------------------------
@pytest.mark.parametrize("server_traits", [{"refresh_interval": 0.25, "idle_timeout": 0.8, "ttl": 60}])
async def test_background_refresh_runs_while_asked_and_pauses_when_idle(api, shared_upstream):
    assert (await api("GET", "backends")).status == 200
    assert shared_upstream.stats.listing_calls == 1
    await asyncio.sleep(0.7)
    assert shared_upstream.stats.background_refreshes >= 1 and shared_upstream.refresher_state == "running"

    await asyncio.sleep(0.9)  # nobody asked for longer than idle_timeout
    assert shared_upstream.refresher_state == "paused"
    calls = shared_upstream.stats.listing_calls
    await asyncio.sleep(0.6)
    assert shared_upstream.stats.listing_calls == calls
    status = (await api("GET", "status")).json  # the status route is not a client asking for QPUs
    assert status["refresher"] == "paused" and status["clients_active"] is False

    before = (await api("GET", "backends")).json["fetched_at"]
    await asyncio.sleep(0.7)
    assert shared_upstream.refresher_state == "running" and shared_upstream.stats.listing_calls > calls
    after = (await api("GET", "backends")).json["fetched_at"]
    assert datetime.fromisoformat(after) > datetime.fromisoformat(before)


async def test_the_cache_stops_with_the_server(jp_serverapp, api, shared_upstream):
    assert (await api("GET", "backends")).status == 200
    assert shared_upstream.refresher_state in ("running", "not started") and shared_upstream.running
    await jp_serverapp.cleanup_extensions()
    assert shared_upstream.refresher_state == "stopped" and not shared_upstream.running
    with pytest.raises(RuntimeError, match="shutdown"):  # the thread pool takes no more calls
        await shared_upstream.upstream.call("calling after the stop", lambda: None)


# --- a configuration change while a call is under way ---------------------------------------------------------
@pytest.mark.parametrize("server_traits", [{"provider": "auto", "deadline": 10}])
@pytest.mark.parametrize("during", ["a listing", "the sign-in"])
async def test_a_configuration_change_mid_flight_is_answered_with_the_new_configuration(
    jp_root_dir, api, shared_upstream, emulator, during
):
    """An IBM call is slow; meanwhile the .env becomes the local fleet (a sign-out, an instance switch): the
    requests after the change get the new configuration's listing, never the call made for the old one."""
    from conftest import ibm_dotenv_text

    env = jp_root_dir / ".env"
    env.write_text(ibm_dotenv_text(emulator))
    if during == "a listing":
        first = await api("GET", "backends")
        assert first.status == 200 and first.json["provider"] == "ibm", first
        shared_upstream.listing_value.expire()
    emulator.reset_log()
    slow = BACKENDS if during == "a listing" else "/identity/token"  # the sign-in begins with an IAM token
    emulator.inject("stall", path=slow, times=None, seconds=3.0)  # every IBM listing (or sign-in) is slow now
    before = asyncio.ensure_future(api("GET", "backends"))  # asked for the IBM account
    for _ in range(500):  # until the server's slow call (the sign-in is in the first listing) is under way
        if shared_upstream.upstream.in_flight("listing"):
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)
    assert shared_upstream.upstream.in_flight("listing") and not before.done()
    env.write_text('QCONNECTOR_FLEET="manila"\n')  # now the local fleet
    os.utime(env, (1_700_000_300, 1_700_000_300))
    shared_upstream.config_changed()  # what a sign-in or sign-out route does
    after = await api("GET", "backends")
    assert after.status == 200 and after.json["provider"] == "local", after
    assert [q["name"] for q in after.json["qpus"]] == ["fake_manila"]
    late = await before  # asked before the change, answered after it: the new configuration too
    assert late.status == 200 and late.json["provider"] == "local", late
    again = await api("GET", "backends")
    assert again.json["provider"] == "local" and shared_upstream.upstream.current.kind == "local"


async def test_a_configuration_change_while_the_provider_is_built_builds_it_again(flaky, qc_env):
    """The build under way read the old configuration: it is not installed, the provider is built again."""
    builds = []

    def slow_factory():
        builds.append(1)
        time.sleep(0.5)
        return flaky

    cache = SharedUpstream(QConnectorServer(), provider_factory=slow_factory)
    try:
        building = asyncio.ensure_future(cache.provider())
        await asyncio.sleep(0.2)  # the build is under way
        cache.config_changed()
        assert await building is flaky and len(builds) == 2
        assert cache.upstream.current is flaky and len(builds) == 2
    finally:
        await cache.stop()
