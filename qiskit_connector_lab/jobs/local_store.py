"""The local job store: one per-user JSON file where every kernel records the jobs it runs on the local fleet.

The server (another process) reads it to list the jobs of every kernel, and writes a cancel request into it; a
kernel's local job that has not started yet honours that request, and one that is running discards its result.

* Where: ``QCONNECTOR_JOBS_FILE`` if set, else ``jobs.json`` next to the pick store (see :mod:`..pick`: the
  Jupyter data directory's ``qiskit-connector-lab/``, or the folder of ``QCONNECTOR_PICK_FILE``).
* Safe: every change is a read-modify-write under an exclusive ``fcntl`` lock on ``jobs.json.lock`` (so two
  kernels writing at once lose nothing), written to a temporary file and ``os.replace``-d (a reader never sees half
  a file). The file's mode is 0600: the jobs are the user's.
* Never stuck: a change waits at most ``LOCK_WAIT_SECONDS`` (5 s) for the lock, then raises a one-line
  :class:`JobStoreBusy` naming the file.
* Bounded: the last N jobs are kept, N from ``keep=``, else ``QCONNECTOR_JOBS_KEEP``, else 200.
* Owned: each record names the process that recorded it (pid, host, start token: :mod:`.owners`). A QUEUED or
  RUNNING job whose process is known to have stopped (its kernel was restarted or killed) is reported, and saved,
  as ERROR "the kernel that ran it stopped before it finished" by :meth:`LocalJobStore.list` and ``get``.
* A final status is final: once a job is DONE, ERROR or CANCELLED, :meth:`LocalJobStore.update` does not change
  its status again (a job that finishes after its cancel was recorded stays CANCELLED).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ConnectorError
from .owners import STOPPED_ERROR, owner_stopped, this_process
from .records import (
    CANCELLED,
    ERROR,
    FINAL_STATUSES,
    PENDING_STATUSES,
    QUEUED,
    RUNNING,
    JobNotCancellable,
    JobNotFound,
    JobRecord,
    now_iso,
)

try:  # POSIX; elsewhere the store is safe between the threads of one process only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

JOBS_FILE_VARIABLE = "QCONNECTOR_JOBS_FILE"
JOBS_KEEP_VARIABLE = "QCONNECTOR_JOBS_KEEP"
DEFAULT_KEEP = 200
LOCK_WAIT_SECONDS = 5.0  # the longest a change waits for the file lock (a change takes milliseconds)
_FORMAT = 1

_thread_lock = threading.RLock()  # flock is per open file: threads of one process also need to take turns


class JobStoreBusy(ConnectorError):
    """The store's file lock was not free within LOCK_WAIT_SECONDS: a process holds it (or hangs holding it)."""

    code = "job_store_busy"


def jobs_file() -> Path:
    named = os.environ.get(JOBS_FILE_VARIABLE)
    if named:
        return Path(named).expanduser()
    from ..pick import pick_file

    return pick_file().parent / "jobs.json"


def _keep_from_environment() -> int:
    from ..variables import count_from_environment

    keep = count_from_environment(JOBS_KEEP_VARIABLE, "200")
    return DEFAULT_KEEP if keep is None else keep


