"""Secrets audit of the notebook face: a real kernel runs every magic against the API emulator (IBM path, paid
plan, plus an error), and no output holds the API key or a bearer JWT. The server face is audited in
test_server_routes.py (responses and logs) and test_faults_server.py; the core in test_ibm_path.py."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import nbformat
from conftest import ibm_dotenv_text
from nbclient import NotebookClient

CELLS = [
    "%load_ext qiskit_connector_lab",
    "%qconnect",
    "%qbackends",
    "%qplan",
    "print(qconnection); qconnection",
    "backend, session, repr(qconnection)",
    "from qiskit_connector_lab import load_settings\nload_settings(), load_settings().describe()",
    # jobs: submit one, list, fetch and cancel it, and a job error
    "from qiskit import QuantumCircuit\nfrom qiskit.transpiler import generate_preset_pass_manager\n"
    "from qiskit_ibm_runtime import SamplerV2\nqc = QuantumCircuit(2); qc.h(0); qc.cx(0, 1); qc.measure_all()\n"
    "submitted = SamplerV2(mode=session).run([generate_preset_pass_manager(backend=backend).run(qc)], shots=10)",
    "%qjobs",
    "%qjob {submitted.job_id()} --name again\nagain, repr(again)",
    "%qjobs --cancel {submitted.job_id()}",
    "%qjob d0000000000000000000",
    "%qconnect --instance not-my-instance",
    "%qlogin --instance open-instance",  # no stdin under nbclient: one line, nothing stored
    # the emulator is an endpoint only the allow-list trusts: save_account refuses it in one line, nothing written
    "from qiskit_connector_lab import save_account\nsave_account(name='audit')",
    # a sign-in stores the key (mode 0600); %qlogout removes the only account, and with it the file
    "from qiskit_connector_lab.accounts import sign_in as signin\n"
    "s = load_settings(); account = signin.keep(signin.check_key(s.token), "
    "signin.choose(signin.list_instances(s.token, cloud_url=s.cloud_url), 'premium-instance'), cloud_url=s.cloud_url)\n"
    "print(oct(account.path.stat().st_mode & 0o777), account.describe())",
    "%qlogout",
]


def test_no_secret_in_any_notebook_output(emulator, clean_env, monkeypatch):
    (clean_env / ".env").write_text(ibm_dotenv_text(emulator, "premium"))
    src = Path(__file__).resolve().parent.parent
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")])))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in CELLS]
    NotebookClient(
        nb, timeout=180, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(clean_env)}}
    ).execute()
    outputs = json.dumps([cell.get("outputs", []) for cell in nb.cells])
    assert "premium-instance" in outputs and "Premium (paid)" in outputs  # it really ran against the emulator
    assert "UsageError" in outputs  # and the error path was taken
    assert "sampler" in outputs and "has no job" in outputs  # the job magics ran, and failed once
    assert emulator.api_key not in outputs
    assert "eyJ" not in outputs  # no bearer JWT
    assert "only QCONNECTOR_ALLOW_HOSTS trusts" in outputs  # save_account refused the allow-listed endpoint
    assert "0o600" in outputs and "Signed out: removed" in outputs  # the sign-in's file was 0600, then removed
    folder = clean_env / ".qiskit"
    saved = folder / "qiskit-ibm.json"
    if saved.exists():  # another account would keep the file: it stays private
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    left = [p for p in folder.rglob("*") if p.is_file() and emulator.api_key.encode() in p.read_bytes()]
    assert left == []  # no key left on disk after the sign-out
