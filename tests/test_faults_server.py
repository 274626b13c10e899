"""The fault table and bad input through the server routes: a real Jupyter server, the real IBM client, the
API emulator injecting faults. Each fault gives a quick, clear, secret-free answer, and the server keeps serving."""

from __future__ import annotations

import asyncio
import time

import pytest

pytest.register_assert_rewrite("server_conftest")

import qiskit_ibm_runtime  # noqa: E402,F401 - a cold import inside a short deadline would eat it
from server_conftest import server_config  # noqa: E402
from test_faults_core import DEADLINE, MARGIN, WARM_FAULTS  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server", "server_conftest")

TTL = 0.3


@pytest.fixture
def jp_server_config(qc_env, ibm_env):
    return server_config({"provider": "ibm", "ttl": TTL, "deadline": DEADLINE, "refresh_interval": 60})


def assert_clean(answer, emulator) -> None:
    assert emulator.api_key not in answer.text
    assert "eyJ" not in answer.text  # no bearer JWT
    assert "Traceback" not in answer.text


@pytest.mark.parametrize("name,fault,kwargs,error_type,phrase", WARM_FAULTS, ids=[f[0] for f in WARM_FAULTS])
async def test_fault_after_good_data_serves_it_stale_and_keeps_serving(
    api, ibm_env, name, fault, kwargs, error_type, phrase
):
    emulator = ibm_env
    first = await api("GET", "backends")
    assert first.status == 200 and not first.json["stale"]
    least_busy = first.json["least_busy"]
    # What a sidebar has asked for before the fault: the plan and one QPU's detail.
    assert (await api("GET", "plan")).status == 200
    assert (await api("GET", "backends", least_busy)).status == 200
    await asyncio.sleep(TTL + 0.05)
    emulator.inject(fault, path="/api/v1/backends", **kwargs)
    start = time.perf_counter()
    answer = await api("GET", "backends")
    elapsed = time.perf_counter() - start
    assert elapsed < DEADLINE + MARGIN, f"{name}: {elapsed:.1f} s"
    assert_clean(answer, emulator)
    if fault == "empty":  # an empty list is an answer, not a failure: the fleet really has no QPU now
        assert answer.status == 200 and answer.json["qpus"] == [] and answer.json["least_busy"] is None
    else:
        assert answer.status == 200 and answer.json["stale"], answer
        assert answer.json["qpus"] == first.json["qpus"]  # the last good listing, exactly
        first_sentence = "HTTP 429" if phrase.startswith("Retry after") else phrase  # the reason is one sentence
        assert first_sentence in answer.json["stale_reason"], answer.json
        assert "\n" not in answer.json["stale_reason"]
    # The other routes keep answering while the listing is failing.
    routes = [("plan",), ("pick",), ("status",)] + ([("backends", least_busy)] if fault != "empty" else [])
    for route in routes:
        other = await api("GET", *route)
        assert other.status == 200, (route, other)
        assert_clean(other, emulator)
    emulator.clear_faults()


COLD = [
    ("401", 401, {"times": None}, 502, "unauthorized"),
    ("429", 429, {"retry_after": 9}, 503, "rate_limited"),
    ("500", 500, {"times": None}, 502, "server_error"),
    ("stall", "stall", {"seconds": 30}, 504, "deadline_exceeded"),
    ("malformed", "malformed", {}, 502, "bad_response"),
]


@pytest.mark.parametrize("name,fault,kwargs,status,code", COLD, ids=[c[0] for c in COLD])
async def test_fault_with_no_data_is_one_json_sentence(api, ibm_env, name, fault, kwargs, status, code):
    emulator = ibm_env
    # Fail the listing both during the client's init and after it (the client swallows the first one).
    emulator.inject(fault, path="/api/v1/backends", **({**kwargs, "times": None} if fault != "stall" else kwargs))
    start = time.perf_counter()
    answer = await api("GET", "backends")
    assert time.perf_counter() - start < 2 * DEADLINE + MARGIN  # the init and the listing each have a deadline
    assert answer.status == status, answer
    assert answer.json["code"] == code
    assert "\n" not in answer.json["message"] and answer.json["message"].endswith(".")
    assert_clean(answer, emulator)
    assert (await api("GET", "pick")).status == 200
    emulator.clear_faults()


BAD_REQUESTS = [
    ("unknown QPU", "GET", ("backends", "ibm_nowhere"), None, 404),
    ("path trick", "GET", ("backends", "..%2F..%2Fetc%2Fpasswd"), None, (400, 404)),
    ("dot-dot name", "GET", ("backends", ".."), None, (400, 404)),
    ("overlong name", "GET", ("backends", "x" * 300), None, 400),
    ("nul byte", "GET", ("backends", "fez%00"), None, 400),
    ("oversized body", "POST", ("pick",), {"backend": "x" * 10000}, 413),
    ("not json", "POST", ("pick",), "{not json", 400),
    ("wrong type", "POST", ("pick",), {"backend": 42}, 400),
    ("unlisted pick", "POST", ("pick",), {"backend": "ibm_nowhere"}, 404),
    ("PUT pick", "PUT", ("pick",), {"backend": None}, 405),
    ("DELETE backends", "DELETE", ("backends",), None, 405),
    ("POST plan", "POST", ("plan",), {}, 405),
    ("unknown route", "GET", ("nothing-here",), None, 404),
]


@pytest.mark.parametrize("name,method,route,body,status", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
async def test_bad_requests_get_a_clear_status(api, ibm_env, name, method, route, body, status):
    answer = await api(method, *route, body=body)
    expected = status if isinstance(status, tuple) else (status,)
    assert answer.status in expected, answer
    assert_clean(answer, ibm_env)
    assert answer.json is not None, answer  # every answer, errors included, is JSON
    assert set(answer.json) >= {"message", "code"} and "\n" not in answer.json["message"]
    assert (await api("GET", "backends")).status == 200  # and the server goes on serving


COLD_UPSTREAM = [
    ("iam 500", 500, {"path": "/identity/token", "times": None}, 502, "server_error"),
    ("iam stall", "stall", {"path": "/identity/token", "seconds": 30}, 504, "deadline_exceeded"),
    ("search 403", 403, {"path": "/v3/resources/search"}, 502, "unauthorized"),
]


@pytest.mark.parametrize("name,fault,kwargs,status,code", COLD_UPSTREAM, ids=[c[0] for c in COLD_UPSTREAM])
async def test_sign_in_faults_are_one_json_sentence(api, ibm_env, name, fault, kwargs, status, code):
    ibm_env.inject(fault, **kwargs)
    start = time.perf_counter()
    answer = await api("GET", "backends")
    assert time.perf_counter() - start < DEADLINE + MARGIN
    assert answer.status == status and answer.json["code"] == code, answer
    assert_clean(answer, ibm_env)
    assert (await api("GET", "pick")).status == 200
    ibm_env.clear_faults()


async def test_a_qpu_vanishing_between_list_and_detail_is_a_404_not_an_outage(api, ibm_env):
    listing = await api("GET", "backends")
    victim = next(q["name"] for q in listing.json["qpus"] if q["name"] != listing.json["least_busy"])
    ibm_env.remove_backend(victim)
    answer = await api("GET", "backends", victim)  # still in the cached listing, gone upstream
    assert answer.status == 404 and answer.json["code"] == "unknown_backend", answer
    assert_clean(answer, ibm_env)
    await asyncio.sleep(TTL + 0.05)
    again = await api("GET", "backends")  # no backoff: the next listing is fresh, without the QPU
    assert again.status == 200 and not again.json["stale"]
    assert victim not in [q["name"] for q in again.json["qpus"]]
