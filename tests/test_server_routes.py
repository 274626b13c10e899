"""The server routes on a real Jupyter server (pytest-jupyter's ``jp_fetch``): the contract, auth and XSRF,
errors, and secrets; on the local fleet and on the REAL qiskit-ibm-runtime client against the emulator."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

pytest.register_assert_rewrite("server_conftest")

import qiskit_ibm_runtime  # noqa: E402,F401 - imported up front: a cold import inside a short deadline fails it
from server_conftest import BACKENDS, OPEN_INSTANCE, server_config  # noqa: E402

from qiskit_connector_lab.qpus import QPU  # noqa: E402
from qiskit_connector_lab.ranking import ranked  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server", "server_conftest")

ROUTES = [
    ("GET", "plan"),
    ("GET", "backends"),
    ("GET", "backends/fake_brisbane"),
    ("GET", "pick"),
    ("POST", "pick"),
    ("GET", "status"),
    ("GET", "no-such-route"),
    ("POST", "no-such-route"),
    ("PUT", "no-such-route"),
    ("DELETE", "no-such-route"),
    ("PATCH", "no-such-route"),
    ("GET", "jobs"),
    ("GET", "jobs/d123"),
    ("POST", "jobs/d123/cancel"),
    ("GET", "account"),
    ("POST", "account"),
    ("DELETE", "account"),
]
QPU_FIELDS = {
    "name",
    "status",
    "status_reason",
    "qubits",
    "queue",
    "family",
    "revision",
    "processor",
    "clops",
    "version",
    "least_busy",
}


@pytest.fixture
def jp_server_config(qc_env, server_traits):
    return server_config({"provider": "local", **server_traits})


def _rank_key(row: dict) -> tuple:
    return (row["status"] != "online", row["queue"], -row["qubits"], row["name"])


def _as_qpu(row: dict) -> QPU:
    return QPU(name=row["name"], status=row["status"], qubits=row["qubits"], queue=row["queue"])


def _check_error(answer, status: int, code: str) -> None:
    assert answer.status == status, answer
    config_error = code in ("config_error", "plan_mismatch", "unauthorized")  # only the .env can end these
    allowed = {"message", "code", "hint"} | ({"config"} if config_error else set())
    assert set(answer.json) <= allowed and answer.json["code"] == code, answer
    if config_error:
        assert set(answer.json["config"]) == {"env_file", "endpoint", "changed_at"}, answer
    message = answer.json["message"]
    assert message and "\n" not in message and "Traceback" not in answer.text
    assert len(re.findall(r"[.!?](?:\s|$)", message)) <= 1, message  # one sentence


# --- the local fleet ---------------------------------------------------------------------------------------
async def test_backends_on_the_local_fleet(api):
    answer = await api("GET", "backends")
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("application/json")
    body = answer.json
    assert body["provider"] == "local" and body["local"] is True
    assert body["stale"] is False and body["stale_reason"] == ""
    assert body["refresh_interval"] == 15
    assert datetime.fromisoformat(body["fetched_at"]).tzinfo is not None
    assert 0 <= body["age_seconds"] < 5
    qpus = body["qpus"]
    assert len(qpus) == 10 and all(row["name"].startswith("fake_") for row in qpus)
    assert all(set(row) >= QPU_FIELDS for row in qpus)
    # Ranked like the core ranks them: operational first, then by queue (then more qubits, then name).
    assert [row["name"] for row in qpus] == [q.name for q in ranked(_as_qpu(row) for row in qpus)]
    assert qpus == sorted(qpus, key=_rank_key)
    online = [row["queue"] for row in qpus if row["status"] == "online"]
    assert online == sorted(online)
    flagged = [row["name"] for row in qpus if row["least_busy"]]
    assert flagged == [body["least_busy"]] == [qpus[0]["name"]]
    fez = next(row for row in qpus if row["name"] == "fake_fez")
    assert fez["qubits"] == 156 and fez["processor"] == "Heron r2" and fez["family"] == "Heron"


async def test_plan_on_the_local_fleet(api):
    answer = await api("GET", "plan")
    assert answer.status == 200
    body = answer.json
    assert body["provider"] == "local" and body["local"] is True
    assert (body["plan"], body["plan_label"], body["plan_display_name"]) == ("open", "Open Plan", "Open")
    assert body["verified"] is False and body["instance"] == "local fleet" and body["crn"] is None
    assert body["channel"] == "local"
    assert body["modes"] == ["batch", "job"] and body["default_mode"] == "job"
    assert body["usage"] is None
    assert body["notes"] and all(isinstance(note, str) for note in body["notes"])
    assert (await api("GET", "plan")).json == body  # within plan_ttl: from memory, no second plan check
    assert (await api("GET", "status")).json["upstream"]["plan_calls"] == 1


async def test_detail_of_a_127_qubit_qpu(api):
    listing = (await api("GET", "backends")).json
    answer = await api("GET", "backends/fake_brisbane")
    assert answer.status == 200
    body = answer.json
    assert body["name"] == "fake_brisbane" and body["qubits"] == 127 and body["processor"] == "Eagle r3"
    layout = body["layout"]
    assert layout["kind"] == "heavy-hex"
    assert len(layout["coordinates"]) == 127 and len(layout["edges"]) == 144
    assert len({tuple(c) for c in layout["coordinates"]}) == 127  # a lattice, not a pile
    assert {"ecr", "rz", "sx", "x"} <= set(body["basis_gates"])
    assert len(body["edge_errors"]) == 144 and len(body["qubit_errors"]["readout"]) == 127
    medians = body["medians"]
    assert 0 < medians["readout_error"] < 0.5 and 0 < medians["two_qubit_error"] < 0.5 and medians["t1_us"] > 0
    row = next(r for r in listing["qpus"] if r["name"] == "fake_brisbane")
    assert body["queue"] == row["queue"] and body["status"] == row["status"]
    history = body["queue_history"]
    assert history and history[-1] == {"t": listing["fetched_at"], "queue": row["queue"]}
    assert datetime.fromisoformat(body["fetched_at"]) and body["listing_fetched_at"] == listing["fetched_at"]
    nighthawk = (await api("GET", "backends/fake_nighthawk")).json
    assert nighthawk["layout"]["kind"] == "square" and nighthawk["qubits"] == 120


async def test_detail_of_an_unknown_or_malformed_name(api):
    _check_error(await api("GET", "backends/fake_nowhere"), 404, "unknown_backend")
    _check_error(await api("GET", "backends/fake brisbane"), 400, "bad_name")
    _check_error(await api("GET", "backends/" + "q" * 65), 400, "bad_name")
    _check_error(await api("GET", "backends/fake%3Bdrop"), 400, "bad_name")
    _check_error(await api("GET", "backends/a/b"), 404, "not_found")


async def test_pick_round_trip_and_the_pick_file(api, qc_env):
    empty = await api("GET", "pick")
    assert empty.status == 200 and empty.json == {"qpu": None, "provider": "local", "updated_at": None}

    posted = await api("POST", "pick", body={"qpu": "fake_kyiv"})
    assert posted.status == 200
    assert posted.json["qpu"] == "fake_kyiv" and posted.json["provider"] == "local"
    assert datetime.fromisoformat(posted.json["updated_at"])
    assert (await api("GET", "pick")).json == posted.json

    stored = json.loads((qc_env / "picks" / "pick.json").read_text())
    # what the kernel's bare %qconnect reads (the file keeps the core's name for the QPU)
    assert stored == {"backend": "fake_kyiv", "provider": "local", "updated_at": posted.json["updated_at"]}
    old_body = await api("POST", "pick", body={"backend": "fake_kyiv"})  # the body the sidebar sent before
    assert old_body.status == 200 and old_body.json["qpu"] == "fake_kyiv"

    cleared = await api("POST", "pick", body={"qpu": None})
    assert cleared.json == {"qpu": None, "provider": "local", "updated_at": None}
    assert not (qc_env / "picks" / "pick.json").exists()


async def test_pick_rejects_bad_bodies(api, qc_env):
    _check_error(await api("POST", "pick", body={"qpu": "fake_nowhere"}), 404, "unknown_backend")
    _check_error(await api("POST", "pick", body="{not json"), 400, "invalid_json")
    _check_error(await api("POST", "pick", body=b"\xff\xfe"), 400, "invalid_json")
    _check_error(await api("POST", "pick", body=["fake_kyiv"]), 400, "bad_request")
    _check_error(await api("POST", "pick", body={"name": "fake_kyiv"}), 400, "bad_request")
    _check_error(await api("POST", "pick", body={"qpu": 7}), 400, "bad_name")
    _check_error(await api("POST", "pick", body={"backend": "../../etc"}), 400, "bad_name")
    big = json.dumps({"backend": "fake_kyiv", "padding": "x" * 5000})
    _check_error(await api("POST", "pick", body=big), 413, "too_large")
    assert not (qc_env / "picks" / "pick.json").exists()


@pytest.mark.parametrize("server_traits", [{"refresh_interval": 30, "history_length": 2}])
async def test_traits_come_from_the_server_config(api, shared_upstream):
    assert shared_upstream.options.refresh_interval == 30 and shared_upstream.options.history_length == 2
    assert (await api("GET", "backends")).json["refresh_interval"] == 30
    status = (await api("GET", "status")).json
    assert status["settings"]["refresh_interval"] == 30 and status["settings"]["provider"] == "local"
    assert status["provider"] == "local" and status["upstream"]["listing_calls"] == 1


@pytest.mark.parametrize("server_traits", [{"provider": "ibm"}])
async def test_ibm_without_credentials_is_a_clear_error(api):
    answer = await api("GET", "backends")
    _check_error(answer, 500, "config_error")
    assert "QConnectorServer.provider" in answer.json["message"] and "IQP_API_TOKEN" in answer.json["hint"]


# --- auth and XSRF -----------------------------------------------------------------------------------------
def test_the_auth_table_covers_every_route_and_method():
    """ROUTES (the auth test's table) names every method of every route the server registers."""
    import re

    from qiskit_connector_lab.server.routes import NAMESPACE, route_table

    missing = []
    for pattern, handler, _ in route_table("/", None):  # type: ignore[arg-type]
        own = [k for k in handler.__mro__ if k.__module__.startswith("qiskit_connector_lab")]
        methods = {m.upper() for m in ("get", "post", "put", "delete", "patch") for k in own if m in vars(k)}
        for method in sorted(methods):
            if not any(m == method and re.fullmatch(pattern, f"/{NAMESPACE}/{route}") for m, route in ROUTES):
                missing.append(f"{method} {pattern}")
    assert missing == []


@pytest.mark.parametrize(("method", "route"), ROUTES)
async def test_every_route_refuses_a_request_without_a_token(api, method, route):
    body = {"backend": "fake_kyiv"} if method == "POST" else None
    answer = await api(method, route, body=body, headers={"Authorization": ""})
    assert answer.status == 403, answer
    assert answer.json["code"] in ("forbidden", "xsrf_failed") and "Traceback" not in answer.text


async def test_a_cross_origin_write_is_a_403_that_says_so(browser, qc_env):
    await browser.login()
    headers = {"X-XSRFToken": browser.jar["_xsrf"], "Origin": "http://evil.example"}
    for method, path, body in (("POST", "pick", json.dumps({"qpu": "fake_kyiv"})), ("POST", "jobs/x1/cancel", "")):
        refused = await browser(f"qiskit-connector-lab/{path}", method=method, body=body, headers=dict(headers))
        answer = json.loads(refused.body)
        assert refused.code == 403 and answer["code"] == "cross_origin", (refused.code, answer)
        assert "refused as cross-origin" in answer["message"] and "\n" not in answer["message"]
    assert not (qc_env / "picks" / "pick.json").exists()
    own = {"X-XSRFToken": browser.jar["_xsrf"]}  # the sidebar's own fetch: no foreign Origin
    accepted = await browser(
        "qiskit-connector-lab/pick", method="POST", body=json.dumps({"qpu": "fake_kyiv"}), headers=own
    )
    assert accepted.code == 200


async def test_a_cookie_authenticated_post_needs_the_xsrf_token(browser, qc_env):
    """Browser flow: the login form sets a login cookie; a POST with that cookie but without the XSRF token
    is refused; with the `_xsrf` cookie echoed in `X-XSRFToken` it passes. (Token-authenticated API requests
    are XSRF-exempt in jupyter_server, which is why this goes through a real login.)"""
    await browser.login()
    url = "qiskit-connector-lab/pick"
    assert (await browser("qiskit-connector-lab/backends")).code == 200  # the cookie authenticates
    refused = await browser(url, method="POST", body=json.dumps({"backend": "fake_kyiv"}))
    assert refused.code == 403 and json.loads(refused.body)["code"] == "xsrf_failed"
    assert not (qc_env / "picks" / "pick.json").exists()

    accepted = await browser(
        url, method="POST", body=json.dumps({"backend": "fake_kyiv"}), headers={"X-XSRFToken": browser.jar["_xsrf"]}
    )
    assert accepted.code == 200 and json.loads(accepted.body)["qpu"] == "fake_kyiv"


# --- the IBM path: the real runtime client against the emulator --------------------------------------------
@pytest.mark.parametrize("server_traits", [{"provider": "ibm", "deadline": 5}])
async def test_every_route_on_the_ibm_path(api, ibm_env, qc_env, all_logs, jp_logging_stream):
    emulator = ibm_env
    backends = await api("GET", "backends")
    assert backends.status == 200, backends
    body = backends.json
    assert body["provider"] == "ibm" and body["local"] is False and body["stale"] is False
    names = {row["name"] for row in body["qpus"]}
    assert names == set(emulator.backend_names) and len(names) == 7
    by_queue = {row["name"]: row["queue"] for row in body["qpus"]}
    assert by_queue == {name: emulator.backend(name)["queue_length"] for name in names}
    assert body["qpus"] == sorted(body["qpus"], key=_rank_key)
    assert body["least_busy"] == body["qpus"][0]["name"] and sum(r["least_busy"] for r in body["qpus"]) == 1
    assert emulator.count("GET", BACKENDS) == 1  # the service's init listing is the first listing

    plan = (await api("GET", "plan")).json
    assert (plan["plan"], plan["plan_label"], plan["verified"]) == ("open", "Open Plan", True)
    assert plan["instance"] == OPEN_INSTANCE and plan["crn"] == emulator.instance_crn(OPEN_INSTANCE)
    assert plan["channel"] == "ibm_quantum_platform" and plan["modes"] == ["batch", "job"]
    assert plan["usage"] == {
        "consumed_seconds": 0,
        "limit_seconds": 600,
        "remaining_seconds": 600,
        "limit_reached": False,
    }

    name = "ibm_brisbane"  # Eagle r3, 127 qubits
    detail = await api("GET", f"backends/{name}")
    assert detail.status == 200, detail
    layout = detail.json["layout"]
    assert detail.json["qubits"] == 127 and layout["kind"] == "heavy-hex"
    assert len(layout["coordinates"]) == 127 and len(layout["edges"]) == 144
    assert detail.json["queue_history"][-1]["queue"] == by_queue[name]
    assert emulator.count("GET", f"{BACKENDS}/{name}/configuration") == 1
    assert emulator.count("GET", f"{BACKENDS}/{name}/properties") == 1
    await api("GET", f"backends/{name}")  # cached: no second calibration request
    assert emulator.count("GET", f"{BACKENDS}/{name}/properties") == 1
    _check_error(await api("GET", "backends/ibm_nowhere"), 404, "unknown_backend")

    posted = await api("POST", "pick", body={"qpu": name})
    assert posted.json["qpu"] == name and posted.json["provider"] == "ibm"
    assert (await api("GET", "pick")).json == posted.json
    assert json.loads((qc_env / "picks" / "pick.json").read_text())["provider"] == "ibm"

    status = (await api("GET", "status")).json
    assert status["provider"] == "ibm" and status["upstream"]["failures"] == 0

    # The secret: never in any answer, nor in any log line (caplog and the server's own log stream).
    token = emulator.api_key
    everything = [a.text for a in api.answers] + [r.getMessage() for r in all_logs.records]
    everything.append(jp_logging_stream.getvalue())
    assert all_logs.records  # the scan saw the server's log
    assert not [text for text in everything if token in text]
    assert not [text for text in everything if re.search(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.", text)]


@pytest.mark.parametrize("server_traits", [{"provider": "ibm", "deadline": 3}])
async def test_ibm_errors_are_json_with_the_right_status_and_no_secret(api, ibm_env, all_logs):
    emulator = ibm_env
    emulator.inject(401, path="/api/v1/backends", times=None)  # the init's listing: IBM refuses the key
    answer = await api("GET", "backends")
    _check_error(answer, 502, "unauthorized")
    assert answer.headers.get("Retry-After")
    sent = emulator.count()
    again = await api("GET", "backends")  # in backoff: answered from memory, nothing sent upstream
    _check_error(again, 502, "unauthorized")
    assert emulator.count() == sent
    plan = await api("GET", "plan")
    _check_error(plan, 502, "unauthorized")
    token = emulator.api_key
    assert not [a for a in api.answers if token in a.text]
    assert not [r for r in all_logs.records if token in r.getMessage()]


@pytest.mark.parametrize("server_traits", [{"provider": "ibm"}])
async def test_the_plan_stands_when_the_usage_cannot_be_read(api, ibm_env):
    ibm_env.inject(500, path="/api/v1/instances/usage", times=None)
    answer = await api("GET", "plan")
    assert answer.status == 200, answer
    assert answer.json["plan"] == "open" and answer.json["verified"] is True and answer.json["usage"] is None
    assert any(
        note.startswith("Usage could not be read: IBM Quantum had a server error") for note in answer.json["notes"]
    )


@pytest.mark.parametrize("server_traits", [{"provider": "ibm"}])
async def test_a_plan_that_disagrees_with_ibm_is_a_409(api, ibm_env, monkeypatch):
    monkeypatch.setenv("OPEN_PLAN_INSTANCE", "premium-instance")  # OPEN_PLAN=on, but the instance is Premium
    answer = await api("GET", "plan")
    _check_error(answer, 409, "plan_mismatch")
    assert "OPEN_PLAN=on" in answer.json["message"] and "Premium" in answer.json["message"]
    assert (await api("GET", "backends")).status == 200  # the QPUs are still listed
