"""The local job store: records, paging and filters, cancel requests, bounds, file mode, and writers at once.

(Many processes at once, a writer killed in the middle, and the migration of an old ``jobs.json``:
tests/test_job_store_processes.py.)"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from store_lock import HOLD_WRITE

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


def raw(path, sql, *args):
    """What the database holds, read with sqlite3 itself (not through the store)."""
    with sqlite3.connect(path) as connection:
        return connection.execute(sql, args).fetchall()


def test_the_file_lives_next_to_the_pick_store(tmp_path, monkeypatch):
    from qiskit_connector_lab import paths

    monkeypatch.delenv("QCONNECTOR_JOBS_FILE", raising=False)
    monkeypatch.setenv("QCONNECTOR_PICK_FILE", str(tmp_path / "picks" / "pick.json"))
    assert jobs_file() == paths.job_store_file() == tmp_path / "picks" / "jobs.sqlite3"
    assert paths.legacy_jobs_file() == tmp_path / "picks" / "jobs.json"
    monkeypatch.setenv("QCONNECTOR_JOBS_FILE", str(tmp_path / "elsewhere.db"))
    assert LocalJobStore().path == tmp_path / "elsewhere.db" and paths.legacy_jobs_file() is None
    monkeypatch.delenv("QCONNECTOR_PICK_FILE")
    monkeypatch.delenv("QCONNECTOR_JOBS_FILE")
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    assert jobs_file() == tmp_path / "data" / "qiskit-connector-lab" / "jobs.sqlite3"


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


def test_the_keep_limit_is_bounded(tmp_path, monkeypatch):
    """QCONNECTOR_JOBS_KEEP (and keep=) above 10,000 is one line naming it and the bound, not a slow store."""
    from qiskit_connector_lab.errors import ConfigError

    monkeypatch.setenv("QCONNECTOR_JOBS_KEEP", "10000")
    assert LocalJobStore(tmp_path / "x.db").keep == 10_000
    monkeypatch.setenv("QCONNECTOR_JOBS_KEEP", "100000")
    with pytest.raises(ConfigError) as caught:
        LocalJobStore(tmp_path / "x.db")
    text = str(caught.value)
    assert text.startswith("QCONNECTOR_JOBS_KEEP: is 100000") and "10000" in text and "\n" not in text
    with pytest.raises(ValueError, match="from 1 to 10000"):
        LocalJobStore(tmp_path / "x.db", keep=10_001)


def test_ten_submissions_with_keep_five_lose_no_queued_job(tmp_path, monkeypatch):
    """The keep rule drops the oldest finished jobs only: ten queued jobs stay, all cancellable; once they finish,
    the newest five are kept."""
    monkeypatch.setenv("QCONNECTOR_JOBS_KEEP", "5")
    store = LocalJobStore(tmp_path / "jobs.db")
    store.record(job(100, DONE))
    for i in range(10):
        store.record(job(i, QUEUED))
    page, total = store.list(pending=True, limit=50)
    assert total == 10 and {r.id for r in page} == {f"local-{i:04d}" for i in range(10)}
    assert store.list(limit=50)[1] == 11  # the finished one is kept too: five finished jobs are allowed
    assert store.request_cancel("local-0000") == CANCELLED
    for i in range(1, 10):
        store.update(f"local-{i:04d}", status=DONE)
    page, total = store.list(limit=50)
    assert total == 5 and [r.id for r in page] == [f"local-{i:04d}" for i in range(9, 4, -1)]


def test_the_file_is_private_and_in_wal_mode(store):
    store.record(job(1))
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert raw(store.path, "PRAGMA journal_mode") == [("wal",)]


@pytest.mark.parametrize("damage", ["pages", "not a database"])
def test_a_damaged_database_is_kept_aside_with_a_note(tmp_path, caplog, damage):
    """A database whose pages are damaged, or a file that is no database at all (nor an old JSON store): renamed
    aside with a logged note (not discarded), and the store starts afresh without a traceback."""
    path = tmp_path / "jobs.db"
    if damage == "pages":
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE filler (x)")
            connection.executemany("INSERT INTO filler VALUES (?)", [(os.urandom(200),) for _ in range(400)])
        connection.close()
        data = bytearray(path.read_bytes())
        data[4096 : 4096 * 3] = b"\x07" * (4096 * 2)
        path.write_bytes(bytes(data))
    else:
        path.write_bytes(b"\x00\x01 not a database " * 100)
    before = path.read_bytes()
    store = LocalJobStore(path)
    assert store.list() == ([], 0)
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("jobs.db.damaged-")]
    assert len(aside) == 1 and aside[0].read_bytes() == before  # kept, byte for byte
    assert any("kept aside" in r.getMessage() and aside[0].name in r.getMessage() for r in caplog.records)
    store.record(job(2))
    assert [r.id for r in store.list()[0]] == ["local-0002"]


def test_a_store_removed_while_in_use_is_made_again(store):
    store.record(job(1))
    for part in store.path.parent.iterdir():
        part.unlink()
    store.record(job(2))
    assert [r.id for r in store.list()[0]] == ["local-0002"]
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


def test_a_symbolic_link_is_never_written_through(tmp_path):
    """The database, or its -wal file, as a link: one line naming the variable and the fix; the target untouched."""
    from qiskit_connector_lab.errors import ConfigError

    target = tmp_path / "precious.txt"
    target.write_text("mine")
    link = tmp_path / "jobs.db"
    link.symlink_to(target)
    for path in (link, tmp_path / "other.db"):
        if path != link:
            (tmp_path / "other.db-wal").symlink_to(target)
        with pytest.raises(ConfigError) as caught:
            LocalJobStore(path).record(job(1))
        assert "symbolic link" in str(caught.value) and "QCONNECTOR_JOBS_FILE" in str(caught.value)
        assert "\n" not in str(caught.value)
    assert target.read_text() == "mine" and not (tmp_path / "other.db").exists()


def test_damaged_records_are_skipped_never_raised(store, caplog):
    """Rows damaged in the database (an owner pid of 2**31, tags that are not a list, text shots): listed without
    them, get gives None, cancel says not found; every other job still works."""
    from qiskit_connector_lab.jobs.owners import owner_stopped

    for i in range(4):
        store.record(job(i, QUEUED))
    with sqlite3.connect(store.path) as connection:
        connection.execute("UPDATE jobs SET owner_pid = ? WHERE id = 'local-0000'", (2**31,))
        connection.execute("UPDATE jobs SET tags = '5' WHERE id = 'local-0001'")
        connection.execute("UPDATE jobs SET shots = 'lots' WHERE id = 'local-0002'")
    assert owner_stopped({"pid": 2**31, "host": os.uname().nodename, "start": None}) is False  # no OverflowError
    assert owner_stopped({"pid": 10**30, "host": "x", "start": 5}) is False
    page, total = store.list(limit=10)
    assert [r.id for r in page] == ["local-0003"] and total == 4
    for damaged in ("local-0000", "local-0001", "local-0002"):
        assert store.get(damaged) is None
        with pytest.raises(JobNotFound):
            store.request_cancel(damaged)
    assert store.request_cancel("local-0003") == CANCELLED
    notes = [r.getMessage() for r in caplog.records if "damaged record" in r.getMessage()]
    assert len(notes) == 3  # one note per damaged record, not one per listing


def test_a_record_checks_its_fields():
    for bad in ({"tags": 5}, {"tags": "abc"}, {"shots": 10**30}, {"shots": "100"}, {"pubs": True}, {"id": ""}):
        with pytest.raises((TypeError, ValueError)):
            JobRecord.from_dict({**job(1).as_dict(), **bad})
    with pytest.raises((TypeError, ValueError)):
        JobRecord.from_dict({"id": "x", "primitive": "sampler", "status": "QUEUED"})  # no backend
    with pytest.raises(ValueError):
        JobRecord.from_dict({**job(1).as_dict(), "status": "BOGUS"})
    assert len(job(1, error="e" * 50_000).error) == 2000  # a long error is cut, the job's end still recorded


WRITER = textwrap.dedent("""
    import sys
    from qiskit_connector_lab.jobs import JobRecord, LocalJobStore
    store = LocalJobStore(sys.argv[1], keep=1000)
    for i in range(60):
        store.record(JobRecord(id=f"{sys.argv[2]}-{i}", backend="fake_manila", primitive="sampler", status="QUEUED"))
        store.update(f"{sys.argv[2]}-{i}", status="DONE")
