"""The IBM path: the real qiskit-ibm-runtime client against the project's loopback API emulator."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from test_local_fleet import SEED_SNIPPET

from qiskit_connector_lab import providers as provider_module
from qiskit_connector_lab.config import load_settings
from qiskit_connector_lab.connection import connect
from qiskit_connector_lab.errors import PlanMismatchError, Unauthorized
from qiskit_connector_lab.plans import Plan

BACKENDS = "/api/v1/backends"


def least_busy_name(emu) -> str:
    return min(
        (b for b in emu.backend_names if emu.backend(b)["status"]["name"] == "online"),
        key=lambda b: (emu.backend(b)["queue_length"], -emu.backend(b)["qubits"], b),
    )


def run_snippet(cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SEED_SNIPPET],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def test_seed_snippet_open_plan(emulator, ibm_dotenv, clean_env):
    ibm_dotenv("open")
    result = run_snippet(clean_env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Your Plan: Open Plan" in result.stdout
    assert f"Least Busy QPU: {least_busy_name(emulator)}" in result.stdout
    assert "on IBM Quantum" in result.stdout and "local fleet" not in result.stdout
    assert emulator.count("POST", "/api/v1/sessions") == 0  # open plan: no session
    assert emulator.api_key not in result.stdout + result.stderr


def test_seed_snippet_paid_plan_opens_a_session(emulator, ibm_dotenv, clean_env):
    ibm_dotenv("premium")
    result = run_snippet(clean_env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Your Plan: Paid Plan" in result.stdout
    assert f"Least Busy QPU: {least_busy_name(emulator)}" in result.stdout
    # connector() returns only the backend (job mode), so the snippet's Session(backend=backend) is the only one
    assert emulator.count("POST", "/api/v1/sessions") == 1
    assert all(s["mode"] == "dedicated" for s in emulator.sessions)
    assert emulator.api_key not in result.stdout + result.stderr


def test_paid_connect_gives_a_session_and_open_gives_none(emulator, ibm_dotenv):
    ibm_dotenv("premium")
    conn = connect()
    assert conn.plan is Plan.PREMIUM and conn.mode == "session"
    assert conn.session is not None and conn.session.session_id
    assert conn.instance.name == "premium-instance" and not conn.local
    conn.close()
    provider_module.forget_providers()
    ibm_dotenv("open")
    conn = connect()
    assert conn.plan is Plan.OPEN and conn.mode == "job" and conn.session is None
    conn = connect(mode="session")
    assert conn.mode == "batch" and any("1352" in n for n in conn.notes)
    assert emulator.sessions[-1]["mode"] == "batch"  # never a dedicated session on the open plan


def test_one_backends_request_per_connect_and_fresh_queues(emulator, ibm_dotenv):
    ibm_dotenv("open", QCONNECTOR_LISTING_TTL="0.3")
    first = connect()  # cold: IAM, search, catalog, one /backends (reused as the first listing), configuration
    assert emulator.count("GET", BACKENDS) == 1
    assert first.qpu.name == least_busy_name(emulator)
    emulator.reset_log()
    time.sleep(0.35)
    again = connect()  # warm, after the TTL: the queue refresh and nothing else
    assert again.qpu.name == first.qpu.name
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", BACKENDS)]
    # Make another QPU the least busy: the next connect after the TTL picks it.
    other = next(name for name in emulator.backend_names if name != first.qpu.name)
    emulator.set_queue(other, 0)
    emulator.set_queue(first.qpu.name, 500)
    emulator.reset_log()
    time.sleep(0.35)
    moved = connect()
    assert moved.qpu.name == least_busy_name(emulator) and moved.qpu.name != first.qpu.name
    assert emulator.count("GET", BACKENDS) == 1
    assert (
        emulator.count("GET", "/api/v1/backends", prefix=True) - emulator.count("GET", BACKENDS) <= 1
    )  # its configuration
    assert emulator.count(path="/status", prefix=True) == 0
    statuses = [r.path for r in emulator.requests if r.path.endswith("/status")]
    assert statuses == []  # never one status() per QPU


def test_within_the_ttl_a_second_connect_costs_nothing(emulator, ibm_dotenv):
    ibm_dotenv("open", QCONNECTOR_LISTING_TTL="30")
    connect()
    emulator.reset_log()
    connect()
    assert emulator.requests == []


def test_plan_verified_against_the_instance(emulator, ibm_dotenv):
    ibm_dotenv("open", instance="premium-instance")
    with pytest.raises(PlanMismatchError) as info:
        connect()
    message = str(info.value)
    assert "OPEN_PLAN=on" in message and "premium-instance" in message and "\n" not in message
    provider_module.forget_providers()
    ibm_dotenv("flex", instance="paygo-instance")
    conn = connect(mode="job")
    assert conn.plan is Plan.PAYGO and any("Pay-as-you-go" in n for n in conn.notes)


def test_runtime_variables_work_too(emulator, clean_env, monkeypatch):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", emulator.api_key)
    monkeypatch.setenv("QISKIT_IBM_INSTANCE", "paygo-instance")
    monkeypatch.setenv("CLOUD_API_URL", emulator.base_url)
    monkeypatch.setenv("IQP_RUNTIME_API_URL", emulator.base_url + "/api/v1")
    settings = load_settings()
    assert settings.plan is None and not settings.local
    conn = connect(mode="job")
    assert conn.plan is Plan.PAYGO  # detected from the instance


def test_usage_and_compat_helpers(emulator, ibm_dotenv):
    from qiskit_connector_lab import QPlanV2, compat, is_verified, qiskit_smart, qpu_verify

    ibm_dotenv("open")
    compat._verified.clear()
    assert QPlanV2() == "Open Plan"
    assert not is_verified()
    assert qiskit_smart() is True and is_verified()
    qpus = qpu_verify()
    assert {q.name for q in qpus} == set(emulator.backend_names)
    provider = next(iter(provider_module._providers.values()))
    usage = provider.usage()
    assert usage is not None and usage.limit_seconds is not None


def test_magic_open_plan_batch_and_paid_plan_session(shell, ibm_dotenv, emulator, capsys):
    ibm_dotenv("open")
    result = shell.run_cell("%qconnect --session")
    out = capsys.readouterr()
    assert result.success, out.err
    assert shell.user_ns["qconnection"].mode == "batch" and "session" not in shell.user_ns
    assert type(shell.user_ns["batch"]).__name__ == "Batch"
    assert shell.user_ns["backend"].name == least_busy_name(emulator)
    assert "does not allow Sessions" in out.out and emulator.api_key not in out.out + out.err
    provider_module.forget_providers()
    ibm_dotenv("premium")
    result = shell.run_cell("%qconnect")
    out = capsys.readouterr()
    assert result.success, out.err
    session = shell.user_ns["session"]
    assert type(session).__name__ == "Session" and session.session_id
    assert emulator.sessions[-1]["mode"] == "dedicated"
    emulator.set_usage("premium-instance", consumed=120, limit=3600)
    result = shell.run_cell("%qplan")
    out = capsys.readouterr()
    assert "Premium (paid), checked with IBM" in out.out and "premium-instance" in out.out
    assert "2.0 min used of 60.0 min" in out.out and "58.0 min" in out.out  # the usage IBM reports


def test_token_never_in_logs_reprs_or_errors(emulator, ibm_dotenv, capsys):
    import io
    import logging

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    loggers = [
        logging.getLogger(n)
        for n in ("", "qiskit_ibm_runtime", "ibm_cloud_sdk_core", "urllib3", "qiskit_connector_lab")
    ]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        ibm_dotenv("premium", QCONNECTOR_LISTING_TTL="0.01")
        conn = connect()
        texts = [repr(conn), str(conn), conn._repr_html_(), repr(load_settings()), str(load_settings().describe())]
        emulator.inject(401, path="/api/v1/backends", times=None)
        time.sleep(0.02)
        with pytest.raises(Unauthorized) as info:
            connect()
        texts.append(str(info.value))
        emulator.clear_faults()
        conn.close()
    finally:
        for lg, level in saved:
            lg.removeHandler(handler)
            lg.setLevel(level)
    out = capsys.readouterr()
    everything = "\n".join(texts) + stream.getvalue() + out.out + out.err
    assert "identity/token" in stream.getvalue() or "backends" in stream.getvalue()  # the logs did capture the traffic
    assert emulator.api_key not in everything
    assert "eyJ" not in everything  # no bearer JWT either


def test_reconnect_when_the_old_session_cannot_be_closed(shell, ibm_dotenv, emulator, capsys):
    ibm_dotenv("premium")
    assert shell.run_cell("%qconnect --quiet").success
    old = shell.user_ns["session"]
    emulator.inject(500, path="/api/v1/sessions/*", times=None)  # closing fails; opening (POST) still works
    result = shell.run_cell("%qconnect --quiet")
    out = capsys.readouterr()
    assert result.success, out.err
    new = shell.user_ns["session"]
    assert new is not old and new.session_id != old.session_id  # the new connection is not lost
    assert "Traceback" not in out.out + out.err
    notes = [line for line in out.err.splitlines() if "could not be closed" in line]
    assert len(notes) == 1 and "500" in notes[0]
    emulator.clear_faults()


def test_a_new_deadline_keeps_the_signed_in_service(emulator, ibm_dotenv):
    ibm_dotenv("open", QCONNECTOR_LISTING_TTL="30")
    connect()
    emulator.reset_log()
    conn = connect(deadline=7)
    assert emulator.requests == []  # no second sign-in: only the deadline changed
    assert conn.provider.settings.deadline == 7
