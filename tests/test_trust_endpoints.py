"""The API key goes only where the user sent it (issue 10, findings 1 and 3), through every face.

A ``.env`` planted in a parent folder (or in the Jupyter server's root) sets one of the four endpoint variables to a
loopback *recording* server or to an unresolvable ``*.attacker.test`` host. The token comes from the environment or,
separately, from a saved qiskit-ibm-runtime account. Whatever the face (``connect()``, ``%qconnect``, the server's
``plan`` and ``backends`` routes), the user gets one line naming the variable, the file and the opt-in, and the
recording server receives nothing: neither the API key nor a bearer token. The real client is never mocked.
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from IPython.core.error import UsageError

pytest.register_assert_rewrite("server_conftest")

import qiskit_ibm_runtime  # noqa: E402,F401 - a cold import inside a short deadline would fail it
from server_conftest import server_config  # noqa: E402

from qiskit_connector_lab.config import load_settings  # noqa: E402
from qiskit_connector_lab.connection import connect  # noqa: E402
from qiskit_connector_lab.errors import ConfigError  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server", "server_conftest")

TOKEN = "tRuSt-ApIkEy-0123456789-abcdefghijklmnopqrstu"
ENDPOINTS = {"CLOUD_API_URL": "", "QUANTUM_API_URL": "", "IQP_API_URL": "", "IQP_RUNTIME_API_URL": "/api/v1"}


class Recorder:
    """A loopback HTTP server that answers 200 ``{}`` to anything and records every request."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorder.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length).decode("latin-1"),
                    }
                )
                body = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received_secret(self) -> bool:
        text = json.dumps(self.requests)
        return TOKEN in text or "Bearer" in text or "apikey" in text

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder():
    rec = Recorder()
    yield rec
    rec.stop()


def hostile_urls(recorder: Recorder, variable: str) -> list[str]:
    suffix = ENDPOINTS[variable]
    return [f"http://127.0.0.1:{recorder.port}{suffix}", f"https://cloud.attacker.test{suffix}"]


CASES = [
    (variable, target, source)
    for variable in ENDPOINTS
    for target in (0, 1)
    for source in ("environment", "saved account")
]
IDS = [f"{v}-{'recorder' if t == 0 else 'attacker.test'}-{s.replace(' ', '_')}" for v, t, s in CASES]


def give_token(source: str, home: Path, monkeypatch, token: str = TOKEN) -> None:
    if source == "environment":
        monkeypatch.setenv("IQP_API_TOKEN", token)
        monkeypatch.setenv("OPEN_PLAN", "on")
        monkeypatch.setenv("OPEN_PLAN_INSTANCE", "open-instance")
    else:
        saved = home / ".qiskit" / "qiskit-ibm.json"
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(
            json.dumps(
                {
                    "default-ibm-quantum-platform": {
                        "channel": "ibm_quantum_platform",
                        "token": TOKEN,
                        "instance": "open-instance",
                        "url": "https://cloud.ibm.com",
                        "is_default_account": True,
                    }
                }
            )
        )


def plant(clean_env: Path, monkeypatch, line: str) -> Path:
    """A `.env` in a parent folder of the working directory (a shared class folder), holding only ``line``."""
    course = clean_env / "course"
    (course / "week1").mkdir(parents=True)
    (course / ".env").write_text(line + "\n")
    monkeypatch.chdir(course / "week1")
    return course / ".env"


def assert_refusal(message: str, variable: str) -> None:
    assert "\n" not in message, message
    assert variable in message and "~/course/.env" in message, message
    assert "QCONNECTOR_ALLOW_HOSTS" in message or "not sent" in message, message
    assert TOKEN[:8] not in message


@pytest.mark.parametrize(("variable", "target", "source"), CASES, ids=IDS)
def test_connect_refuses_a_planted_endpoint(clean_env, monkeypatch, recorder, variable, target, source):
    give_token(source, clean_env, monkeypatch)
    plant(clean_env, monkeypatch, f'{variable}="{hostile_urls(recorder, variable)[target]}"')
    with pytest.raises(ConfigError) as info:
        connect()
    assert_refusal(str(info.value), variable)
    assert "QCONNECTOR_ALLOW_HOSTS=" in str(info.value)  # how to opt in, for the host named
    assert recorder.requests == [] and not recorder.received_secret()