""")


def test_three_processes_writing_at_once_lose_nothing(tmp_path):
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
    saved = {i: (s, p) for i, s, p in raw(path, "SELECT id, status, owner_pid FROM jobs")}
    assert saved["gone-1"][0] == saved["gone-2"][0] == "ERROR"  # persisted, not only reported
    assert saved["local-0001"] == (QUEUED, os.getpid())
    with pytest.raises(JobNotCancellable):
        store.request_cancel("gone-1")


def test_a_reused_process_id_is_not_the_owner(store):
    """The owner's process id now names another process (another start time): the job's kernel stopped."""
    store.record(job(1, RUNNING))
    raw(store.path, "UPDATE jobs SET owner_start = 'another-boot:1'")
    if sys.platform.startswith("linux"):
        assert store.get("local-0001").status == "ERROR"
    raw(store.path, "UPDATE jobs SET status = 'RUNNING', owner_host = 'another-host', owner_start = 'x'")
    assert store.get("local-0001").status == RUNNING  # another host's process: unknown here, left pending


def test_a_store_busy_too_long_is_a_one_line_error_not_a_hang(store, monkeypatch):
    """Another process holds the write lock (a hung kernel): a change gives up after the wait, in one line naming
    the file and the fix, reads go on meanwhile, and changes work again once it is free."""
    from qiskit_connector_lab.jobs import JobStoreBusy, local_store

    monkeypatch.setattr(local_store, "BUSY_TIMEOUT_SECONDS", 0.3)
    store.record(job(1, QUEUED))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE, str(store.path), "30"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        for change in (lambda: store.record(job(2)), lambda: store.update("local-0001", status=RUNNING)):
            with pytest.raises(JobStoreBusy) as caught:
                change()
            text = str(caught.value)
            assert "\n" not in text and str(store.path) in text and "QCONNECTOR_JOBS_FILE" in text
        assert store.get("local-0001").status == QUEUED  # reading needs no lock (WAL)
    finally:
        holder.communicate("", timeout=60)
    assert store.update("local-0001", status=RUNNING).status == RUNNING


def test_a_store_busy_for_a_moment_still_records_the_job(store):
    """A writer holding the lock for half a second: the job waits for it (well within the bound) and is recorded."""
    store.record(job(1, QUEUED))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE, str(store.path), "0.5"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        store.record(job(2, QUEUED))
        assert holder.stdout.readline().strip() == "released"  # it really waited for the other writer
    finally:
        holder.communicate(timeout=60)
    assert store.get("local-0002").status == QUEUED
