"""The local job store: records, paging and filters, cancel requests, bounds, file mode, and two writers at once."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qiskit_connector_lab.jobs import (
    CANCELLED,
    DONE,
    QUEUED,
    RUNNING,
    JobNotCancellable,
    JobNotFound,
    JobRecord,
    LocalJobStore,
    jobs_file,
)

ROOT = Path(__file__).resolve().parent.parent


def job(i: int, status: str = DONE, backend: str = "fake_manila", **extra) -> JobRecord:
    return JobRecord(
        id=f"local-{i:04d}",
        backend=backend,
        primitive="sampler",
        status=status,
        created=f"2026-11-30T20:{i // 60:02d}:{i % 60:02d}+00:00",
        shots=1024,
        pubs=1,
        **extra,
    )


@pytest.fixture
def store(tmp_path):
    return LocalJobStore(tmp_path / "jobs.json", keep=50)


def test_a_record_round_trips_through_a_dict():
    record = job(1, tags=("class-3", "bell"), session_id="s1", error=None)
    data = record.as_dict()
    assert data["tags"] == ["class-3", "bell"] and data["provider"] == "local"
    assert JobRecord.from_dict(json.loads(json.dumps(data))) == record
    assert JobRecord.from_dict({**data, "a_newer_field": 1}) == record
    with pytest.raises(ValueError, match="status"):
        job(2, status="done")


def test_the_file_lives_next_to_the_pick_store(tmp_path, monkeypatch):
    monkeypatch.delenv("QCONNECTOR_JOBS_FILE", raising=False)
    monkeypatch.setenv("QCONNECTOR_PICK_FILE", str(tmp_path / "picks" / "selection.json"))
    assert jobs_file() == tmp_path / "picks" / "jobs.json"
    monkeypatch.setenv("QCONNECTOR_JOBS_FILE", str(tmp_path / "elsewhere.json"))
    assert LocalJobStore().path == tmp_path / "elsewhere.json"


def test_list_is_newest_first_with_filters_paging_and_a_total(store):
    for i in range(10):
        store.record(job(i, status=RUNNING if i in (3, 7) else DONE, backend="fake_fez" if i % 2 else "fake_manila"))
    page, total = store.list(limit=4)
    assert [r.id for r in page] == ["local-0009", "local-0008", "local-0007", "local-0006"] and total == 10
    page, total = store.list(limit=4, offset=8)
    assert [r.id for r in page] == ["local-0001", "local-0000"] and total == 10
    page, total = store.list(pending=True)
    assert [r.id for r in page] == ["local-0007", "local-0003"] and total == 2
    page, total = store.list(backend="fake_fez", limit=2)
    assert [r.id for r in page] == ["local-0009", "local-0007"] and total == 5
    assert store.get("local-0003").status == RUNNING and store.get("nope") is None


def test_update_changes_fields_but_never_a_final_status(store):
    store.record(job(1, status=QUEUED))
    assert store.update("local-0001", status=RUNNING, started="t1").started == "t1"
    assert store.request_cancel("local-0001") == CANCELLED
    after = store.update("local-0001", status=DONE, finished="t2")  # the kernel finishes after the cancel
    assert after.status == CANCELLED and store.get("local-0001").status == CANCELLED
    with pytest.raises(JobNotFound, match="nope"):
        store.update("nope", status=DONE)


def test_cancel_of_a_finished_job_is_a_one_line_error(store):
    store.record(job(1, status=DONE))
    with pytest.raises(JobNotCancellable) as caught:
        store.request_cancel("local-0001")
    assert "already DONE" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(JobNotFound):
        store.request_cancel("local-9999")


def test_bounded_to_the_last_n_and_keep_from_the_environment(tmp_path, monkeypatch):
    small = LocalJobStore(tmp_path / "jobs.json", keep=3)
    for i in range(5):
        small.record(job(i))
    page, total = small.list()
    assert total == 3 and [r.id for r in page] == ["local-0004", "local-0003", "local-0002"]
    monkeypatch.setenv("QCONNECTOR_JOBS_KEEP", "7")
    assert LocalJobStore(tmp_path / "x.json").keep == 7
    monkeypatch.setenv("QCONNECTOR_JOBS_KEEP", "lots")
    with pytest.raises(ValueError, match="QCONNECTOR_JOBS_KEEP"):
        LocalJobStore(tmp_path / "x.json")
    monkeypatch.delenv("QCONNECTOR_JOBS_KEEP")
    assert LocalJobStore(tmp_path / "x.json").keep == 200


def test_the_file_is_private_and_a_damaged_file_does_not_break_the_store(store):
    store.record(job(1))
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    store.path.write_text("{half a fil")
    assert store.list() == ([], 0)
    store.record(job(2))
    assert [r.id for r in store.list()[0]] == ["local-0002"]


WRITER = textwrap.dedent("""
    import sys
    from qiskit_connector_lab.jobs import JobRecord, LocalJobStore
    store = LocalJobStore(sys.argv[1], keep=1000)
    for i in range(60):
        store.record(JobRecord(id=f"{sys.argv[2]}-{i}", backend="fake_manila", primitive="sampler", status="QUEUED"))
        store.update(f"{sys.argv[2]}-{i}", status="DONE")