@pytest.mark.parametrize(("variable", "target", "source"), CASES[::3], ids=IDS[::3])
def test_qconnect_refuses_a_planted_endpoint(shell, clean_env, monkeypatch, capsys, recorder, variable, target, source):
    give_token(source, clean_env, monkeypatch)
    plant(clean_env, monkeypatch, f'{variable}="{hostile_urls(recorder, variable)[target]}"')
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("qconnect", "")
    assert_refusal(str(info.value), variable)
    out = capsys.readouterr()
    assert TOKEN[:8] not in out.out + out.err
    assert recorder.requests == []


def test_the_bearer_never_reaches_a_runtime_url_the_user_did_not_allow(emulator, clean_env, monkeypatch, recorder):
    """IAM is the (allowed) emulator; a planted runtime URL on another host would get the bearer: refused, and
    nothing is sent at all, not even the key to IAM."""
    give_token("environment", clean_env, monkeypatch, token=emulator.api_key)  # a key IAM (the emulator) accepts
    monkeypatch.setenv("CLOUD_API_URL", emulator.base_url)
    plant(clean_env, monkeypatch, f'IQP_RUNTIME_API_URL="http://localhost:{recorder.port}/api/v1"')
    emulator.reset_log()
    with pytest.raises(Exception) as info:
        connect()
    assert not recorder.received_secret(), recorder.requests  # without the allow-list, the bearer arrives here
    assert isinstance(info.value, ConfigError)
    assert_refusal(str(info.value), "IQP_RUNTIME_API_URL")
    assert "QCONNECTOR_ALLOW_HOSTS=localhost" in str(info.value)  # the opt-in is per host: 127.0.0.1 is not localhost
    assert recorder.requests == [] and emulator.requests == []


@pytest.mark.parametrize("variable", ["IAM_URL", "GLOBAL_SEARCH_URL", "GLOBAL_CATALOG_URL"])
def test_the_clients_own_host_variables_are_checked_too(clean_env, monkeypatch, recorder, variable):
    give_token("environment", clean_env, monkeypatch)
    monkeypatch.setenv(variable, f"http://127.0.0.1:{recorder.port}")
    with pytest.raises(Exception) as info:
        connect()
    assert not recorder.received_secret(), recorder.requests  # without the check, IAM_URL gets the API key
    assert isinstance(info.value, ConfigError) and variable in str(info.value)


def test_an_https_ibm_endpoint_is_accepted_and_http_is_not(clean_env, monkeypatch):
    give_token("environment", clean_env, monkeypatch)
    assert (
        load_settings(
            environ={**dict(__import__("os").environ), "QUANTUM_API_URL": "https://quantum.cloud.ibm.com"}
        ).runtime_url
        == "https://quantum.cloud.ibm.com/api/v1"
    )
    with pytest.raises(ConfigError, match="http, not https"):
        load_settings(environ={**dict(__import__("os").environ), "CLOUD_API_URL": "http://cloud.ibm.com"})


# --- the explicit opt-in -----------------------------------------------------------------------------------
def test_the_opt_in_keeps_the_emulator_working_and_a_dotenv_cannot_opt_in(emulator, ibm_dotenv, monkeypatch):
    ibm_dotenv("open")
    assert connect(mode="job").qpu.name  # the emulator fixture opted in: QCONNECTOR_ALLOW_HOSTS=127.0.0.1
    monkeypatch.delenv("QCONNECTOR_ALLOW_HOSTS")
    with pytest.raises(ConfigError, match=r"QCONNECTOR_ALLOW_HOSTS=127\.0\.0\.1"):
        connect(mode="job")
    path = ibm_dotenv("open", QCONNECTOR_ALLOW_HOSTS="127.0.0.1")  # a .env cannot widen trust
    with pytest.raises(ConfigError, match="QCONNECTOR_ALLOW_HOSTS"):
        connect(mode="job", env_file=path)
    settings = load_settings(path, local=True)
    assert any("only the process environment can allow a host" in note for note in settings.notes)


# --- the bounded .env search ---------------------------------------------------------------------------------
def test_the_search_never_goes_above_home_nor_reads_an_untrusted_file(clean_env, monkeypatch, tmp_path):
    home = clean_env / "home"
    (home / "project").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    (clean_env / ".env").write_text('OPEN_PLAN="on"\n')  # above home: never read
    monkeypatch.chdir(home / "project")
    assert load_settings().env_file is None
    shared = home / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (shared / ".env").write_text('QCONNECTOR_DEADLINE="3"\n')
    monkeypatch.chdir(shared)
    settings = load_settings()
    assert settings.env_file is None and settings.deadline == 10
    assert any("writable by every user" in note for note in settings.notes)
    (home / ".env").write_text('QCONNECTOR_DEADLINE="4"\n')  # the home's own .env, found from below
    assert load_settings().deadline == 4
    shared.chmod(0o755)


