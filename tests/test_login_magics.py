"""``%qlogin`` and ``%qlogout`` in a real IPython shell, with the real client against the emulator.

The password prompt is the one thing a test cannot type into: the magic's ``prompt`` (``getpass.getpass``) and
``ask`` (``input``) are given the answers a user would type. Everything else is real: IAM, search and catalog
requests to the emulator, the stored file, a bare ``%qconnect`` afterwards.
"""

from __future__ import annotations

import json
import stat

import pytest
from IPython.core.error import UsageError

from qiskit_connector_lab import login_magics
from qiskit_connector_lab.accounts import store


@pytest.fixture
def endpoints(emulator, monkeypatch):
    monkeypatch.setenv("CLOUD_API_URL", emulator.base_url)
    monkeypatch.setenv("IQP_RUNTIME_API_URL", emulator.base_url + "/api/v1")
    return emulator


def typed(shell, key: str, *answers: str) -> list[str]:
    """The user types ``key`` at the password prompt and ``answers`` at the instance prompt; returns the prompts."""
    magics = login_magics._registered[id(shell)]
    prompts: list[str] = []
    replies = list(answers)

    def prompt(text: str) -> str:
        prompts.append(text)
        return key

    def ask(text: str) -> str:
        prompts.append(text)
        return replies.pop(0)

    magics.prompt, magics.ask = prompt, ask
    return prompts


def test_qlogin_asks_for_the_key_lists_the_instances_and_stores_the_choice(shell, endpoints, capsys):
    prompts = typed(shell, endpoints.api_key, "2")
    endpoints.reset_log()
    shell.run_line_magic("qlogin", "")
    out = capsys.readouterr()
    assert "API key (hidden" in prompts[0] and "Instance to use (1-3" in prompts[1]
    assert len(endpoints.requests) == 2 + len(endpoints.instances)  # one check, not one per prompt
    assert "1. open-instance (open plan, free, us-east)" in out.out
    chosen = store.load()
    assert chosen is not None and chosen.details["name"] == "paygo-instance"
    assert "Signed in to IBM Quantum: instance paygo-instance" in out.out
    assert endpoints.api_key not in out.out + out.err
    saved = store.accounts_file()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600 and stat.S_IMODE(saved.parent.stat().st_mode) == 0o700

    shell.run_line_magic("qconnect", "")  # bare: the signed-in account
    connection = shell.user_ns["qconnection"]
    assert connection.provider_kind == "ibm" and connection.instance.crn == endpoints.instance_crn("paygo-instance")
    capsys.readouterr()

    shell.run_line_magic("qlogout", "")
    from qiskit_connector_lab import providers as registry

    assert registry._providers == {}  # the signed-out key's service is not kept in the kernel
    assert "Signed out: removed ~/.qiskit/qiskit-ibm.json (account qiskit-connector-lab)." in capsys.readouterr().out
    assert store.load() is None
    shell.run_line_magic("qlogout", "")
    assert "Not signed in" in capsys.readouterr().out


def test_qlogin_with_an_instance_asks_nothing_else(shell, endpoints, capsys):
    prompts = typed(shell, endpoints.api_key)
    shell.run_line_magic("qlogin", "--instance premium-instance")
    assert len(prompts) == 1
    assert json.loads(store.accounts_file().read_text())[store.ACCOUNT_NAME]["instance"] == endpoints.instance_crn(
        "premium-instance"
    )


def test_a_wrong_key_is_one_line_and_nothing_is_stored(shell, endpoints, capsys):
    wrong = "wrong-key-0123456789abcdef"
    typed(shell, wrong)
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("qlogin", "")
    assert str(caught.value).startswith("IBM refused this API key")
    assert wrong not in str(caught.value) and not store.accounts_file().exists()


def test_a_key_on_the_magics_line_is_refused_without_being_quoted(shell, endpoints):
    endpoints.reset_log()
    for line in (endpoints.api_key, f"--instance open-instance {endpoints.api_key}", f"--env={endpoints.api_key} x"):
        with pytest.raises(UsageError) as caught:
            shell.run_line_magic("qlogin", line)
        assert endpoints.api_key not in str(caught.value)
        assert "takes no API key" in str(caught.value)
    assert endpoints.requests == []


def test_an_environment_token_wins_and_qlogin_says_so(shell, endpoints, monkeypatch, capsys):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", "environment-key-123456789")
    typed(shell, endpoints.api_key)
    shell.run_line_magic("qlogin", "--instance open-instance")
    out = capsys.readouterr().out
    assert "The token from environment is used, not the sign-in" in out
    assert "environment-key" not in out


@pytest.mark.parametrize("value", ["inf", "nan", "1e9", "0", "-3", "soon", "1e999"])
def test_a_bad_or_unbounded_deadline_names_deadline_and_asks_for_no_key(shell, endpoints, value):
    endpoints.reset_log()
    prompts = typed(shell, endpoints.api_key)
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("qlogin", f"--deadline {value}")
    assert str(caught.value).startswith("--deadline ") and "seconds" in str(caught.value)
    assert "\n" not in str(caught.value) and prompts == [] and endpoints.requests == []


def test_the_prompts_are_looked_up_when_qlogin_runs(shell, endpoints, monkeypatch, capsys):
    import builtins
    import getpass

    magics = login_magics._registered[id(shell)]
    monkeypatch.setattr(magics, "prompt", None)
    monkeypatch.setattr(magics, "ask", None)
    asked: list[str] = []
    monkeypatch.setattr(getpass, "getpass", lambda text: asked.append(text) or endpoints.api_key)  # a kernel's own
    monkeypatch.setattr(builtins, "input", lambda text: asked.append(text) or "2")
    shell.run_line_magic("qlogin", "--deadline 20")
    assert len(asked) == 2 and "API key (hidden" in asked[0] and "Instance to use" in asked[1]
    assert "Signed in to IBM Quantum: instance paygo-instance" in capsys.readouterr().out
