"""Shared fixtures: an isolated environment, and the IBM Quantum API emulator with .env files pointing at it."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `from emulator import ...`

from emulator import IBMQuantumEmulator

from qiskit_connector_lab import providers as provider_module

CONNECTOR_VARIABLES = [
    name
    for name in os.environ
    if name.startswith(
        (
            "IQP_",
            "QISKIT_IBM_",
            "QCONNECTOR_",
            "OPEN_PLAN",
            "PAID_PLAN",
            "PAYGO_PLAN",
            "FLEX_PLAN",
            "PREMIUM_PLAN",
            "DEDICATED_PLAN",
            "STANDARD_PLAN",
        )
    )
    or name
    in (
        "CLOUD_API_URL",
        "QUANTUM_API_URL",
        "IAM_URL",
        "GLOBAL_SEARCH_URL",
        "GLOBAL_CATALOG_URL",
        "IBM_CREDENTIALS_FILE",
    )
]


class _CurrentStderr:
    """Writes to whatever sys.stderr is when a record is emitted."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@pytest.fixture
def clean_env(tmp_path, monkeypatch) -> Path:
    """A temporary HOME and working directory, none of the connector's variables, no cached providers."""
    for name in CONNECTOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in ("QCONNECTOR_SERVER_ROOT", "QCONNECTOR_ENV_FILE", "QCONNECTOR_ALLOW_HOSTS"):  # the server sets some
        monkeypatch.setenv(name, "")  # recorded, so whatever a test sets is undone
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("QCONNECTOR_PICK_FILE", str(tmp_path / "pick.json"))
    monkeypatch.chdir(tmp_path)
    # qiskit-ibm-runtime's own stderr handler holds the stream of the moment it was imported, which pytest's
    # capture may have closed since: point it at this test's stderr.
    for handler in logging.getLogger("qiskit_ibm_runtime").handlers:
        if type(handler) is logging.StreamHandler:  # not pytest's capture handlers (subclasses)
            monkeypatch.setattr(handler, "stream", _CurrentStderr())
    provider_module.forget_providers()
    yield tmp_path
    provider_module.forget_providers()


@pytest.fixture
def emulator(clean_env, monkeypatch):
    """A running IBM Quantum API emulator; the real client's IAM/search/catalog hosts point at it."""
    emu = IBMQuantumEmulator(seed=1)
    emu.start()
    monkeypatch.setenv("QCONNECTOR_ALLOW_HOSTS", "127.0.0.1")  # the user's explicit opt-in for the loopback emulator
    for name, value in emu.client_env().items():
        if name != "QISKIT_IBM_URL":
            monkeypatch.setenv(name, value)
    yield emu
    emu.stop()
    assert not emu.errors, emu.errors  # the emulator itself must not have failed


def ibm_dotenv_text(emu: IBMQuantumEmulator, plan: str = "open", instance: str | None = None, **extra: str) -> str:
    """A seed-style .env for ``plan`` ("open" or a paid switch such as "premium"), pointing at the emulator."""
    lines = [
        f'IQP_API_TOKEN="{emu.api_key}"',
        f'CLOUD_API_URL="{emu.base_url}"',
        f'IQP_RUNTIME_API_URL="{emu.base_url}/api/v1"',
    ]
    if plan == "open":
        lines += [
            'OPEN_PLAN_CHANNEL="ibm_quantum_platform"',
            f'OPEN_PLAN_INSTANCE="{instance or "open-instance"}"',
            'OPEN_PLAN="on"',
            'PREMIUM_PLAN="off"',
        ]
    else:
        lines += [
            'PAID_PLAN_CHANNEL="ibm_quantum_platform"',
            f'PAID_PLAN_INSTANCE="{instance or "premium-instance"}"',
            'OPEN_PLAN="off"',
            f'{plan.upper()}_PLAN="on"',
        ]
    lines += [f'{key}="{value}"' for key, value in extra.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def ibm_dotenv(emulator, clean_env) -> Callable[..., Path]:
    """Write a .env in the working directory for the emulator; returns its path."""

    def write(plan: str = "open", instance: str | None = None, **extra: str) -> Path:
        path = clean_env / ".env"
        path.write_text(ibm_dotenv_text(emulator, plan, instance, **extra))
        return path

    return write


@pytest.fixture
def shell(clean_env, capsys):
    """A real IPython shell with the extension loaded and none of its variables set."""
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "qiskit_connector_lab")
    for name in ("backend", "session", "batch", "qconnection", "qpu"):
        sh.user_ns.pop(name, None)
    capsys.readouterr()
    yield sh
    sh.run_line_magic("unload_ext", "qiskit_connector_lab")


@pytest.fixture
def store_path(tmp_path, monkeypatch) -> Path:
    """The local job store of this test only (``QCONNECTOR_JOBS_FILE``)."""
    path = tmp_path / "jobs.sqlite3"
    monkeypatch.setenv("QCONNECTOR_JOBS_FILE", str(path))
    return path