""")


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "jobs.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name], env=env) for name in ("a", "b", "c")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    records, total = LocalJobStore(path, keep=1000).list(limit=1000)
    assert total == 180 and all(r.status == DONE for r in records)


RECORD_AND_EXIT = textwrap.dedent("""
    import sys
    from qiskit_connector_lab.jobs import JobRecord, LocalJobStore
    store = LocalJobStore(sys.argv[1])
    store.record(JobRecord(id="gone-1", backend="fake_manila", primitive="sampler", status="QUEUED"))
    store.record(JobRecord(id="gone-2", backend="fake_manila", primitive="sampler", status="QUEUED"))
    store.update("gone-2", status="RUNNING")
""")


def test_a_pending_job_of_a_kernel_that_stopped_is_an_error(tmp_path):
    """A kernel that records jobs and exits (restart, kill) before they finish: they are ERROR, saved so; the
    pending job of a running process stays pending."""
    path = tmp_path / "jobs.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", RECORD_AND_EXIT, str(path)], env=env, check=True, timeout=120)
    store = LocalJobStore(path)
    store.record(job(1, QUEUED))  # this process: running
    pending, total = store.list(pending=True)
    assert [r.id for r in pending] == ["local-0001"] and total == 1
    for job_id in ("gone-1", "gone-2"):
        record = store.get(job_id)
        assert (record.status, record.error) == ("ERROR", "the kernel that ran it stopped before it finished")
        assert record.finished is not None
    saved = {entry["id"]: entry for entry in json.loads(path.read_text())["jobs"]}
    assert saved["gone-1"]["status"] == saved["gone-2"]["status"] == "ERROR"  # persisted, not only reported
    assert saved["local-0001"]["status"] == QUEUED and saved["local-0001"]["owner"]["pid"] == os.getpid()
    with pytest.raises(JobNotCancellable):
        store.request_cancel("gone-1")


def test_a_reused_process_id_is_not_the_owner(store):
    """The owner's process id now names another process (another start time): the job's kernel stopped."""
    store.record(job(1, RUNNING))
    data = json.loads(store.path.read_text())
    data["jobs"][0]["owner"]["start"] = "another-boot:1"
    store.path.write_text(json.dumps(data))
    if sys.platform.startswith("linux"):
        assert store.get("local-0001").status == "ERROR"
    data["jobs"][0].update(status=RUNNING, owner={"pid": os.getpid(), "host": "another-host", "start": "x"})
    store.path.write_text(json.dumps(data))
    assert store.get("local-0001").status == RUNNING  # another host's process: unknown here, left pending


HOLD_LOCK = textwrap.dedent("""
    import fcntl, os, select, sys
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("holding", flush=True)
    select.select([sys.stdin], [], [], 30)  # until told, or 30 s: a store that waits forever fails, not hangs
""")


@pytest.mark.skipif(sys.platform == "win32", reason="the file lock is POSIX")
def test_a_store_locked_too_long_is_a_one_line_error_not_a_hang(store, monkeypatch):
    """Another process holds the store's lock (a hung kernel): a change gives up after the wait, in one line naming
    the file and the fix, and works again once the lock is free."""
    from qiskit_connector_lab.jobs import JobStoreBusy, local_store

    monkeypatch.setattr(local_store, "LOCK_WAIT_SECONDS", 0.3)
    store.record(job(1, QUEUED))
    lock_file = store.path.with_name("jobs.json.lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        for change in (lambda: store.record(job(2)), lambda: store.update("local-0001", status=RUNNING)):
            with pytest.raises(JobStoreBusy) as caught:
                change()
            text = str(caught.value)
            assert "\n" not in text and str(store.path) in text and "QCONNECTOR_JOBS_FILE" in text
        assert store.get("local-0001").status == QUEUED  # reading needs no lock
    finally:
        holder.communicate("", timeout=60)
    assert store.update("local-0001", status=RUNNING).status == RUNNING