class LocalJobStore:
    """The jobs that kernels ran on the local fleet, newest last in the file, newest first in :meth:`list`."""

    def __init__(self, path: str | os.PathLike[str] | None = None, keep: int | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else jobs_file()
        if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 1):
            raise ValueError(f"keep is {keep!r}; use a whole number >= 1, or None for {JOBS_KEEP_VARIABLE}.")
        self.keep = keep if keep is not None else _keep_from_environment()

    def __repr__(self) -> str:
        return f"LocalJobStore({str(self.path)!r}, keep={self.keep})"

    # -- file ------------------------------------------------------------------------------------------------
    def _busy(self, lock_file: Path) -> JobStoreBusy:
        return JobStoreBusy(
            f"The local job store {self.path} stayed locked for {LOCK_WAIT_SECONDS:g} s (by another kernel or the "
            f"Jupyter server): try again; if it stays locked, stop the process holding {lock_file} "
            f"or set {JOBS_FILE_VARIABLE} to another file."
        )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The store to oneself, for at most LOCK_WAIT_SECONDS of waiting (then a one-line JobStoreBusy)."""
        lock_file = self.path.with_name(self.path.name + ".lock")
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        if not _thread_lock.acquire(timeout=LOCK_WAIT_SECONDS):
            raise self._busy(lock_file)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if fcntl is None:  # pragma: no cover
                yield
                return
            fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                pause = 0.005
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise self._busy(lock_file) from None
                        time.sleep(min(pause, left))
                        pause = min(pause * 2, 0.05)
                yield
            finally:
                os.close(fd)  # closing releases the lock
        finally:
            _thread_lock.release()

    def _read(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []  # unreadable: start again rather than fail every job (the next write replaces it)
        jobs = data.get("jobs") if isinstance(data, dict) else None
        return (
            [j for j in jobs if isinstance(j, dict) and isinstance(j.get("id"), str)] if isinstance(jobs, list) else []
        )

    def _write(self, jobs: list[dict[str, Any]]) -> None:
        jobs = jobs[-self.keep :]
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".jobs-", suffix=".json")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"format": _FORMAT, "jobs": jobs}, handle, separators=(",", ":"))
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @staticmethod
    def _records(jobs: list[dict[str, Any]]) -> list[JobRecord]:
        records = []
        for entry in jobs:
            try:
                records.append(JobRecord.from_dict(entry))
            except (TypeError, ValueError):
                continue  # a damaged entry: skip it, keep the others
        return records

    # -- API -------------------------------------------------------------------------------------------------
    @staticmethod
    def _settle_stopped(jobs: list[dict[str, Any]]) -> bool:
        """Turn the pending jobs whose owner process stopped into ERROR, in place; True if any was."""
        changed = False
        stopped: dict[tuple[Any, ...], bool] = {}  # one probe per process
        for entry in jobs:
            owner = entry.get("owner")
            if entry.get("status") not in PENDING_STATUSES or not isinstance(owner, dict):
                continue
            key = (owner.get("pid"), owner.get("host"), owner.get("start"))
            if key not in stopped:
                stopped[key] = owner_stopped(owner)
            if stopped[key]:
                entry.update(status=ERROR, finished=now_iso(), error=STOPPED_ERROR)
                changed = True
        return changed

    def _read_settled(self) -> list[dict[str, Any]]:
        """The jobs, the pending ones of a stopped kernel turned ERROR (and saved so)."""
        jobs = self._read()
        if not self._settle_stopped([dict(entry) for entry in jobs]):
            return jobs  # the usual case: no lock taken
        with self._locked():
            jobs = self._read()
            if self._settle_stopped(jobs):
                self._write(jobs)
            return jobs

    def record(self, job: JobRecord) -> JobRecord:
        """Add ``job`` (or replace the record with the same id), owned by this process. Older jobs beyond the last
        N are dropped."""
        entry = dict(job.as_dict(), owner=this_process())
        with self._locked():
            jobs = self._read()
            for index, existing in enumerate(jobs):
                if existing.get("id") == job.id:
                    jobs[index] = entry  # the same job again: keep its place
                    break
            else:
                jobs.append(entry)
            self._write(jobs)
        return job

    def update(self, job_id: str, **fields: Any) -> JobRecord:
        """Change some fields of a job; returns the stored record. A final status is never changed again."""
        with self._locked():
            jobs = self._read()
            for index, entry in enumerate(jobs):
                if entry.get("id") == job_id:
                    current = JobRecord.from_dict(entry)
                    if current.status in FINAL_STATUSES and fields.get("status", current.status) != current.status:
                        return current  # e.g. a job cancelled from the sidebar finishes: it stays CANCELLED
                    updated = current.with_fields(**fields)
                    jobs[index] = dict(entry, **updated.as_dict())  # keeps the owner
                    self._write(jobs)
                    return updated
        raise JobNotFound(f"No local job has the id {job_id!r} (the store keeps the last {self.keep} jobs).")

    def get(self, job_id: str) -> JobRecord | None:
        for record in self._records(self._read_settled()):
            if record.id == job_id:
                return record
        return None

    def list(
        self, pending: bool = False, backend: str | None = None, limit: int = 20, offset: int = 0
    ) -> tuple[list[JobRecord], int]:
        """(a page of jobs, newest first; the number of jobs that match the filters)."""
        records = self._records(self._read_settled())
        records.reverse()
        if pending:
            records = [r for r in records if r.status in PENDING_STATUSES]
        if backend:
            records = [r for r in records if r.backend == backend]
        offset = max(0, int(offset))
        limit = max(0, int(limit))
        return records[offset : offset + limit], len(records)

    def request_cancel(self, job_id: str) -> str:
        """Cancel a QUEUED or RUNNING job; returns its status now ("CANCELLED").

        The kernel that runs it sees the request: a job that has not started never runs, a running one discards
        its result. Raises :class:`JobNotCancellable` (HTTP 409) for a job that already finished, and
        :class:`JobNotFound` for an unknown id.
        """
        with self._locked():
            jobs = self._read()
            if self._settle_stopped(jobs):
                self._write(jobs)  # a job whose kernel stopped is ERROR: nothing left to cancel
            for index, entry in enumerate(jobs):
                if entry.get("id") == job_id:
                    current = JobRecord.from_dict(entry)
                    if current.status not in (QUEUED, RUNNING):
                        raise JobNotCancellable(job_id, current.status)
                    jobs[index] = dict(entry, **current.with_fields(status=CANCELLED, finished=now_iso()).as_dict())
                    self._write(jobs)
                    return CANCELLED
        raise JobNotFound(f"No local job has the id {job_id!r} (the store keeps the last {self.keep} jobs).")
