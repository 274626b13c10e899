"""One line means one line, every QCONNECTOR_* variable follows the precedence, large listings."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

pytest.register_assert_rewrite("server_conftest")

import qiskit_ibm_runtime  # noqa: E402,F401 - a cold import inside a short deadline would fail it
from server_conftest import server_config  # noqa: E402

from qiskit_connector_lab.config import load_settings  # noqa: E402
from qiskit_connector_lab.connection import connect  # noqa: E402
from qiskit_connector_lab.errors import ConfigError, UnknownBackend  # noqa: E402
from qiskit_connector_lab.qpus import QPU, Listing, utcnow  # noqa: E402
from qiskit_connector_lab.ranking import select  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server", "server_conftest")

BROKEN_FOR_IBM = 'IQP_API_TOKEN="abc"\nOPEN_PLAN="on"\nFLEX_PLAN="on"\nQCONNECTOR_FLEET="fez,kyiv"\n'


@pytest.fixture
def online_fleet(clean_env, monkeypatch):
    """Every fleet member online: the simulation pauses a QPU for calibration now and then (a 15-minute window),
    and a one- or two-member fleet must not make a test depend on the clock."""
    path = clean_env / "online.json"
    path.write_text(json.dumps({f"fake_{name}": {"status": "online"} for name in ("fez", "kyiv", "manila")}))
    monkeypatch.setenv("QCONNECTOR_FLEET_FILE", str(path))
    return path


# --- QCONNECTOR_* from .env; --local whatever the .env says about IBM ---------------------------
def test_fleet_variables_follow_the_precedence(clean_env, online_fleet, monkeypatch):
    (clean_env / ".env").write_text('QCONNECTOR_FLEET="fez,kyiv"\nQCONNECTOR_FLEET_SEED="4"\n')
    settings = load_settings(local=True)
    assert settings.fleet == ("fez", "kyiv") and settings.fleet_seed == 4
    assert sorted(connect(local=True).listing.names()) == ["fake_fez", "fake_kyiv"]
    monkeypatch.setenv("QCONNECTOR_FLEET", "manila")  # the environment beats the .env
    assert connect(local=True).listing.names() == ["fake_manila"]
    (clean_env / ".env").write_text('QCONNECTOR_FLEET_SEED="four"\n')
    with pytest.raises(ConfigError, match="QCONNECTOR_FLEET_SEED"):
        load_settings(local=True)


def test_local_always_reaches_the_local_fleet_with_a_note(clean_env, online_fleet, shell, capsys):
    (clean_env / ".env").write_text(BROKEN_FOR_IBM)
    with pytest.raises(ConfigError, match="only one plan"):
        connect()
    connection = connect(local=True)
    assert connection.local and sorted(connection.listing.names()) == ["fake_fez", "fake_kyiv"]
    note = next(n for n in connection.notes if "Ignored for the local fleet" in n)
    assert "OPEN_PLAN, FLEX_PLAN" in note and "\n" not in note
    shell.run_line_magic("qconnect", "--local --quiet")
    assert shell.user_ns["qconnection"].local
    (clean_env / ".env").write_text('OPEN_PLAN="on"\nIQP_API_TOKEN="unclosed\n')  # unparseable
    connection = connect(local=True)
    assert connection.local and any("cannot be parsed" in n and "not used" in n for n in connection.notes)
    assert not any("Configuration read from" in n for n in connection.notes)  # an unread .env is not "read from"
    with pytest.raises(ConfigError, match="deadline"):  # an explicit argument is still checked
        connect(local=True, deadline=-1)


def test_qplan_and_the_summary_show_which_dotenv_was_read(clean_env, online_fleet, shell, capsys):
    (clean_env / ".env").write_text('QCONNECTOR_FLEET="fez"\n')
    shell.run_line_magic("qplan", "--local")
    shown = capsys.readouterr().out
    assert "Read from  ~/.env" in shown, shown
    assert any("Configuration read from ~/.env" in n for n in connect(local=True).notes)


def test_qplan_and_the_plan_route_name_an_endpoint_that_is_not_ibms(emulator, ibm_dotenv, shell, capsys):
    ibm_dotenv("open")
    shell.run_line_magic("qplan", "")
    shown = capsys.readouterr().out
    assert "Endpoint" in shown and emulator.base_url in shown and "not IBM's default" in shown, shown


# --- the client's own warnings are folded, never printed raw -------------------------------------
def test_client_warnings_are_folded_into_one_line(emulator, ibm_dotenv, shell, capsys):
    """A device without a name trips the client's own init, which logs a warning ("Invalid instance crn:...") to
    its stderr handler. The warning becomes one note; nothing of it is printed raw."""
    ibm_dotenv("open")
    emulator.devices_hook = lambda devices: [
        {k: v for k, v in d.items() if k != "name" or i} for i, d in enumerate(devices)
    ]
    capsys.readouterr()
    shell.run_line_magic("qconnect", "--job --quiet")
    out = capsys.readouterr()
    assert "Invalid instance" not in out.out + out.err, out
    notes = shell.user_ns["qconnection"].notes
    assert any(n.startswith("The IBM client said: Invalid instance") and "\n" not in n for n in notes), notes


def test_connect_takes_its_configuration_as_keywords(clean_env):
    with pytest.raises(ConfigError, match="instanse"):
        connect(local=True, instanse="x")
    assert connect(local=True, deadline=3, listing_ttl=2, env_file=None).local


# --- the unknown-name hint is capped ------------------------------------------------------------
def test_the_unknown_name_hint_is_capped():
    qpus = tuple(QPU(f"q{i:04d}", "online", 5, i) for i in range(5000))
    listing = Listing(qpus=qpus, fetched_at=utcnow(), provider="ibm")
    with pytest.raises(UnknownBackend) as info:
        select(listing, "zzzzzz")
    assert len(str(info.value)) < 300 and "and 4992 more" in str(info.value)
    with pytest.raises(UnknownBackend, match="Did you mean q0042"):
        select(listing, "q0042x")


# --- the server --------------------------------------------------------------------------------------------
@pytest.fixture
def jp_server_config(qc_env, server_traits):
    return server_config({"provider": "local", "ttl": 60, **server_traits})


async def test_backends_is_ranked_and_serialized_once_per_listing(api, shared_upstream):
    answers = await asyncio.gather(*(api("GET", "backends") for _ in range(20)))
    assert all(a.status == 200 for a in answers)
    bodies = {json.dumps({k: v for k, v in a.json.items() if k != "age_seconds"}) for a in answers}
    assert len(bodies) == 1
    assert shared_upstream.stats.payload_renders == 1
    assert (await api("GET", "status")).json["upstream"]["payload_renders"] == 1


def test_a_rendered_listing_is_the_same_json_plain_and_gzipped():
    import gzip

    from qiskit_connector_lab.server.shared_upstream import RenderedListing

    payload = {"provider": "ibm", "qpus": [{"name": f"q{i}", "queue": i or None} for i in range(3000)]}
    rendered = RenderedListing(payload)
    for age in (0.0, 1.234, 12345.5):
        plain = rendered.body(age)
        assert json.loads(plain) == {"age_seconds": age, **payload}
        assert gzip.decompress(rendered.gzipped(age)) == plain
    assert len(rendered.gzipped(1.0)) < len(rendered.body(1.0)) / 5


async def test_backends_without_gzip(api):
    answer = await api("GET", "backends", headers={"Accept-Encoding": "identity"}, decompress_response=False)
    assert answer.status == 200 and "Content-Encoding" not in answer.headers and answer.json["qpus"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "POST"])
async def test_an_unauthenticated_method_is_told_so(api, method):
    answer = await api(
        method,
        "pick",
        body="{}" if method != "DELETE" else None,
        headers={"Authorization": ""},
        allow_nonstandard_methods=True,
    )
    assert answer.status == 403 and answer.json["code"] == "forbidden", answer
    assert "not authenticated" in answer.json["message"] and "POST" not in answer.json["message"]


@pytest.mark.parametrize("server_traits", [{"provider": "ibm"}])
async def test_retry_after_header_and_hint_agree(api, ibm_env):
    ibm_env.inject(429, path="/api/v1/backends", times=None, retry_after=21600)
    answer = await api("GET", "backends")
    assert answer.status == 503 and answer.json["code"] == "rate_limited", answer
    header = int(answer.headers["Retry-After"])
    assert header == 3600  # the cap: this server asks IBM again after at most an hour
    assert re.search(rf"Retry after {header} s\b", answer.json["hint"]), answer.json
    assert "21600" in answer.json["hint"] and "at most 3600 s" in answer.json["hint"]
