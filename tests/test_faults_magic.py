"""The fault table and the bad-configuration table, through the %qconnect magic (real shell, real client)."""

from __future__ import annotations

import time

import pytest
from test_config import BAD_CONFIGS, TOKEN
from test_faults_core import COLD_FAULTS, DEADLINE, MARGIN, WARM_FAULTS


def one_usage_error(capsys) -> str:
    out = capsys.readouterr()
    lines = [line for line in out.err.splitlines() if line.startswith("UsageError")]
    assert len(lines) == 1, out.err
    assert "Traceback" not in out.out + out.err
    return lines[0] + "\n" + out.out + out.err


@pytest.mark.parametrize("name,fault,kwargs,error_type,phrase", WARM_FAULTS, ids=[f[0] for f in WARM_FAULTS])
def test_fault_through_the_magic(shell, emulator, ibm_dotenv, capsys, name, fault, kwargs, error_type, phrase):
    ibm_dotenv("open", QCONNECTOR_DEADLINE=str(DEADLINE), QCONNECTOR_LISTING_TTL="0.01")
    assert shell.run_cell("%qconnect --quiet").success
    kept = shell.user_ns["backend"]
    capsys.readouterr()
    time.sleep(0.02)
    emulator.inject(fault, path="/api/v1/backends", **kwargs)
    start = time.perf_counter()
    result = shell.run_cell("%qconnect")
    elapsed = time.perf_counter() - start
    assert not result.success
    text = one_usage_error(capsys)
    assert phrase in text and emulator.api_key not in text
    assert elapsed < DEADLINE + MARGIN, f"{name}: {elapsed:.1f} s"
    assert shell.user_ns["backend"] is kept  # nothing lost
    emulator.clear_faults()


@pytest.mark.parametrize("name,text,variable,fix", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_env_file_through_the_magic(shell, clean_env, capsys, name, text, variable, fix):
    (clean_env / ".env").write_text(text)
    result = shell.run_cell("%qconnect")
    assert not result.success
    line = one_usage_error(capsys).splitlines()[0]
    assert variable in line and fix in line
    assert TOKEN not in line


@pytest.mark.parametrize("name,fault,kwargs,error_type,phrase", COLD_FAULTS, ids=[f[0] for f in COLD_FAULTS])
def test_cold_fault_through_the_magic(shell, emulator, ibm_dotenv, capsys, name, fault, kwargs, error_type, phrase):
    ibm_dotenv("open", QCONNECTOR_DEADLINE=str(DEADLINE))
    emulator.inject(fault, **kwargs)
    start = time.perf_counter()
    result = shell.run_cell("%qconnect")
    assert not result.success and time.perf_counter() - start < DEADLINE + MARGIN
    text = one_usage_error(capsys)
    assert phrase in text and emulator.api_key not in text


def test_refused_connection_through_the_magic(shell, emulator, ibm_dotenv, capsys, monkeypatch):
    for variable in ("IAM_URL", "GLOBAL_SEARCH_URL"):
        monkeypatch.setenv(variable, emulator.refused_url())
    ibm_dotenv("open", QCONNECTOR_DEADLINE=str(DEADLINE))
    assert not shell.run_cell("%qconnect").success
    assert "could not be reached" in one_usage_error(capsys)


def test_expired_token_and_vanished_qpu_through_the_magic(shell, emulator, ibm_dotenv, capsys):
    ibm_dotenv("open", QCONNECTOR_LISTING_TTL="30")
    assert shell.run_cell("%qconnect --quiet").success
    conn = shell.user_ns["qconnection"]
    emulator.expire_tokens()
    victim = next(q.name for q in conn.listing.qpus if q.name != conn.qpu.name)
    emulator.remove_backend(victim)
    result = shell.run_cell(f"%qconnect {victim}")  # listed a moment ago, gone upstream now
    assert not result.success
    assert "no longer lists that QPU" in one_usage_error(capsys)
    assert shell.user_ns["qconnection"] is conn  # nothing lost
