"""The files the configuration names, bounded: the .env, the saved-accounts file, the local fleet's members.

Each test runs the call in a thread and waits a bounded time for it, so a regression (a FIFO that blocks, a parse
that takes minutes) fails the test instead of hanging the suite. The parse time itself is measured in
``bench/dotenv_parse.py``; the bounds here are far above it and only catch a stall.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from qiskit_connector_lab.config import load_settings
from qiskit_connector_lab.errors import ConfigError

TOKEN = "sEcReT-ToKeN-0123456789abcdefghijklmnopqrstuv"
OPEN_ENV = f'IQP_API_TOKEN="{TOKEN}"\nOPEN_PLAN="on"\nOPEN_PLAN_INSTANCE="my-open-instance"\n'


def within(seconds: float, call: Callable[[], Any]) -> tuple[Any, BaseException | None, float]:
    """(result, exception, elapsed) of ``call()`` run in a daemon thread; fails when it takes over ``seconds``."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as exc:  # handed to the test
            outcome["error"] = exc

    start = time.perf_counter()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    elapsed = time.perf_counter() - start
    assert not worker.is_alive(), f"still running after {seconds} s"
    return outcome.get("result"), outcome.get("error"), elapsed


def one_line_error(error: BaseException | None) -> str:
    assert isinstance(error, ConfigError), error
    message = str(error)
    assert "\n" not in message and TOKEN not in message
    return message


# --- the .env -------------------------------------------------------------------------------------------------


def test_a_2_mb_env_is_refused_unread_in_under_a_second(clean_env):
    tmp_path = clean_env
    path = tmp_path / ".env"
    path.write_text(OPEN_ENV + "".join(f"K_{i}=value_{i}\n" for i in range(110_000)))
    assert path.stat().st_size > 2_000_000
    _, error, elapsed = within(20, lambda: load_settings(path, environ={}, saved_accounts_file=tmp_path / "n.json"))
    message = one_line_error(error)
    assert message.startswith(f"~/.env: is {path.stat().st_size} bytes, more than the 1 MB"), message
    assert elapsed < 1.0


def test_a_fifo_named_as_the_env_does_not_block(tmp_path):
    fifo = tmp_path / "pipe.env"
    os.mkfifo(fifo)  # opening it for reading without O_NONBLOCK waits for a writer that never comes
    _, error, elapsed = within(5, lambda: load_settings(fifo, environ={}))
    assert "is not a regular file" in one_line_error(error) and elapsed < 1.0


def test_a_large_env_is_read_in_linear_time(tmp_path):
    """40,000 lines (0.9 MB, under the cap) with ${...} references: dotenv_values took about a minute (it copies the
    whole environment for every line); one pass takes well under a second."""
    lines = [OPEN_ENV, 'BASE="root"\n']
    lines += [f'K_{i}="${{BASE}}/{i}"\n' for i in range(40_000)]
    path = tmp_path / ".env"
    path.write_text("".join(lines))
    assert path.stat().st_size < 1024 * 1024
    settings, error, _ = within(15, lambda: load_settings(path, environ={}, saved_accounts_file=tmp_path / "n.json"))
    assert error is None and settings.instance == "my-open-instance"
    from qiskit_connector_lab.config import read_env_file

    values = read_env_file(path, {"HOME_ONLY": "x"})
    assert values["K_39999"] == "root/39999" and len(values) == 40_004


def test_references_resolve_as_python_dotenv_resolves_them(tmp_path):
    from dotenv import dotenv_values

    from qiskit_connector_lab.config import read_env_file

    text = 'A="1"\nB="${A}-${FROM_ENV}-${MISSING:-dflt}"\nA="2"\nC=${A}\nexport D = "${B}"\nE\nF=\'${A}\'\n'
    path = tmp_path / ".env"
    path.write_text(text)
    os.environ["FROM_ENV"] = "env"
    try:
        assert read_env_file(path, os.environ) == dotenv_values(path, interpolate=True)
    finally:
        del os.environ["FROM_ENV"]


def test_a_bad_line_after_blank_lines_is_named_by_its_own_number(clean_env):
    path = clean_env / ".env"
    path.write_text(OPEN_ENV + '\n\n# a comment\n\nIQP_API_URL="' + TOKEN + "\n")
    _, error, _ = within(5, lambda: load_settings(path, environ={}))
    message = one_line_error(error)
    assert message.startswith("~/.env line 8 (IQP_API_URL): cannot be parsed."), message  # line 8 is the bad one, not 4


# --- the saved-accounts file ----------------------------------------------------------------------------------


def test_a_fifo_as_the_saved_accounts_file_does_not_block(clean_env):
    fifo = clean_env / "qiskit-ibm.json"
    os.mkfifo(fifo)
    _, error, elapsed = within(5, lambda: load_settings(environ={}, saved_accounts_file=fifo))
    assert "is not a regular file" in one_line_error(error) and elapsed < 1.0