def test_a_dotenv_writable_by_all_or_owned_by_another_user_is_skipped(clean_env, monkeypatch):
    project = clean_env / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    planted = project / ".env"
    planted.write_text('QCONNECTOR_DEADLINE="3"\n')
    planted.chmod(0o666)
    settings = load_settings()
    assert settings.deadline == 10 and any("writable by every user" in n for n in settings.notes)
    planted.chmod(0o644)
    assert load_settings().deadline == 3
    if os.geteuid() == 0:  # only root can give a file away
        os.chown(planted, 12345, 12345)
        settings = load_settings()
        assert settings.deadline == 10 and any("belongs to another user" in n for n in settings.notes)
    assert load_settings(planted).deadline == 3  # named explicitly: trusted


# --- the server's plan and backends routes ------------------------------------------------------------------
@pytest.fixture
def jp_server_config(qc_env):
    return server_config({"provider": "auto"})


SERVER_CASES = [i for i in range(len(CASES)) if i % 4 in (0, 3)]  # each variable, each target, each token source


@pytest.mark.parametrize(
    ("variable", "target", "source"), [CASES[i] for i in SERVER_CASES], ids=[IDS[i] for i in SERVER_CASES]
)
async def test_the_server_refuses_a_planted_endpoint(
    api, jp_root_dir, qc_env, monkeypatch, recorder, all_logs, variable, target, source
):
    give_token(source, Path(__import__("os").environ["HOME"]), monkeypatch)
    (jp_root_dir / ".env").write_text(f'{variable}="{hostile_urls(recorder, variable)[target]}"\n')
    for route in ("plan", "backends"):
        answer = await api("GET", route)
        assert answer.status == 500 and answer.json["code"] == "config_error", answer
        text = answer.json["message"] + " " + answer.json.get("hint", "")
        assert variable in text and ".env" in text and "QCONNECTOR_ALLOW_HOSTS" in text, text
        assert TOKEN[:8] not in answer.text
    assert recorder.requests == [] and not recorder.received_secret()
    assert TOKEN[:8] not in all_logs.text


# --- one host for every URL parser (security review: the backslash bypass) ----------------------------------
# urllib's urlsplit and urllib3 (what requests sends with) disagree on where the host ends around a backslash,
# userinfo or an escape: e.g. "https://attacker.test\@quantum.ibm.com" is quantum.ibm.com to urlsplit but
# attacker.test to requests. Such a URL is refused whatever its hosts; an accepted one is passed on rebuilt.
def ambiguous_urls(recorder: Recorder, variable: str) -> list[str]:
    """Endpoint values whose host urllib and urllib3 may read differently; 127.0.0.1 is allowed, localhost not."""
    suffix, port = ENDPOINTS[variable], recorder.port
    return [
        f"http://localhost:{port}\\@127.0.0.1{suffix}",  # requests would send to the recorder (localhost)
        f"https://attacker.test\\@quantum.ibm.com{suffix}",
        f"https://attacker.test\\\\@cloud.ibm.com{suffix}",
        f"https://attacker.test\\.quantum.ibm.com{suffix}",  # no @: urlsplit reads a subdomain of quantum.ibm.com
        f"https://user:pass@quantum.ibm.com{suffix}",
        f"https://quantum.ibm.com@attacker.test{suffix}",
        f"http://127.0.0.1@localhost:{port}{suffix}",
        f"https://attacker.test%5C@quantum.ibm.com{suffix}",
        f"https://attacker.test%5c.quantum.ibm.com{suffix}",
        f"https://attacker.test%40quantum.ibm.com{suffix}",
        f"https://quantum.ibm.com%2Eattacker.test{suffix}",
        f"https://attacker.test\t.quantum.ibm.com{suffix}",
        f"https://attacker.test\n.quantum.ibm.com{suffix}",
        f"https://attacker.test .quantum.ibm.com{suffix}",
        f"https://attacker.test\x1b.quantum.ibm.com{suffix}",
        f"https://quantum.ibm.com{suffix or '/'}?next=https://attacker.test",
        f"https://quantum.ibm.com{suffix}#@attacker.test",
    ]


