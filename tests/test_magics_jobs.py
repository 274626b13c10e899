"""%qjobs and %qjob through a real IPython shell: on the IBM path (the REAL client against the emulator, which runs
the jobs) and on the local fleet (the local job store)."""

from __future__ import annotations

import pytest
from test_faults_core import DEADLINE
from test_faults_magic import one_usage_error

from qiskit_connector_lab.jobs import JobRecord, LocalJobStore

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SUBMIT = """
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import SamplerV2
bell = QuantumCircuit(2); bell.h(0); bell.cx(0, 1); bell.measure_all()
isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(bell)
submitted = SamplerV2(mode=backend).run([isa], shots=1000)
"""


def cell(shell, capsys, code: str) -> str:
    result = shell.run_cell(code)
    out = capsys.readouterr()
    assert result.success, out.err
    return out.out


@pytest.fixture
def connected(shell, emulator, ibm_dotenv, capsys):
    ibm_dotenv("open", QCONNECTOR_DEADLINE=str(DEADLINE * 2))
    cell(shell, capsys, "%qconnect --quiet")
    return shell


def test_qjobs_shows_a_job_queued_then_done_and_qjob_gets_it(connected, emulator, capsys):
    shell = connected
    emulator.hold_jobs = True
    cell(shell, capsys, SUBMIT)
    job_id = shell.user_ns["submitted"].job_id()
    backend = shell.user_ns["backend"].name
    table = cell(shell, capsys, "%qjobs --pending")
    row = next(line for line in table.splitlines() if job_id in line)
    assert "QUEUED" in row and backend in row and "sampler" in row
    assert "1 of 1 pending jobs on IBM Quantum, newest first" in table
    emulator.release_jobs()
    counts = shell.user_ns["submitted"].result()[0].data.meas.get_counts()
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 1000
    table = cell(shell, capsys, "%qjobs")
    assert "DONE" in next(line for line in table.splitlines() if job_id in line)
    assert cell(shell, capsys, "%qjobs --pending").strip() == "No pending jobs on IBM Quantum."  # no empty table
    said = cell(shell, capsys, f"%qjob {job_id} --name again")
    again = shell.user_ns["again"]
    assert again.job_id() == job_id and again.status() == "DONE" and "again.result()" in said
    assert again.result()[0].data.meas.get_counts() == counts
    assert emulator.api_key not in table + said


def test_qjobs_cancel_a_queued_job_then_one_line_error(connected, emulator, capsys):
    shell = connected
    emulator.hold_jobs = True
    cell(shell, capsys, SUBMIT)
    job_id = shell.user_ns["submitted"].job_id()
    assert f"Job {job_id}: CANCELLED" in cell(shell, capsys, f"%qjobs --cancel {job_id}")
    assert emulator.jobs[0]["status"] == "Cancelled"
    assert not shell.run_cell(f"%qjobs --cancel {job_id}").success
    text = one_usage_error(capsys)
    assert f"Job {job_id} is already CANCELLED" in text


@pytest.mark.parametrize(
    "line,phrase",
    [
        ("%qjobs --limit 0", "--limit is 0"),
        ("%qjobs --limit many", "--limit"),
        ("%qjobs --cancel 'x y'", "is not a job id"),
        ("%qjob ../etc", "is not a job id"),
        ("%qjob d1234 --name 1x", "--name '1x' is not a Python variable name"),
        ("%qjob d0000000000000000000", "has no job 'd0000000000000000000'"),
        ("%qjobs --bogus", "%qjobs?"),
    ],
)
def test_bad_input_is_one_line(connected, capsys, line, phrase):
    assert not connected.run_cell(line).success
    assert phrase in one_usage_error(capsys)


@pytest.mark.parametrize("fault", [401, 500, "malformed", "stall"])
def test_faults_on_the_job_list_are_one_line(connected, emulator, capsys, fault):
    emulator.inject(fault, "/api/v1/jobs", method="GET", times=None, seconds=30)
    assert not connected.run_cell("%qjobs").success
    text = one_usage_error(capsys)
    assert "listing the jobs" in text and emulator.api_key not in text
    emulator.clear_faults()


def test_local_jobs_from_the_store(shell, capsys, monkeypatch, clean_env):
    monkeypatch.setenv("QCONNECTOR_JOBS_FILE", str(clean_env / "jobs.json"))
    store = LocalJobStore()
    store.record(
        JobRecord(
            id="loc-1",
            backend="fake_fez",
            primitive="sampler",
            status="DONE",
            created="2026-11-30T20:00:00+00:00",
            started="2026-11-30T20:00:01+00:00",
            finished="2026-11-30T20:00:03+00:00",
            shots=10,
            pubs=1,
            tags=("class",),
        )
    )
    store.record(
        JobRecord(
            id="loc-2", backend="fake_kyiv", primitive="estimator", status="QUEUED", created="2026-11-30T20:01:00+00:00"
        )
    )
    table = cell(shell, capsys, "%qjobs --local")
    lines = [line for line in table.splitlines() if "loc-" in line]
    assert ["loc-2" in lines[0], "loc-1" in lines[1]] == [True, True]  # newest first
    assert "2 s" in lines[1] and "class" in lines[1] and "local fleet" in table
    assert "loc-1" not in cell(shell, capsys, "%qjobs --local --pending")
    assert "loc-2" in cell(shell, capsys, "%qjobs --local --backend fake_kyiv")
    assert "CANCELLED" in cell(shell, capsys, "%qjobs --local --cancel loc-2")
    said = cell(shell, capsys, "%qjob loc-1 --local")
    assert shell.user_ns["job"].status == "DONE" and "another kernel" in said


def test_qjob_in_the_kernel_that_ran_a_local_job_gives_the_job_itself(shell, capsys, monkeypatch, clean_env):
    """The kernel that ran a local job holds it: %qjob gives the job object (status(), result()), not its record,
    even once the notebook has dropped its own variable."""
    import gc

    monkeypatch.setenv("QCONNECTOR_JOBS_FILE", str(clean_env / "jobs.json"))
    cell(shell, capsys, "%qconnect fake_manila --job --quiet")
    cell(
        shell,
        capsys,
        SUBMIT + "submitted.wait_for_final_state(timeout=120)\njob_id = submitted.job_id()\ndel submitted",
    )
    gc.collect()
    job_id = shell.user_ns["job_id"]
    said = cell(shell, capsys, f"%qjob {job_id} --name j")
    j = shell.user_ns["j"]
    assert type(j).__name__ == "LocalJob" and j.job_id() == job_id, said
    assert "another kernel" not in said
    j.wait_for_final_state(timeout=120)
    assert j.status() == "DONE"
    counts = j.result()[0].data.meas.get_counts()
    assert sum(counts.values()) == 1000 and counts.get("00", 0) + counts.get("11", 0) > 800
