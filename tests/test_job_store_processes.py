"""The local job store between real processes: many writers at once, a writer killed in the middle of its writes,
and the one-time migration of the JSON file of earlier versions (today's format, copied here)."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from qiskit_connector_lab.jobs import DONE, ERROR, QUEUED, JobRecord, LocalJobStore
from qiskit_connector_lab.jobs.owners import this_process

ROOT = Path(__file__).resolve().parent.parent
WRITERS, JOBS_EACH = 12, 50
#: Real processes: forked where the OS can (quick to start: no re-import), else spawned.
CONTEXT = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def write_jobs(path: str, name: str, start: multiprocessing.synchronize.Barrier) -> None:
    """One writer (a kernel): records its jobs QUEUED, then DONE, as fast as it can, all writers at once."""
    store = LocalJobStore(path, keep=1000)
    start.wait(timeout=120)
    for i in range(JOBS_EACH):
        store.record(JobRecord(id=f"{name}-{i}", backend="fake_fez", primitive="sampler", status=QUEUED, shots=100))
        store.update(f"{name}-{i}", status=DONE, finished="2026-12-01T00:00:00+00:00")


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def test_twelve_processes_writing_fifty_jobs_each_at_once_lose_none(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    context = multiprocessing.get_context(CONTEXT)
    start = context.Barrier(WRITERS)
    writers = [context.Process(target=write_jobs, args=(str(path), f"w{n}", start)) for n in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
    assert [w.exitcode for w in writers] == [0] * WRITERS
    records, total = LocalJobStore(path, keep=1000).list(limit=1000)
    assert total == WRITERS * JOBS_EACH and len({r.id for r in records}) == WRITERS * JOBS_EACH
    assert all(r.status == DONE for r in records)
    assert integrity(path) == "ok"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("jobs.sqlite3")) == []  # no temp copies


KEEP_WRITING = textwrap.dedent("""
    import sys
    from qiskit_connector_lab.jobs import JobRecord, LocalJobStore
    store = LocalJobStore(sys.argv[1], keep=10000)
    for i in range(100000):
        store.record(JobRecord(id=f"k-{i}", backend="fake_fez", primitive="sampler", status="QUEUED", tags=("x",) * 50))
        print(f"k-{i}", flush=True)  # printed once committed
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_writer_killed_in_the_middle_of_its_writes_leaves_every_committed_job(tmp_path):
    """kill -9 of a kernel writing as fast as it can, three times: the store stays readable and holds every job
    the writer had been told was committed; that writer's jobs are ERROR (its kernel stopped); no copies left."""
    path = tmp_path / "jobs.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    committed: list[str] = []
    for round in range(3):
        writer = subprocess.Popen(
            [sys.executable, "-c", KEEP_WRITING, str(path)], stdout=subprocess.PIPE, text=True, env=env
        )
        try:
            lines = [writer.stdout.readline().strip() for _ in range(40 + 30 * round)]
        finally:
            writer.send_signal(signal.SIGKILL)  # in the middle of the next write, most likely
            writer.wait(timeout=60)
        committed.extend(lines + [line.strip() for line in writer.stdout if line.strip()])
        writer.stdout.close()
        assert integrity(path) == "ok"
    records, _total = LocalJobStore(path, keep=10000).list(limit=10000)
    stored = {r.id: r.status for r in records}
    assert set(committed) <= set(stored)  # k-0.. of each round: a later round replaced the same ids
    assert set(stored.values()) == {ERROR}
    assert {p.name for p in tmp_path.iterdir()} <= {"jobs.db", "jobs.db-wal", "jobs.db-shm"}


def old_entry(i: int, status: str, owner: dict | None = None, **changes) -> dict:
    """One entry of today's jobs.json, as JobRecord.as_dict() plus the owner wrote it."""
    entry = {
        "id": f"old-{i}",
        "backend": "fake_manila",
        "primitive": "sampler",
        "status": status,
        "created": f"2026-11-30T20:00:{i:02d}.000000+00:00",
        "started": None,
        "finished": None if status in ("QUEUED", "RUNNING") else "2026-11-30T20:01:00+00:00",
        "shots": 1024,
        "pubs": 1,
        "tags": ["class-3"],
        "session_id": None,
        "error": None,
        "provider": "local",
        "owner": owner or {"pid": os.getpid(), "host": this_process()["host"], "start": this_process()["start"]},
    }
    entry.update(changes)
    return entry


def dead_owner() -> dict:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return {"pid": int(child.stdout), "host": this_process()["host"], "start": "gone:1"}


def old_file(path: Path, entries: list[dict]) -> bytes:
    """Written as the JSON store of earlier versions wrote it: {"format": 1, "jobs": [...]}, compact, oldest first."""
    data = json.dumps({"format": 1, "jobs": entries}, separators=(",", ":")).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