AMBIGUOUS_CASES = [(variable, i) for variable in ENDPOINTS for i in range(17)]


def assert_ambiguous_refusal(message: str, variable: str, url: str) -> None:
    assert_refusal(message, variable)
    assert "ambiguous" in message and "not sent anywhere" in message, message
    assert "attacker" not in message and "localhost" not in message and "user:pass" not in message, message


@pytest.mark.parametrize(("variable", "index"), AMBIGUOUS_CASES, ids=[f"{v}-{i}" for v, i in AMBIGUOUS_CASES])
def test_connect_refuses_an_endpoint_whose_host_parsers_disagree_on(clean_env, monkeypatch, recorder, variable, index):
    give_token("environment", clean_env, monkeypatch)
    monkeypatch.setenv("QCONNECTOR_ALLOW_HOSTS", "127.0.0.1")  # even a host the user trusts
    url = ambiguous_urls(recorder, variable)[index]
    plant(clean_env, monkeypatch, f'{variable}="{url}"')
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert_ambiguous_refusal(str(info.value), variable, url)
    with pytest.raises(ConfigError) as info:
        connect()
    assert_ambiguous_refusal(str(info.value), variable, url)
    assert recorder.requests == [] and not recorder.received_secret()


def test_the_bearer_never_reaches_the_host_requests_reads_behind_a_backslash(
    emulator, clean_env, monkeypatch, recorder
):
    """The reviewed bypass, end to end: IAM (the allowed emulator) would hand out a real bearer, and urlsplit reads
    the planted runtime URL's host as the allowed 127.0.0.1, but requests would send every runtime call, bearer and
    circuits included, to localhost:<recorder>. Refused before anything is sent."""
    give_token("environment", clean_env, monkeypatch, token=emulator.api_key)
    monkeypatch.setenv("CLOUD_API_URL", emulator.base_url)
    plant(
        clean_env,
        monkeypatch,
        f'IQP_RUNTIME_API_URL="http://localhost:{recorder.port}\\@{emulator.base_url[7:]}/api/v1"',
    )
    emulator.reset_log()
    with pytest.raises(Exception) as info:
        connect()
    assert not recorder.received_secret(), recorder.requests  # without the fix, the bearer arrives here
    assert isinstance(info.value, ConfigError)
    assert_ambiguous_refusal(str(info.value), "IQP_RUNTIME_API_URL", "")
    assert recorder.requests == [] and emulator.requests == []


def test_a_saved_accounts_url_is_held_to_the_same_rule(clean_env, monkeypatch, recorder):
    give_token("saved account", clean_env, monkeypatch)
    saved = clean_env / ".qiskit" / "qiskit-ibm.json"
    accounts = json.loads(saved.read_text())
    accounts["default-ibm-quantum-platform"]["url"] = "https://attacker.test\\@cloud.ibm.com"
    saved.write_text(json.dumps(accounts))
    monkeypatch.chdir(clean_env)
    with pytest.raises(ConfigError) as info:
        connect()
    message = str(info.value)
    assert "\n" not in message and "QISKIT_IBM_URL" in message and "saved account" in message, message
    assert "ambiguous" in message and "attacker" not in message and TOKEN[:8] not in message, message
    assert recorder.requests == []


