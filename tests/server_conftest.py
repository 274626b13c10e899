"""Fixtures shared by the server tests (``tests/test_server_*.py`` load this with ``pytest_plugins``).

They build on ``tests/conftest.py`` (``clean_env``, ``emulator``). Every test gets an isolated HOME and working
directory, its own pick file, a seeded local fleet, no IBM variables from the outer environment, and a fresh
provider cache. The IBM path runs the REAL qiskit-ibm-runtime client against the loopback emulator in
``tests/emulator`` (nothing is mocked).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import pytest
from traitlets.config import Config

from qiskit_connector_lab.providers import forget_providers
from qiskit_connector_lab.server import CACHE_SETTING

_PROXIES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")

BACKENDS = "/api/v1/backends"
OPEN_INSTANCE = "open-instance"


@pytest.fixture
def qc_env(clean_env, monkeypatch):
    """conftest's ``clean_env`` (tmp HOME and cwd, no connector variables, no cached providers), plus a pick
    file of the test's own, a seeded local fleet and no proxy."""
    for key in _PROXIES:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("QCONNECTOR_PICK_FILE", str(clean_env / "picks" / "pick.json"))
    monkeypatch.setenv("QCONNECTOR_FLEET_SEED", "11")
    forget_providers()
    yield clean_env
    forget_providers()


@pytest.fixture
def server_traits() -> dict[str, Any]:
    """QConnectorServer traits for the test's server (parametrize this name to change them)."""
    return {}


def server_config(traits: dict[str, Any]) -> Config:
    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"qiskit_connector_lab": True}},
            "QConnectorServer": dict(traits),
        }
    )


@pytest.fixture
def ibm_env(qc_env, emulator, monkeypatch):
    """conftest's running emulator, with the connector's own variables pointing the real client at it."""
    env = {
        "IQP_API_TOKEN": emulator.api_key,
        "OPEN_PLAN": "on",
        "OPEN_PLAN_INSTANCE": OPEN_INSTANCE,
        "CLOUD_API_URL": emulator.base_url,
        "IQP_RUNTIME_API_URL": emulator.base_url + "/api/v1",
    }
    env.update({k: v for k, v in emulator.client_env().items() if k != "QISKIT_IBM_URL"})
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return emulator


@pytest.fixture
def shared_upstream(jp_serverapp):
    """The server's one shared SharedUpstream."""
    return jp_serverapp.web_app.settings[CACHE_SETTING]


class Answer:
    """One HTTP answer: status, headers and the parsed JSON body."""

    def __init__(self, response: Any) -> None:
        self.status = response.code
        self.headers = response.headers
        self.text = response.body.decode("utf-8") if response.body else ""
        self.json = json.loads(self.text) if self.text else None

    def __repr__(self) -> str:
        return f"<Answer {self.status} {self.text[:200]}>"


@pytest.fixture
def api(jp_fetch):
    """``await api("GET", "backends")`` → :class:`Answer` (never raises on an HTTP error status)."""
    answers: list[Answer] = []

    async def call(
        method: str, *parts: str, body: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Answer:
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if method in ("POST", "PUT", "PATCH") and body is None:
            body = ""
        response = await jp_fetch(
            "qiskit-connector-lab", *parts, method=method, body=body, headers=headers, raise_error=False, **kwargs
        )
        answer = Answer(response)
        answers.append(answer)
        return answer

    call.answers = answers  # type: ignore[attr-defined]
    return call


@pytest.fixture
def all_logs(caplog):
    """Every log record of the test, at every level (the server's log propagates to caplog)."""
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def browser(jp_serverapp, http_server_client, jp_base_url):
    """A browser logged in through the login form: ``await browser(path, **fetch_kwargs)`` with its cookies, and
    ``browser.jar`` (``_xsrf`` among them). Token-authenticated API requests skip jupyter_server's XSRF and origin
    checks, which is why these tests go through a real login."""
    jar: dict[str, str] = {}

    def keep(response) -> None:
        for header in response.headers.get_list("Set-Cookie"):
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                jar[name] = morsel.value

    async def fetch(path: str, **kwargs):
        headers = kwargs.pop("headers", {})
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        response = await http_server_client.fetch(
            jp_base_url + path, headers=headers, follow_redirects=False, raise_error=False, **kwargs
        )
        keep(response)
        return response

    async def login() -> None:
        login_page = await fetch("login")
        assert login_page.code == 200 and "_xsrf" in jar
        token = jp_serverapp.identity_provider.token
        answer = await fetch("login", method="POST", body=urlencode({"password": token, "_xsrf": jar["_xsrf"]}))
        assert answer.code in (302, 303) and any(name.startswith("username-") for name in jar)

    fetch.jar = jar  # type: ignore[attr-defined]
    fetch.login = login  # type: ignore[attr-defined]
    return fetch


def submit(emulator: Any, n: int = 1, qpu: str = "ibm_perth", **options: Any) -> list[str]:
    """Submit ``n`` Bell jobs with the real client (the user's notebook), as its own service: their ids."""
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2

    service = QiskitRuntimeService(**emulator.service_kwargs(OPEN_INSTANCE))
    backend = service.backend(qpu)
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(qc)
    return [SamplerV2(mode=backend, options=options).run([isa], shots=100).job_id() for _ in range(n)]


@contextlib.asynccontextmanager
async def notebook_kernel(jp_fetch: Any, jp_serverapp: Any, path: str) -> AsyncIterator[Any]:
    """A kernel started for the notebook at ``path`` through the server's sessions API, as Lab starts one: its
    client, ready; the kernel is shut down when the block ends."""
    body = {"path": path, "type": "notebook", "name": path.rsplit("/", 1)[-1], "kernel": {"name": "python3"}}
    session = await jp_fetch("api", "sessions", method="POST", body=json.dumps(body))
    kernel_id = json.loads(session.body)["kernel"]["id"]
    client = jp_serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=120)
        yield client
    finally:
        client.stop_channels()
        await jp_serverapp.kernel_manager.shutdown_kernel(kernel_id, now=True)


async def run_in_kernel(client: Any, code: str, timeout: float = 180) -> dict[str, Any]:
    """Run ``code``, which prints ``RESULT<json>``: ``{"result": that JSON, "text": everything it showed}``."""
    lines: list[str] = []

    def hook(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            lines.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            lines.append("ERROR " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])
        elif msg["msg_type"] in ("display_data", "execute_result"):
            lines.append(json.dumps(msg["content"].get("data", {})))

    await client.execute_interactive(code, output_hook=hook, timeout=timeout)
    text = "".join(lines)
    assert "RESULT" in text, text
    return {"result": json.loads(text.split("RESULT", 1)[1].splitlines()[0]), "text": text}
