"""Secrets never echoed (issue 10, finding 3): a table of configurations that put the token where an error might
quote it, through the core, the magic and the server. No 8-character substring of the token may appear in the
message, the notebook output, the HTTP body or the server log."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.error import UsageError

pytest.register_assert_rewrite("server_conftest")

from server_conftest import server_config  # noqa: E402

from qiskit_connector_lab.config import load_settings  # noqa: E402
from qiskit_connector_lab.errors import ConfigError  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server", "server_conftest")

TOKEN = "eChO-tOkEn-9876543210-ZYXWVUTSRQPONMLKJIHGFE"
BASE = {
    "IQP_API_TOKEN": TOKEN,
    "OPEN_PLAN": "on",
    "OPEN_PLAN_CHANNEL": "ibm_quantum_platform",
    "OPEN_PLAN_INSTANCE": "open-instance",
}
#: Non-secret variables that are validated when read, so a bad value is an error that could quote it.
VALIDATED = [
    "CLOUD_API_URL",
    "QUANTUM_API_URL",
    "IQP_API_URL",
    "IQP_RUNTIME_API_URL",
    "OPEN_PLAN",
    "PAYGO_PLAN",
    "OPEN_PLAN_CHANNEL",
    "QCONNECTOR_DEADLINE",
    "QCONNECTOR_LISTING_TTL",
    "QCONNECTOR_FLEET_SEED",
]


def dotenv(values: dict[str, str], tail: str = "") -> str:
    return "".join(f'{k}="{v}"\n' for k, v in values.items()) + tail


CASES: list[tuple[str, str]] = [
    (
        "malformed token line",
        dotenv({k: v for k, v in BASE.items() if k != "IQP_API_TOKEN"}, f'IQP_API_TOKEN="{TOKEN}\n'),
    ),
    ("malformed token line, single quote", f"IQP_API_TOKEN='{TOKEN}\nOPEN_PLAN=on\n"),
]
CASES += [(f"token in {var}", dotenv({**BASE, var: TOKEN})) for var in VALIDATED]
CASES += [
    (f"token inside a URL in {var}", dotenv({**BASE, var: f"https://{TOKEN}.attacker.test/x"}))
    for var in ("CLOUD_API_URL", "QUANTUM_API_URL")
]
CASES += [
    (f"${{IQP_API_TOKEN}} in {var}", dotenv({**BASE, var: "${IQP_API_TOKEN}"}))
    for var in ("OPEN_PLAN", "QCONNECTOR_DEADLINE", "OPEN_PLAN_CHANNEL", "CLOUD_API_URL")
]
CASES += [("${IQP_API_TOKEN} in a URL's host", dotenv({**BASE, "CLOUD_API_URL": "https://${IQP_API_TOKEN}.x.test"}))]
IDS = [c[0] for c in CASES]


def leaked(text: str) -> list[str]:
    """The 8-character pieces of the token found in ``text``."""
    return [TOKEN[i : i + 8] for i in range(len(TOKEN) - 7) if TOKEN[i : i + 8] in text]


@pytest.mark.parametrize(("name", "text"), CASES, ids=IDS)
def test_core(clean_env, name, text):
    (clean_env / ".env").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(local=False)
    message = str(info.value)
    assert "\n" not in message, message
    assert leaked(message) == [], message


def test_a_malformed_line_is_named_by_file_line_and_variable(clean_env):
    (clean_env / ".env").write_text(f'OPEN_PLAN="on"\nIQP_API_TOKEN="{TOKEN}\n')
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith("~/.env line 2 (IQP_API_TOKEN): cannot be parsed."), str(info.value)


@pytest.mark.parametrize(("name", "text"), CASES, ids=IDS)
def test_magic(shell, clean_env, capsys, name, text):
    (clean_env / ".env").write_text(text)
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("qconnect", "")
    out = capsys.readouterr()
    assert "\n" not in str(info.value)
    assert leaked(str(info.value) + out.out + out.err) == []


@pytest.fixture
def jp_server_config(qc_env):
    return server_config({"provider": "auto"})


@pytest.mark.parametrize(("name", "text"), CASES, ids=IDS)
async def test_server(api, jp_root_dir, all_logs, name, text):
    (Path(jp_root_dir) / ".env").write_text(text)
    for route in ("plan", "backends", "status"):
        answer = await api("GET", route)
        assert leaked(answer.text) == [], (route, answer.text)
        # (The server's own c.QConnectorServer.deadline beats QCONNECTOR_DEADLINE, like an argument: those cases
        # go on to IBM, unreachable here. Either way nothing may leak.)
        assert answer.status in (200, 500, 503), answer
    assert leaked(all_logs.text) == []