@pytest.mark.parametrize("variable", ["IAM_URL", "GLOBAL_SEARCH_URL", "GLOBAL_CATALOG_URL"])
def test_the_clients_own_host_variables_refuse_an_ambiguous_host(clean_env, monkeypatch, recorder, variable):
    give_token("environment", clean_env, monkeypatch)
    monkeypatch.setenv("QCONNECTOR_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv(variable, f"http://localhost:{recorder.port}\\@127.0.0.1")
    with pytest.raises(Exception) as info:
        connect()
    assert not recorder.received_secret(), recorder.requests  # without the check, IAM_URL gets the API key
    assert isinstance(info.value, ConfigError) and variable in str(info.value) and "ambiguous" in str(info.value)
    assert "localhost" not in str(info.value) and recorder.requests == []


def test_an_accepted_endpoint_is_passed_on_rebuilt_from_its_parsed_parts(clean_env, monkeypatch):
    give_token("environment", clean_env, monkeypatch)
    environ = {
        **os.environ,
        "CLOUD_API_URL": "HTTPS://Cloud.IBM.com:443/",
        "IQP_RUNTIME_API_URL": "https://QUANTUM.cloud.ibm.com/api/v1/",
    }
    settings = load_settings(environ=environ)
    assert settings.cloud_url == "https://cloud.ibm.com:443"
    assert settings.runtime_url == settings.endpoint == "https://quantum.cloud.ibm.com/api/v1"
    from qiskit_connector_lab.providers.ibm import IBMProvider

    kwargs = IBMProvider(settings)._service_kwargs()
    assert kwargs["url"] == "https://cloud.ibm.com:443"
    assert kwargs["url_resolver"]("https://cloud.ibm.com", "crn") == "https://quantum.cloud.ibm.com/api/v1"


def test_a_trailing_dot_host_is_not_an_ibm_host(clean_env, monkeypatch):
    """``quantum.ibm.com.`` resolves like ``quantum.ibm.com`` but is not the string on the allow-list: refused,
    with the ordinary opt-in, rather than guessed at."""
    give_token("environment", clean_env, monkeypatch)
    with pytest.raises(ConfigError, match="not an IBM Quantum or IBM Cloud host") as info:
        load_settings(environ={**os.environ, "IQP_RUNTIME_API_URL": "https://quantum.ibm.com./api/v1"})
    assert "\n" not in str(info.value)


async def test_the_server_refuses_an_endpoint_whose_host_parsers_disagree_on(
    api, jp_root_dir, qc_env, monkeypatch, recorder, all_logs
):
    give_token("environment", Path(os.environ["HOME"]), monkeypatch)
    monkeypatch.setenv("QCONNECTOR_ALLOW_HOSTS", "127.0.0.1")
    url = ambiguous_urls(recorder, "IQP_RUNTIME_API_URL")[0]
    (jp_root_dir / ".env").write_text(f'IQP_RUNTIME_API_URL="{url}"\n')
    for route in ("plan", "backends"):
        answer = await api("GET", route)
        assert answer.status == 500 and answer.json["code"] == "config_error", answer
        text = answer.json["message"] + " " + answer.json.get("hint", "")
        assert "IQP_RUNTIME_API_URL" in text and ".env" in text and "ambiguous" in text, text
        assert "localhost" not in answer.text and TOKEN[:8] not in answer.text
    assert recorder.requests == [] and not recorder.received_secret()
    assert TOKEN[:8] not in all_logs.text


# --- process-only variables written into a .env: ignored, and said so where the user looks ----------------------
def test_an_allow_list_in_the_dotenv_is_named_as_ignored_in_the_refusal(emulator, ibm_dotenv, monkeypatch):
    monkeypatch.delenv("QCONNECTOR_ALLOW_HOSTS")
    path = ibm_dotenv("open", QCONNECTOR_ALLOW_HOSTS="127.0.0.1")
    with pytest.raises(ConfigError) as info:
        connect(mode="job", env_file=path)
    message = str(info.value)
    assert "\n" not in message and "QCONNECTOR_ALLOW_HOSTS=127.0.0.1" in message
    assert "(the QCONNECTOR_ALLOW_HOSTS line in ~/.env is ignored)" in message, message


def test_process_only_variables_in_a_dotenv_are_noted_in_the_summary_and_qplan(shell, clean_env, capsys):
    """IAM_URL (read by the IBM client from the process environment only) and QCONNECTOR_ALLOW_HOSTS in a .env are
    ignored: the summary of %qconnect and the %qplan report each say so in one line."""
    (clean_env / ".env").write_text('IAM_URL="http://127.0.0.1:9"\nQCONNECTOR_ALLOW_HOSTS="127.0.0.1"\n')
    settings = load_settings(local=True)
    assert sorted(n for n in settings.notes if "is ignored" in n) == [
        "IAM_URL in ~/.env is ignored: it is read from the process environment only (set it before starting Jupyter).",
        "QCONNECTOR_ALLOW_HOSTS in ~/.env is ignored: only the process environment can allow a host.",
    ]
    assert connect(local=True).summary().count("IAM_URL in ~/.env is ignored") == 1
    assert shell.run_cell("%qconnect --local").success
    assert capsys.readouterr().out.count("IAM_URL in ~/.env is ignored") == 1
    assert shell.run_cell("%qplan --local").success
    shown = capsys.readouterr().out
    assert shown.count("IAM_URL in ~/.env is ignored") == 1 and shown.count("QCONNECTOR_ALLOW_HOSTS in ~/.env") == 1
