"""Every fault the emulator injects, through the core, with the real client: the error type, a one-line message
without the token, and a bounded elapsed time."""

from __future__ import annotations

import time

import pytest

from qiskit_connector_lab import providers as provider_module
from qiskit_connector_lab.connection import connect
from qiskit_connector_lab.errors import (
    BadResponse,
    ConnectorError,
    DeadlineExceeded,
    NoBackendAvailable,
    RateLimited,
    ServerError,
    Unauthorized,
    UnknownBackend,
    Unreachable,
)

DEADLINE = 2.0
MARGIN = 2.5  # thread start-up, the client's own work, a loaded 2-core machine

# (id, fault, inject kwargs, expected error type, phrase in the message)
WARM_FAULTS = [
    ("401 persistent", 401, {"times": None}, Unauthorized, "401"),  # a single 401 signs in again (see below)
    ("403", 403, {"times": None}, Unauthorized, "403"),
    ("429 retry-after", 429, {"retry_after": 7}, RateLimited, "Retry after 7 s"),
    ("429 bare", 429, {}, RateLimited, "429"),
    ("500 repeated", 500, {"times": None}, ServerError, "500"),
    ("502", 502, {"times": None}, ServerError, "502"),
    ("503", 503, {"times": None}, ServerError, "503"),
    ("stall", "stall", {"seconds": 30}, DeadlineExceeded, f"within {DEADLINE:g} s"),
    ("reset", "reset", {"times": None}, Unreachable, "could not be reached"),
    ("malformed json", "malformed", {}, BadResponse, "could not be read"),
    ("empty list", "empty", {}, NoBackendAvailable, "no QPUs"),
]


def check(error: ConnectorError, emulator, phrase: str) -> None:
    message = str(error)
    assert phrase in message, message
    assert "\n" not in message
    assert emulator.api_key not in message


@pytest.mark.parametrize("name,fault,kwargs,error_type,phrase", WARM_FAULTS, ids=[f[0] for f in WARM_FAULTS])
def test_warm_fault_on_the_listing(emulator, ibm_dotenv, name, fault, kwargs, error_type, phrase):
    ibm_dotenv("open", QCONNECTOR_DEADLINE=str(DEADLINE), QCONNECTOR_LISTING_TTL="0.01")
    connect()  # the service is up
    time.sleep(0.02)
    emulator.inject(fault, path="/api/v1/backends", **kwargs)
    start = time.perf_counter()
    with pytest.raises(error_type) as info:
        connect()
    elapsed = time.perf_counter() - start
    assert elapsed < DEADLINE + MARGIN, f"{name} took {elapsed:.1f} s"
    check(info.value, emulator, phrase)
    if isinstance(info.value, RateLimited) and "retry_after" in kwargs:
        assert info.value.retry_after == kwargs["retry_after"]
    emulator.clear_faults()


COLD_FAULTS = [
    ("iam 500", 500, {"path": "/identity/token", "times": None}, ServerError, "500"),
    ("iam stall", "stall", {"path": "/identity/token", "seconds": 30}, DeadlineExceeded, "within"),
    ("search 403", 403, {"path": "/v3/resources/search"}, Unauthorized, "403"),
    # The client swallows a failed /backends during its init; the listing right after reports it.
    ("backends 401 at init", 401, {"path": "/api/v1/backends", "times": None}, Unauthorized, "401"),
]


@pytest.mark.parametrize("name,fault,kwargs,error_type,phrase", COLD_FAULTS, ids=[f[0] for f in COLD_FAULTS])
def test_cold_fault_while_connecting(emulator, ibm_dotenv, name, fault, kwargs, error_type, phrase):
    ibm_dotenv("open", QCONNECTOR_DEADLINE=str(DEADLINE))
    emulator.inject(fault, **kwargs)
    start = time.perf_counter()
    with pytest.raises(error_type) as info:
        connect()
    assert time.perf_counter() - start < DEADLINE + MARGIN
    check(info.value, emulator, phrase)


def test_bad_api_key_is_unauthorized_not_a_stall(emulator, ibm_dotenv, clean_env):
    path = ibm_dotenv("open", QCONNECTOR_DEADLINE=str(DEADLINE))
    path.write_text(path.read_text().replace(emulator.api_key, "not-the-right-key-0123456789"))
    start = time.perf_counter()
    with pytest.raises(Unauthorized) as info:
        connect()
    assert time.perf_counter() - start < DEADLINE + MARGIN
    assert "IQP_API_TOKEN" in str(info.value) and "not-the-right-key" not in str(info.value)


def test_connection_refused_is_unreachable(emulator, ibm_dotenv, monkeypatch):
    dead = emulator.refused_url()
    for name in ("IAM_URL", "GLOBAL_SEARCH_URL"):
        monkeypatch.setenv(name, dead)
    ibm_dotenv("open", QCONNECTOR_DEADLINE=str(DEADLINE))
    start = time.perf_counter()
    with pytest.raises(Unreachable) as info:
        connect()
    assert time.perf_counter() - start < DEADLINE + MARGIN
    check(info.value, emulator, "could not be reached")


def test_qpu_vanishing_between_list_and_detail(emulator, ibm_dotenv):
    ibm_dotenv("open", QCONNECTOR_LISTING_TTL="30")
    first = connect()
    provider = next(iter(provider_module._providers.values()))
    victim = next(q.name for q in first.listing.qpus if q.name != first.qpu.name)
    emulator.remove_backend(victim)
    with pytest.raises(UnknownBackend) as info:
        connect(victim)  # still in the cached listing, gone upstream
    assert victim in str(info.value) and "no longer lists that QPU" in str(info.value)
    assert provider.listing(max_age=0).by_name(victim) is None  # the next listing no longer has it


def test_expired_iam_token_mid_session_reauthenticates(emulator, ibm_dotenv):
    ibm_dotenv("open", QCONNECTOR_LISTING_TTL="0.01")
    connect()
    issued = emulator.tokens_issued
    emulator.expire_tokens()
    time.sleep(0.02)
    conn = connect()  # the 401 makes the provider sign in again once, then it works
    assert conn.qpu.name
    assert emulator.tokens_issued > issued


def test_a_failed_connect_leaves_no_half_built_service(emulator, ibm_dotenv):
    ibm_dotenv("open", QCONNECTOR_DEADLINE=str(DEADLINE))
    emulator.inject(500, path="/identity/token", times=None)
    with pytest.raises(ServerError):
        connect()
    emulator.clear_faults()
    assert connect().qpu.name  # the next try starts over and succeeds
