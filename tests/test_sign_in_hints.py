"""The sign-in error says what to do: name IAM_URL when an endpoint override has none, and always offer --local.

Through the real client against the loopback emulator. Without ``IAM_URL`` the client signs in at
``iam.`` + the override's host (``iam.127.0.0.1``, a name that resolves nowhere), which is what a user rehearsing
the IBM path without the emulator's lines gets.
"""

from __future__ import annotations

import pytest

from qiskit_connector_lab.connection import connect
from qiskit_connector_lab.errors import Unreachable


def test_an_endpoint_override_without_iam_url_names_iam_url_and_local(emulator, ibm_dotenv, monkeypatch):
    monkeypatch.delenv("IAM_URL")
    ibm_dotenv("open", QCONNECTOR_DEADLINE="8")
    with pytest.raises(Unreachable) as info:
        connect()
    message = str(info.value)
    assert "\n" not in message and emulator.api_key not in message
    assert "IAM_URL is not set" in message and emulator.base_url in message
    assert "%qconnect --local" in message


def test_an_unreachable_ibm_offers_the_local_fleet(emulator, ibm_dotenv, monkeypatch):
    for name in ("IAM_URL", "GLOBAL_SEARCH_URL"):  # IAM_URL set: the plain message, with --local in it
        monkeypatch.setenv(name, emulator.refused_url())
    ibm_dotenv("open", QCONNECTOR_DEADLINE="8")
    with pytest.raises(Unreachable) as info:
        connect()
    message = str(info.value)
    assert "could not be reached" in message and "IAM_URL is not set" not in message
    assert "%qconnect --local" in message


def test_the_magic_shows_the_iam_url_hint_in_one_line(shell, emulator, ibm_dotenv, capsys, monkeypatch):
    monkeypatch.delenv("IAM_URL")
    ibm_dotenv("open", QCONNECTOR_DEADLINE="8")
    assert not shell.run_cell("%qconnect").success
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("UsageError")]
    assert len(lines) == 1 and "IAM_URL" in lines[0] and "--local" in lines[0], lines
