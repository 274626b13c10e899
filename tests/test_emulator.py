"""The IBM Quantum Platform emulator, exercised with the REAL qiskit-ibm-runtime client.

Nothing in ``qiskit_ibm_runtime`` is mocked: ``QiskitRuntimeService`` talks HTTP to
``tests/emulator`` on 127.0.0.1.  These tests pin both the emulator and the facts
about the client that the project relies on.

Facts pinned here (qiskit-ibm-runtime 0.51):

* The one-request listing of every QPU *with its queue length* is
  ``RuntimeClient.list_backends()`` (``qiskit_ibm_runtime/api/client.py``), reached
  as ``service._get_api_client().list_backends()`` (or ``service._active_api_client``).
  It wraps ``Runtime.backends()`` (``api/rest/runtime.py``): exactly one
  ``GET /api/v1/backends`` and returns the raw ``devices`` list (``name``,
  ``status{name,reason}``, ``qubits``, ``queue_length``, ``processor_type``, ``clops``...).
  ``least_busy()`` and ``backends()`` call the same method but then build
  ``IBMBackend`` objects (one ``/configuration`` per uncached backend).
* A service init with an instance (name or CRN) costs 7 requests: IAM x2,
  Global Search x1, Global Catalog x1 per instance, ``GET /backends`` x1.
* ``least_busy()`` with the default instance ranks on the device list cached by the
  *previous* listing, then re-lists once (``backend(name)`` -> ``backends(name)``):
  1 ``GET /backends`` (+1 ``/configuration`` if that backend is not cached yet).
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import requests

# tests/ is on sys.path (tests/conftest.py inserts it; pytest's rootdir-less "prepend"
# import mode does too), so the package is imported as `emulator`, never `tests.emulator`
# (two names would load two copies).
from emulator import IBMQuantumEmulator
from emulator import data as emulator_data
from emulator.server import THREAD_PREFIX
from qiskit.providers.exceptions import QiskitBackendNotFoundError
from qiskit_ibm_runtime import Batch, QiskitRuntimeService, Session
from qiskit_ibm_runtime.accounts.exceptions import InvalidAccountError
from qiskit_ibm_runtime.api.exceptions import RequestsApiError
from qiskit_ibm_runtime.exceptions import IBMNotAuthorizedError

BACKENDS = "/api/v1/backends"
IAM = "/identity/token"

_CLIENT_VARS = ("IAM_URL", "GLOBAL_SEARCH_URL", "GLOBAL_CATALOG_URL", "IBM_CREDENTIALS_FILE")


@pytest.fixture
def isolated_env(monkeypatch, tmp_path):
    """No saved account, no ibm-credentials.env, no stray client variables, no proxy."""
    for key in list(os.environ):
        if key.startswith(("QISKIT_IBM_", "GLOBAL_SEARCH_", "GLOBAL_CATALOG_")) or key in _CLIENT_VARS:
            monkeypatch.delenv(key, raising=False)
        if key.lower() in {"http_proxy", "https_proxy", "all_proxy"}:
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def _point_client_at(monkeypatch, emu: IBMQuantumEmulator, **env_kwargs) -> None:
    for key, value in emu.client_env(**env_kwargs).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def emu(isolated_env):
    with IBMQuantumEmulator() as emulator:
        _point_client_at(isolated_env, emulator)
        yield emulator
    assert emulator.errors == []


def make_service(emu: IBMQuantumEmulator, instance: str = "premium-instance", **kwargs) -> QiskitRuntimeService:
    crn = emu.instance_crn(instance)
    return QiskitRuntimeService(**emu.service_kwargs(crn, **kwargs))


def _bearer(emu: IBMQuantumEmulator) -> str:
    reply = requests.post(
        emu.base_url + IAM,
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": emu.api_key},
        timeout=5,
    )
    assert reply.status_code == 200
    return reply.json()["access_token"]


def _raw_headers(emu: IBMQuantumEmulator, instance: str = "premium-instance") -> dict[str, str]:
    return {"Authorization": f"Bearer {_bearer(emu)}", "Service-CRN": emu.instance_crn(instance)}


def _emulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX) and t.is_alive()]


# --------------------------------------------------------------------------- lifecycle


def test_lifecycle_keepalive_and_clean_stop(isolated_env):
    before = set(_emulator_threads())
    emu = IBMQuantumEmulator()
    emu.start()
    assert emu.base_url.startswith("http://127.0.0.1:")
    port = emu.port
    with requests.Session() as http:
        headers = _raw_headers(emu)
        first = http.get(emu.base_url + BACKENDS, headers=headers, timeout=5)
        second = http.get(emu.base_url + BACKENDS, headers=headers, timeout=5)
        assert first.status_code == second.status_code == 200
        assert first.headers["Content-Length"] == str(len(first.content))
        assert len(first.json()["devices"]) == 7
        # one TCP connection reused (HTTP/1.1 keep-alive) -> one connection thread
        assert len([t for t in _emulator_threads() if t.name == f"{THREAD_PREFIX}-conn-{port}"]) == 1
        # stop() with an idle keep-alive connection still open must not hang
        started = time.monotonic()
        emu.stop()
        assert time.monotonic() - started < 2
    assert set(_emulator_threads()) <= before
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/api/v1/backends", timeout=2)
    # restart rebinds the same port; state (tokens, queues) survives
    emu.start()
    try:
        assert emu.port == port
        assert requests.get(emu.base_url + BACKENDS, headers=headers, timeout=5).status_code == 200
    finally:
        emu.stop()
    assert set(_emulator_threads()) <= before


def test_refused_url_refuses(isolated_env):
    url = IBMQuantumEmulator.refused_url()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + BACKENDS, timeout=2)


# --------------------------------------------------------------------------- init / instances


def test_init_with_crn_costs_seven_requests(emu):
    crn = emu.instance_crn("premium-instance")
    service = QiskitRuntimeService(**emu.service_kwargs(crn))
    assert service.active_instance() == crn
    assert emu.count("POST", IAM) == 2
    assert emu.count("POST", "/v3/resources/search") == 1
    assert emu.count("GET", "/catalog", prefix=True) == 3
    assert emu.count("GET", BACKENDS) == 1
    assert emu.count() == 7
    # every runtime call carried a bearer token and the instance CRN
    runtime = [r for r in emu.requests if r.path.startswith("/api/v1")]
    assert all(r.auth_scheme == "bearer" and r.service_crn == crn for r in runtime)


def test_init_with_instance_name(emu):
    service = QiskitRuntimeService(**emu.service_kwargs("open-instance"))
    assert service.active_instance() == emu.instance_crn("open-instance")
    assert emu.count() == 7
    assert emu.count("GET", BACKENDS) == 1


def test_env_only_recipe_uses_experimental_url(isolated_env):
    with IBMQuantumEmulator() as emu:
        crn = emu.instance_crn("paygo-instance")
        _point_client_at(isolated_env, emu, include_token=True, instance=crn)
        service = QiskitRuntimeService()  # everything from the environment
        assert service.active_instance() == crn
        listing = [r for r in emu.requests if r.path == BACKENDS]
        assert [r.raw_path for r in listing] == ["/experimental/api/v1/backends"]
        assert emu.errors == []


def test_instances_show_plan_and_pricing_type(emu):
    service = make_service(emu)
    by_name = {inst["name"]: inst for inst in service.instances()}
    assert set(by_name) == {"open-instance", "paygo-instance", "premium-instance"}
    assert (by_name["open-instance"]["plan"], by_name["open-instance"]["pricing_type"]) == ("open", "free")
    assert (by_name["paygo-instance"]["plan"], by_name["paygo-instance"]["pricing_type"]) == (
        "pay-as-you-go",
        "paygo",
    )
    assert by_name["premium-instance"]["plan"] == "premium"
    assert by_name["premium-instance"]["pricing_type"] == "subscription"
    assert by_name["premium-instance"]["crn"] == emu.instance_crn("premium-instance")


def test_configured_instances_search_paging_and_unallocated(isolated_env):
    instances = [
        {"name": "a-open", "plan": "open"},
        {"name": "b-flex", "plan": "flex", "tags": ["team"]},
        {"name": "c-dedicated", "plan": "Dedicated", "region": "eu-de"},
        {"name": "d-archived", "plan": "premium", "allocated": False},
    ]
    with IBMQuantumEmulator(instances=instances, search_page_size=1) as emu:
        _point_client_at(isolated_env, emu)
        assert emu.instance_crn("c-dedicated").startswith("crn:v1:bluemix:public:quantum-computing:eu-de:")
        service = make_service(emu, "b-flex")
        listed = {inst["name"]: inst for inst in service.instances()}
        # the client skips an item without doc.extensions (no allocation)
        assert set(listed) == {"a-open", "b-flex", "c-dedicated"}
        assert listed["b-flex"]["plan"] == "flex" and listed["b-flex"]["tags"] == ["team"]
        assert listed["c-dedicated"]["plan"] == "dedicated"
        assert emu.count("POST", "/v3/resources/search") == 4  # one page per instance
        assert emu.errors == []


# --------------------------------------------------------------------------- backends


def test_backends_configuration_properties_status(emu):
    service = make_service(emu)
    names = [b.name for b in service.backends()]
    assert names == emu.backend_names
    assert len(names) == 7 and "ibm_fez" in names and "ibm_perth" in names
    assert emu.count("GET", BACKENDS) == 2  # init + backends()
    assert emu.count("GET", BACKENDS, prefix=True) == 2 + 7  # + one /configuration each

    backend = service.backend("ibm_perth")
    config = backend.configuration()
    assert config.backend_name == "ibm_perth"
    assert config.n_qubits == 7
    props = backend.properties()
    assert props.backend_name == "ibm_perth"
    assert len(props.qubits) == 7
    emu.set_queue("ibm_perth", 17)
    status = backend.status()
    assert (status.operational, status.status_msg, status.pending_jobs) == (True, "active", 17)
    emu.set_status("ibm_perth", "paused", "calibration")
    status = backend.status()  # never cached: one request each
    assert (status.operational, status.status_msg) == (True, "internal")
    emu.set_status("ibm_perth", "offline")
    assert backend.status().operational is False
    assert emu.count("GET", "/api/v1/backends/ibm_perth/status") == 3


def test_raw_listing_is_one_request_with_queue_lengths(emu):
    service = make_service(emu)
    emu.set_queue("ibm_kyiv", 3)
    emu.reset_log()
    # RuntimeClient.list_backends (api/client.py) -> Runtime.backends (api/rest/runtime.py)
    devices = service._get_api_client().list_backends()
    assert emu.count() == 1 and emu.count("GET", BACKENDS) == 1
    by_name = {d["name"]: d for d in devices}
    assert set(by_name) == set(emu.backend_names)
    assert by_name["ibm_kyiv"]["queue_length"] == 3
    assert by_name["ibm_fez"]["processor_type"] == {"family": "Heron", "revision": "2"}
    assert by_name["ibm_torino"]["processor_type"]["revision"] == "1"
    assert by_name["ibm_brisbane"]["processor_type"] == {"family": "Eagle", "revision": "3"}
    assert by_name["ibm_fez"]["qubits"] == 156 and by_name["ibm_torino"]["qubits"] == 133
    assert by_name["ibm_fez"]["status"] == {"name": "online", "reason": "available"}
    assert by_name["ibm_fez"]["clops"]["value"] > 0


def test_least_busy_picks_smallest_queue_on_the_previous_listing(emu):
    for name in emu.backend_names:
        emu.set_queue(name, 100)
    emu.set_queue("ibm_torino", 5)
    service = make_service(emu)  # the init listing already sees these queues
    emu.reset_log()
    assert service.least_busy().name == "ibm_torino"
    assert emu.count("GET", BACKENDS) == 1
    assert emu.count("GET", "/api/v1/backends/ibm_torino/configuration") == 1

    emu.set_queue("ibm_kyiv", 1)
    emu.reset_log()
    # ranks on the list cached by the previous call (stale), then refreshes it
    assert service.least_busy().name == "ibm_torino"
    assert service.least_busy().name == "ibm_kyiv"
    assert emu.count("GET", BACKENDS) == 2

    emu.set_status("ibm_kyiv", "paused")
    service.backends()  # refresh the cached listing
    assert service.least_busy().name == "ibm_torino"  # paused QPUs are not candidates


def test_many_backends_and_latency(isolated_env):
    with IBMQuantumEmulator(backends=40, latency=0.0) as emu:
        _point_client_at(isolated_env, emu)
        names = emu.backend_names
        assert len(names) == len(set(names)) == 40
        assert "ibm_brisbane_2" in names and "ibm_fez_6" in names
        service = make_service(emu)
        emu.reset_log()
        devices = service._get_api_client().list_backends()
        assert len(devices) == 40 and emu.count("GET", BACKENDS) == 1
        emu.latency = 0.2
        started = time.monotonic()
        service._get_api_client().list_backends()
        assert time.monotonic() - started >= 0.2
        assert emu.errors == []


def test_explicit_backend_list_add_remove_and_unknown(isolated_env):
    with IBMQuantumEmulator(backends=["ibm_kyiv", {"name": "ibm_test", "snapshot": "perth", "queue_length": 2}]) as emu:
        _point_client_at(isolated_env, emu)
        assert emu.backend("ibm_test")["qubits"] == 7
        emu.add_backend("ibm_miami" if "miami" in _snapshots() else "ibm_fez", queue_length=9)
        service = make_service(emu)
        assert len(service.backends()) == 3
        with pytest.raises(QiskitBackendNotFoundError):
            service.backend("ibm_nope")
        emu.remove_backend("ibm_test")
        headers = _raw_headers(emu)
        reply = requests.get(emu.base_url + "/api/v1/backends/ibm_test/configuration", headers=headers, timeout=5)
        assert reply.status_code == 404
        error = reply.json()["errors"][0]
        assert error["code"] == "not_found" and "ibm_test" in error["message"]
        assert "ibm_test" not in {d["name"] for d in service._get_api_client().list_backends()}
        emu.clear_backends()
        assert service._get_api_client().list_backends() == []
        assert emu.errors == []


def _snapshots() -> tuple[str, ...]:
    return emulator_data.available_snapshots()


def test_runtime_auth_checks(emu):
    token = _bearer(emu)
    url = emu.base_url + BACKENDS
    crn = emu.instance_crn("open-instance")
    assert requests.get(url, headers={"Service-CRN": crn}, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer nope", "Service-CRN": crn}, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 403
    bad_crn = crn.replace("quantum-computing", "other")
    reply = requests.get(url, headers={"Authorization": f"Bearer {token}", "Service-CRN": bad_crn}, timeout=5)
    assert reply.status_code == 403
    assert requests.get(url, headers={"Authorization": f"Bearer {token}", "Service-CRN": crn}, timeout=5).ok


# --------------------------------------------------------------------------- usage / sessions


def test_usage_open_and_premium(emu):
    emu.set_usage("open-instance", consumed=100)
    usage = make_service(emu, "open-instance").usage()
    assert usage["usage_consumed_seconds"] == 100
    assert usage["usage_limit_seconds"] == 600
    assert usage["usage_remaining_seconds"] == 500
    assert usage["usage_limit_reached"] is False
    premium = make_service(emu, "premium-instance").usage()
    assert None not in premium.values()
    assert "usage_limit_seconds" not in premium and "usage_remaining_seconds" not in premium
    emu.set_usage("open-instance", consumed=600)
    assert make_service(emu, "open-instance").usage()["usage_limit_reached"] is True


def test_open_plan_session_fails_with_1352_but_batch_works(emu):
    service = make_service(emu, "open-instance")
    backend = service.backend("ibm_perth")
    emu.reset_log()
    with pytest.raises(RequestsApiError) as info:
        Session(backend=backend)
    assert info.value.status_code == 400
    assert "1352" in str(info.value)
    assert "not authorized to run a session when using the open plan" in str(info.value)
    assert emu.count("POST", "/api/v1/sessions") == 1  # a 400 is not retried

    batch = Batch(backend=backend)
    assert batch.session_id
    (created,) = emu.sessions
    assert created["id"] == batch.session_id
    assert (created["mode"], created["backend_name"]) == ("batch", "ibm_perth")
    assert created["instance"] == emu.instance_crn("open-instance")
    batch.close()
    assert emu.sessions[0]["state"] == "closed"


def test_paid_plan_session(emu):
    service = make_service(emu, "premium-instance")
    backend = service.backend("ibm_fez")
    with Session(backend=backend, max_time=600) as session:
        assert session.session_id
        details = session.details()
        assert details["mode"] == "dedicated"
        assert details["max_time"] == 600
        assert details["backend_name"] == "ibm_fez"
        assert session.status() == "Pending"
    assert emu.count("PATCH", f"/api/v1/sessions/{session.session_id}") == 1
    assert emu.sessions[0]["state"] == "closed"
    session.cancel()  # DELETE .../close is accepted on a closed session
    assert emu.count("DELETE", f"/api/v1/sessions/{session.session_id}/close") == 1


# --------------------------------------------------------------------------- credentials


def test_bad_api_key_fails_and_the_key_is_never_echoed(emu):
    started = time.monotonic()
    with pytest.raises(InvalidAccountError):
        make_service(emu, token="wrong-key-123")
    with pytest.raises(InvalidAccountError):
        QiskitRuntimeService(**emu.service_kwargs("open-instance", token="wrong-key-123"))
    assert time.monotonic() - started < 5
    assert emu.count("POST", IAM, status=400) == 2
    assert emu.count("GET", BACKENDS) == 0
    reply = requests.post(
        emu.base_url + IAM,
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": "wrong-key-123"},
        timeout=5,
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "BXNIM0415E"
    assert reply.json()["errorMessage"] == "Provided API key could not be found."
    assert "wrong-key-123" not in reply.text


def test_api_key_never_in_replies_or_log(emu):
    service = make_service(emu)
    service.backends()
    requests.get(emu.base_url + BACKENDS + "?apikey=" + emu.api_key, timeout=5)
    requests.get(emu.base_url + BACKENDS, headers={"Authorization": f"apikey {emu.api_key}x"}, timeout=5)
    token_reply = requests.post(
        emu.base_url + IAM,
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": emu.api_key},
        timeout=5,
    )
    assert emu.api_key not in token_reply.text
    for record in emu.requests:
        assert emu.api_key not in repr(record)


def test_expired_tokens_get_401_until_reauthentication(emu):
    service = make_service(emu)
    backend = service.backend("ibm_perth")
    emu.expire_tokens()
    with pytest.raises(IBMNotAuthorizedError):
        backend.status()
    assert emu.count("GET", "/api/v1/backends/ibm_perth/status", status=401) == 1
    issued = emu.tokens_issued
    fresh = make_service(emu)  # a new service exchanges the key again
    assert emu.tokens_issued == issued + 2
    assert fresh.backend("ibm_perth").status().operational


def test_iam_failure_makes_the_client_send_the_raw_api_key(isolated_env):
    # token_ttl <= 10 s: the client re-fetches a token before every runtime call.
    with IBMQuantumEmulator(token_ttl=5) as emu:
        _point_client_at(isolated_env, emu)
        backend = make_service(emu).backend("ibm_perth")
        emu.inject(500, path=IAM)  # IAM is not retried by the client
        emu.reset_log()
        with pytest.warns(UserWarning, match="API Key will be used instead"):
            assert backend.status().operational
        status_calls = [r for r in emu.requests if r.path.endswith("/status")]
        assert [r.auth_scheme for r in status_calls] == ["apikey"]
        assert emu.count("POST", IAM, status=500) == 1
        assert emu.errors == []


def test_connection_refused_fails_fast(isolated_env):
    with IBMQuantumEmulator() as emu:
        _point_client_at(isolated_env, emu)
        kwargs = emu.service_kwargs(emu.instance_crn("open-instance"))
    # the emulator is stopped: its port now refuses
    started = time.monotonic()
    with pytest.raises(InvalidAccountError):
        QiskitRuntimeService(**kwargs)
    assert time.monotonic() - started < 5


# --------------------------------------------------------------------------- faults


def test_fault_401_raises_not_authorized(emu):
    backend = make_service(emu).backend("ibm_perth")
    emu.inject(401, path="/api/v1/backends/ibm_perth/status")
    with pytest.raises(IBMNotAuthorizedError):
        backend.status()
    assert backend.status().operational  # times=1: the next call succeeds


def test_fault_403_raises_requests_api_error(emu):
    service = make_service(emu)
    emu.inject(403, path=BACKENDS)
    with pytest.raises(RequestsApiError) as info:
        service._get_api_client().list_backends()
    assert info.value.status_code == 403
    assert emu.count("GET", BACKENDS, status=403) == 1


def test_fault_429_without_retry_after_fails_at_once(emu):
    service = make_service(emu)
    emu.inject(429, path=BACKENDS, times=None)
    emu.reset_log()
    started = time.monotonic()
    with pytest.raises(RequestsApiError) as info:
        service._get_api_client().list_backends()
    assert time.monotonic() - started < 2
    assert info.value.status_code == 429
    assert emu.count("GET", BACKENDS) == 1  # not retried


def test_fault_429_with_retry_after_is_honoured(emu):
    service = make_service(emu)
    emu.inject(429, path=BACKENDS, retry_after=1)
    emu.reset_log()
    started = time.monotonic()
    devices = service._get_api_client().list_backends()
    assert time.monotonic() - started >= 0.9
    assert len(devices) == 7
    assert [r.status for r in emu.requests if r.path == BACKENDS] == [429, 200]


@pytest.mark.parametrize(
    ("status", "method", "path"),
    [(500, "GET", BACKENDS), (502, "GET", "/api/v1/instances/usage"), (503, "POST", "/api/v1/sessions")],
)
def test_fault_5xx_is_retried_by_the_client(emu, status, method, path):
    service = make_service(emu)
    backend = service.backend("ibm_perth")
    emu.inject(status, path=path, method=method)
    emu.reset_log()
    if path == BACKENDS:
        service._get_api_client().list_backends()
    elif path.endswith("usage"):
        service.usage()
    else:
        assert Batch(backend=backend).session_id  # POST is retried on 5xx too
    assert [r.status for r in emu.requests if r.path == path] == [status, 200]


def test_fault_5xx_raw_reply_shape(emu):
    emu.inject(503, path=BACKENDS, retry_after=7)
    reply = requests.get(emu.base_url + BACKENDS, headers=_raw_headers(emu), timeout=5)
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "7"
    body = reply.json()
    assert body["status_code"] == 503 and body["errors"][0]["code"] == "service_unavailable"


def test_fault_stall_blocks_only_that_request_and_stop_wakes_it(isolated_env):
    emu = IBMQuantumEmulator().start()
    try:
        headers = _raw_headers(emu)
        emu.inject("stall", path=BACKENDS, seconds=30)
        started = time.monotonic()
        with pytest.raises(requests.ReadTimeout):
            requests.get(emu.base_url + BACKENDS, headers=headers, timeout=1)
        assert time.monotonic() - started < 3
        # the stalled handler does not block other requests
        assert requests.get(emu.base_url + BACKENDS, headers=headers, timeout=2).ok

        emu.inject("stall", path=BACKENDS, seconds=30)
        outcome: list[object] = []

        def stalled_call() -> None:
            try:
                outcome.append(requests.get(emu.base_url + BACKENDS, headers=headers, timeout=20))
            except requests.RequestException as exc:
                outcome.append(exc)

        caller = threading.Thread(target=stalled_call)
        caller.start()
        time.sleep(0.3)
        started = time.monotonic()
    finally:
        emu.stop()
    assert time.monotonic() - started < 2  # stop() woke the stalled handlers
    caller.join(5)
    assert outcome and isinstance(outcome[0], requests.ConnectionError)
    assert not [t for t in _emulator_threads() if t.name.endswith(str(emu.port))]


def test_fault_short_stall_delays_the_client(emu):
    service = make_service(emu)
    emu.inject("stall", path=BACKENDS, seconds=0.5)
    started = time.monotonic()
    assert len(service._get_api_client().list_backends()) == 7
    assert time.monotonic() - started >= 0.5


@pytest.mark.parametrize("kind", ["refuse", "reset"])
def test_fault_dropped_connection(emu, kind):
    headers = _raw_headers(emu)
    emu.inject(kind, path=BACKENDS)
    with pytest.raises(requests.ConnectionError):
        requests.get(emu.base_url + BACKENDS, headers=headers, timeout=5)
    (dropped,) = [r for r in emu.requests if r.path == BACKENDS]
    assert (dropped.status, dropped.fault) == (None, kind)
    # the client retries an idempotent GET once on a dropped connection
    service = make_service(emu)
    emu.inject(kind, path=BACKENDS)
    emu.reset_log()
    assert len(service._get_api_client().list_backends()) == 7
    assert [r.status for r in emu.requests if r.path == BACKENDS] == [None, 200]


def test_fault_malformed_json(emu):
    service = make_service(emu)
    backend = service.backend("ibm_perth")
    emu.inject("malformed", path="/api/v1/backends/ibm_perth/status")
    with pytest.raises(ValueError):  # requests.exceptions.JSONDecodeError
        backend.status()
    emu.inject("malformed", path=BACKENDS)
    with pytest.raises(ValueError):
        service._get_api_client().list_backends()


def test_fault_empty_backends(emu):
    service = make_service(emu)
    emu.inject("empty", path=BACKENDS, times=None)
    emu.reset_log()
    with pytest.raises(QiskitBackendNotFoundError):
        service.least_busy()
    # ranks the 7 candidates cached at init; each backend(name) relists -> empty -> next
    assert emu.count("GET", BACKENDS) == 7
    emu.clear_faults()
    emu.reset_log()
    # Sticky: the cached listing is now empty and least_busy() (default instance, no
    # filter) only lists when nothing is cached -- it keeps failing without a request...
    with pytest.raises(QiskitBackendNotFoundError):
        service.least_busy()
    assert emu.count() == 0
    # ...until something else refreshes the cache.
    service.backends()
    assert service.least_busy().name in emu.backend_names

    emu.inject("empty", path=BACKENDS)
    assert service._get_api_client().list_backends() == []
    emu.inject("empty", path=BACKENDS)
    assert service.backends() == []


def test_fault_table_matching(emu):
    fault = emu.inject(500, path="/api/v1/backends/*", method="get", times=2)
    headers = _raw_headers(emu)
    statuses = [
        requests.get(emu.base_url + "/api/v1/backends/ibm_fez/status", headers=headers, timeout=5).status_code,
        requests.get(emu.base_url + BACKENDS, headers=headers, timeout=5).status_code,  # exact path: no match
        requests.get(emu.base_url + "/api/v1/backends/ibm_kyiv/status", headers=headers, timeout=5).status_code,
        requests.get(emu.base_url + "/api/v1/backends/ibm_kyiv/status", headers=headers, timeout=5).status_code,
    ]
    assert statuses == [500, 200, 500, 200]
    assert fault.exhausted and fault.hits == 2
    emu.inject(502, path=None, times=None)
    assert requests.get(emu.base_url + "/anything", timeout=5).status_code == 502
    emu.clear_faults()
    assert requests.get(emu.base_url + BACKENDS, headers=headers, timeout=5).status_code == 200
    with pytest.raises(ValueError):
        emu.inject("explode")


def test_request_log_records(emu):
    make_service(emu)
    records = emu.requests
    assert [r.path for r in records][:2] == [IAM, "/v3/resources/search"]
    assert records[0].has_auth is False and records[1].auth_scheme == "bearer"
    assert all(r.status == 200 and r.timestamp > 0 and r.duration >= 0 for r in records)
    assert emu.count("GET", "/api/v1") == 0  # exact path only
    assert emu.count(path="/api/v1", prefix=True) == 1
    emu.reset_log()
    assert emu.requests == [] and emu.count() == 0


def test_port_is_ephemeral_and_loopback_only(isolated_env):
    with IBMQuantumEmulator() as one, IBMQuantumEmulator() as two:
        assert one.port != two.port
        with socket.create_connection(("127.0.0.1", one.port), timeout=2):
            pass
    # the seed makes CRNs (and default queues) reproducible
    assert IBMQuantumEmulator().instances[0]["crn"] == IBMQuantumEmulator(seed=0).instances[0]["crn"]
    assert IBMQuantumEmulator(seed=1).instances[0]["crn"] != IBMQuantumEmulator(seed=0).instances[0]["crn"]