def test_save_account_never_writes_through_a_symbolic_link(tmp_path):
    from qiskit_connector_lab import save_account

    env = tmp_path / ".env"
    env.write_text(OPEN_ENV)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("{}")
    link = tmp_path / "qiskit-ibm.json"
    link.symlink_to(elsewhere)
    with pytest.raises(ConfigError) as info:
        save_account(env_file=env, filename=link, name="course", environ={})
    assert "symbolic link" in one_line_error(info.value)
    assert elsewhere.read_text() == "{}" and link.is_symlink()
    assert {p.name for p in tmp_path.iterdir()} == {
        ".env",
        "elsewhere.json",
        "qiskit-ibm.json",
        ".qiskit-ibm.json.lock",
    }  # no copy (the lock stays)


def test_save_account_keeps_the_other_accounts_and_writes_0600(tmp_path):
    from qiskit_connector_lab import save_account

    env = tmp_path / ".env"
    env.write_text(OPEN_ENV)
    target = tmp_path / "acct" / "qiskit-ibm.json"
    target.parent.mkdir(mode=0o700)
    target.write_text(json.dumps({"other": {"channel": "ibm_cloud", "token": "t", "instance": "i"}}))
    save_account(env_file=env, filename=target, name="course", environ={})
    saved = json.loads(target.read_text())
    assert set(saved) == {"other", "course"} and saved["course"]["instance"] == "my-open-instance"
    assert (target.stat().st_mode & 0o777) == 0o600


def test_save_account_refuses_an_endpoint_only_the_allow_list_trusts(tmp_path):
    """A plain QiskitRuntimeService() reads the saved account later without QCONNECTOR_ALLOW_HOSTS: the loopback URL
    must not be stored for it (and silently dropping it would make the account mean IBM's endpoint)."""
    from qiskit_connector_lab import save_account

    env = tmp_path / ".env"
    env.write_text(OPEN_ENV + 'CLOUD_API_URL="http://127.0.0.1:9"\n')
    target = tmp_path / "qiskit-ibm.json"
    with pytest.raises(ConfigError) as info:
        save_account(env_file=env, filename=target, environ={"QCONNECTOR_ALLOW_HOSTS": "127.0.0.1"})
    message = one_line_error(info.value)
    assert message.startswith("CLOUD_API_URL: points at http://127.0.0.1:9") and "QCONNECTOR_ALLOW_HOSTS" in message
    assert not target.exists()


# --- the local fleet's members --------------------------------------------------------------------------------


@pytest.mark.parametrize("members", ["fez,/tmp/x", "/tmp/x", "fez,../../../tmp", "fez,nope"])
def test_fleet_members_must_be_fake_backends(clean_env, members):
    _, error, _ = within(5, lambda: load_settings(local=True, environ={"QCONNECTOR_FLEET": members}))
    message = one_line_error(error)
    assert message.startswith("QCONNECTOR_FLEET: names ") and "not a fake backend" in message
    assert "e.g. " in message  # a few valid names


def test_fleet_members_from_a_dotenv_are_checked_too(tmp_path):
    path = tmp_path / ".env"
    path.write_text('QCONNECTOR_FLEET="fez,/tmp/x"\n')
    with pytest.raises(ConfigError, match=r"^QCONNECTOR_FLEET in \.env .*'/tmp/x'"):
        load_settings(path, local=True, environ={})


def test_fleet_members_that_are_fake_backends_are_kept(clean_env):
    from qiskit_connector_lab.config import fake_backend_names

    names = fake_backend_names()
    assert {"fez", "kolkata", "manila"} <= set(names) and "__pycache__" not in names
    settings = load_settings(local=True, environ={"QCONNECTOR_FLEET": " fake_fez, Kolkata ,manila"})
    assert settings.fleet == ("fez", "kolkata", "manila")
    with pytest.raises(ConfigError) as info:
        load_settings(local=True, environ={"QCONNECTOR_FLEET": "kolkatta"})
    assert "e.g. kolkata" in str(info.value)  # the closest valid names


def test_the_python_dotenv_parser_gives_what_the_reader_uses():
    """The .env reader takes bad lines from ``dotenv.parser.parse_stream`` (a module python-dotenv does not list in
    its package's names): pin the shape it relies on, so a python-dotenv release that changes it fails here."""
    import io

    from dotenv.parser import parse_stream

    bindings = list(parse_stream(io.StringIO('A="1"\n\nnot a binding "\nB=${A}\n')))
    expected = [("A", "1", False), (None, None, True), ("B", "${A}", False)]
    assert [(b.key, b.value, b.error) for b in bindings] == expected
    assert [b.original.line for b in bindings] == [1, 2, 4]  # the bad one starts at the blank line before it