DAMAGED = [
    {"owner": {"pid": 2**31, "host": "h", "start": None}},
    {"status": "BOGUS"},
    {"backend": None},
    {"tags": 5},
    {"shots": 10**30},
    {"pubs": "one"},
]


def listed_in_a_new_process(env: dict) -> list[list[str]]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from qiskit_connector_lab.jobs import LocalJobStore; "
            "print(json.dumps([[r.id, r.status] for r in LocalJobStore().list(limit=100)[0]]))",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)


def test_an_old_jobs_json_is_migrated_once_then_renamed_aside(tmp_path, monkeypatch, caplog):
    """Today's jobs.json beside the pick: its valid jobs imported in order (the damaged ones skipped with a note),
    the file renamed to jobs.json.migrated byte for byte, the dead kernel's job ERROR; a later process (or a later
    change) never imports it again; a stale temporary copy of the old writer is removed."""
    picks = tmp_path / "picks"
    monkeypatch.setenv("QCONNECTOR_PICK_FILE", str(picks / "pick.json"))
    monkeypatch.delenv("QCONNECTOR_JOBS_FILE", raising=False)
    entries = [old_entry(1, "DONE"), old_entry(2, "RUNNING", dead_owner()), old_entry(3, "QUEUED")]
    entries += [{**old_entry(10 + n, "DONE"), **damage} for n, damage in enumerate(DAMAGED)]
    before = old_file(picks / "jobs.json", entries)
    stale = picks / ".jobs-abc123.json"
    stale.write_text("{}")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    store = LocalJobStore()
    assert store.path == picks / "jobs.sqlite3"
    records, total = store.list()
    assert [(r.id, r.status) for r in records] == [("old-3", QUEUED), ("old-2", ERROR), ("old-1", DONE)]
    assert total == 3 and records[0].tags == ("class-3",) and records[2].created == "2026-11-30T20:00:01.000000+00:00"
    assert not (picks / "jobs.json").exists() and (picks / "jobs.json.migrated").read_bytes() == before
    assert not stale.exists()
    notes = " ".join(r.getMessage() for r in caplog.records)
    assert "imported 3 jobs" in notes and "6 damaged entries skipped" in notes
    assert store.request_cancel("old-3") == "CANCELLED"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    assert listed_in_a_new_process(env) == [["old-3", "CANCELLED"], ["old-2", "ERROR"], ["old-1", "DONE"]]


def test_an_old_json_file_named_by_the_variable_is_migrated_in_place(tmp_path, monkeypatch):
    path = tmp_path / "jobs.json"
    monkeypatch.setenv("QCONNECTOR_JOBS_FILE", str(path))
    before = old_file(path, [old_entry(1, "DONE"), old_entry(2, "QUEUED")])
    assert [r.id for r in LocalJobStore().list()[0]] == ["old-2", "old-1"]
    assert path.read_bytes()[:16] == b"SQLite format 3\x00" and (tmp_path / "jobs.json.migrated").read_bytes() == before


def test_a_damaged_old_file_is_kept_aside_not_discarded(tmp_path, monkeypatch, caplog):
    picks = tmp_path / "picks"
    monkeypatch.setenv("QCONNECTOR_PICK_FILE", str(picks / "pick.json"))
    monkeypatch.delenv("QCONNECTOR_JOBS_FILE", raising=False)
    truncated = old_file(picks / "jobs.json", [old_entry(1, "DONE")])[:40]
    (picks / "jobs.json").write_bytes(truncated)
    assert LocalJobStore().list() == ([], 0)
    aside = [p for p in picks.iterdir() if p.name.startswith("jobs.json.damaged-")]
    assert len(aside) == 1 and aside[0].read_bytes() == truncated
    assert any("kept aside" in r.getMessage() for r in caplog.records)


def open_store(pick_file: str, start: multiprocessing.synchronize.Barrier) -> None:
    os.environ["QCONNECTOR_PICK_FILE"] = pick_file
    os.environ.pop("QCONNECTOR_JOBS_FILE", None)
    start.wait(timeout=120)
    LocalJobStore(keep=1000).list()


def test_processes_opening_the_store_at_once_import_the_old_file_once(tmp_path):
    picks = tmp_path / "picks"
    old_file(picks / "jobs.json", [old_entry(i, "DONE") for i in range(100)])
    context = multiprocessing.get_context(CONTEXT)
    start = context.Barrier(4)
    openers = [context.Process(target=open_store, args=(str(picks / "pick.json"), start)) for _ in range(4)]
    for opener in openers:
        opener.start()
    for opener in openers:
        opener.join(timeout=300)
    assert [o.exitcode for o in openers] == [0] * 4
    records, total = LocalJobStore(picks / "jobs.sqlite3", keep=1000).list(limit=1000)
    assert total == 100 and [r.id for r in records] == [f"old-{i}" for i in range(99, -1, -1)]
    assert sorted(p.name for p in picks.iterdir() if "migrated" in p.name) == ["jobs.json.migrated"]
