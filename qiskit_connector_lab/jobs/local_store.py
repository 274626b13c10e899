"""The local job store: one per-user SQLite database where every kernel records the jobs it runs on the local fleet.

The server (another process) reads it to list the jobs of every kernel, and writes a cancel request into it; a
kernel's local job that has not started yet honours that request, and one that is running discards its result.

* Where: :func:`~qiskit_connector_lab.paths.job_store_file` (``QCONNECTOR_JOBS_FILE`` if set, else ``jobs.sqlite3``
  next to the pick file). The file and its ``-wal``/``-shm`` companions are refused, in one line, if one is a
  symbolic link or not a regular file; the folder is made 0700 and the database 0600 (the jobs are the user's).
* Safe between processes on every OS: SQLite's own locking (no ``fcntl``), in WAL mode, so readers never wait for a
  writer and a writer waits only for another writer's transaction (milliseconds). Every change is one ``BEGIN
  IMMEDIATE`` transaction: a kernel killed in the middle leaves every committed job and nothing half-written.
  ``synchronous=NORMAL``: in WAL mode that survives any crash of a process (a ``kill -9``) with every committed
  transaction; only a power cut or an OS crash may lose the last commits (never corrupt the file), a fair price for
  not syncing the disk on every job update of every kernel. (WAL needs a local disk: not a network file system.)
* Never stuck: a change waits at most ``BUSY_TIMEOUT_SECONDS`` (5 s) for a busy store (SQLite's busy timeout, and a
  retry within the same deadline), then raises a one-line :class:`JobStoreBusy`: a job is recorded, or its caller
  hears so in one line; never silently unrecorded.
* Bounded: the newest N finished jobs are kept, N from ``keep=``, else ``QCONNECTOR_JOBS_KEEP``, else 200, at most
  ``MAX_KEEP`` (10,000); a job that has not finished is never dropped, and at most ``MAX_PENDING`` (10,000) can be
  pending at once (beyond, :class:`JobStoreFull`, one line): never more than 20,000 records.
* Queried in SQL: pending, by QPU, and paging are ``WHERE`` / ``ORDER BY`` / ``LIMIT`` on indexed columns.
* Migrated: the JSON file of earlier versions (``jobs.json`` beside the default database, or a JSON file at the very
  path ``QCONNECTOR_JOBS_FILE`` names) is imported once, then renamed aside to ``<name>.migrated``. A damaged old
  file, or a damaged database, is renamed aside (``<name>.damaged-<UTC time>``) with a logged note, never discarded.
  Those files are :mod:`.migration`'s; the import (SQL) is here.
* Checked: every record is validated (:class:`~.records.JobRecord`, :func:`~.owners.valid_owner`); a damaged one
  is skipped with a logged note, never raises past the store.
* Owned: each record names the process that recorded it (pid, host, start token: :mod:`.owners`). A QUEUED or
  RUNNING job whose process is known to have stopped (its kernel was restarted or killed) is reported, and saved,
  as ERROR "the kernel that ran it stopped before it finished" by :meth:`LocalJobStore.list` and ``get``.
* A final status is final: once a job is DONE, ERROR or CANCELLED, :meth:`LocalJobStore.update` does not change
  its status again (a job that finishes after its cancel was recorded stays CANCELLED).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import sqlite3
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .. import paths
from ..errors import ConfigError, ConnectorError
from . import migration
from .owners import STOPPED_ERROR, owner_stopped, this_process, valid_owner
from .records import (
    CANCELLED,
    ERROR,
    FINAL_STATUSES,
    JOB_STATUSES,
    PENDING_STATUSES,
    QUEUED,
    RUNNING,
    JobNotCancellable,
    JobNotFound,
    JobRecord,
    now_iso,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

JOBS_FILE_VARIABLE = paths.JOBS_FILE_VARIABLE
JOBS_KEEP_VARIABLE = "QCONNECTOR_JOBS_KEEP"
DEFAULT_KEEP = 200
MAX_KEEP = 10_000  # 10,000 records: a few MB, every query still well under a millisecond of SQL
MAX_PENDING = 10_000  # jobs not finished at once (kernels run them one by one: a real user has a handful)
BUSY_TIMEOUT_SECONDS = 5.0  # the longest a change waits for a busy store (a change takes milliseconds)
SETTLE_WAIT_SECONDS = 0.5  # the longest a reader waits to save the jobs of a stopped kernel as ERROR
SCHEMA_VERSION = 1
_SQLITE_HEADER = b"SQLite format 3\x00"
_MAX_SQL_INT = 2**62  # paging numbers beyond this mean "past the end" (SQLite integers are 64-bit)
_COMPANIONS = ("-wal", "-shm", "-journal")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    backend TEXT NOT NULL,
    primitive TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({", ".join(repr(s) for s in JOB_STATUSES)})),
    created TEXT,
    started TEXT,
    finished TEXT,
    shots INTEGER,
    pubs INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]',
    session_id TEXT,
    error TEXT,
    provider TEXT NOT NULL DEFAULT 'local',
    owner_pid INTEGER,
    owner_host TEXT,
    owner_start TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, seq);
CREATE INDEX IF NOT EXISTS jobs_by_backend ON jobs (backend, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_FIELDS = (
    "id",
    "backend",
    "primitive",
    "status",
    "created",
    "started",
    "finished",
    "shots",
    "pubs",
    "tags",
    "session_id",
    "error",
    "provider",
)
_COLUMNS = (*_FIELDS, "owner_pid", "owner_host", "owner_start")
_PENDING_SQL = f"status IN ({', '.join(repr(s) for s in sorted(PENDING_STATUSES))})"
_FINAL_SQL = f"status IN ({', '.join(repr(s) for s in sorted(FINAL_STATUSES))})"

_prepared: set[tuple[int, str]] = set()  # (pid, path) of the stores this process has checked and migrated
_prepare_lock = threading.Lock()
_noted: set[str] = set()  # the damaged records already noted in the log
_CACHED_PER_THREAD = 8  # open connections a thread keeps (closing the last one checkpoints and syncs: slow)
_local = threading.local()
_inherited: list[sqlite3.Connection] = []  # connections of a parent process: never used, never closed, after a fork


class JobStoreBusy(ConnectorError):
    """The store stayed busy for BUSY_TIMEOUT_SECONDS: another process holds a write (or hangs holding it)."""

    code = "job_store_busy"


class JobStoreFull(ConnectorError):
    """MAX_PENDING jobs are already pending: a new one is refused rather than the store growing without bound."""

    code = "job_store_full"


class JobStoreError(ConnectorError):
    """The store cannot be opened or written (permissions, a full disk): one line naming the file and the fix."""

    code = "job_store_error"


def job_store_file() -> Path:
    return paths.job_store_file()


jobs_file = job_store_file  # the name of earlier versions


def _keep_from_environment() -> int:
    from ..variables import count_from_environment

    keep = count_from_environment(JOBS_KEEP_VARIABLE, "200")  # at most MAX_KEEP: the variables table says so
    return DEFAULT_KEEP if keep is None else keep


def _entry_of(record: JobRecord, owner: dict[str, Any] | None) -> tuple[Any, ...]:
    data = record.as_dict()
    data["tags"] = json.dumps(data["tags"], separators=(",", ":"))
    owner = owner if valid_owner(owner) else None
    return (
        *(data[name] for name in _FIELDS),
        owner["pid"] if owner else None,
        owner["host"] if owner else None,
        owner.get("start") if owner else None,
    )


class LocalJobStore:
    """The jobs that kernels ran on the local fleet, newest first in :meth:`list`."""

    def __init__(self, path: str | os.PathLike[str] | None = None, keep: int | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else job_store_file()
        self._named = path is not None or bool(os.environ.get(JOBS_FILE_VARIABLE, "").strip())
        if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or not 1 <= keep <= MAX_KEEP):
            raise ValueError(
                f"keep is {keep!r}; use a whole number from 1 to {MAX_KEEP}, or None for {JOBS_KEEP_VARIABLE}."
            )
        self.keep = keep if keep is not None else _keep_from_environment()

    def __repr__(self) -> str:
        return f"LocalJobStore({str(self.path)!r}, keep={self.keep})"

    # -- the file --------------------------------------------------------------------------------------------
    @property
    def _label(self) -> str:
        named = os.environ.get(JOBS_FILE_VARIABLE, "").strip()
        if named and Path(named).expanduser() == self.path:
            return f"{JOBS_FILE_VARIABLE} ({self.path})"
        return f"The local job store {self.path}"

    def _check_files(self) -> None:
        """Refuse, in one line, a database (or companion) that is a symbolic link or not a regular file."""
        for candidate in (self.path, *(self.path.with_name(self.path.name + s) for s in _COMPANIONS)):
            try:
                info = os.lstat(candidate)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise ConfigError(
                    self._label, f"cannot be checked ({exc.strerror}).", "Fix the folder's permissions."
                ) from None
            shown = "" if candidate == self.path else f" (its {candidate.name})"
            if stat.S_ISLNK(info.st_mode):
                raise ConfigError(
                    self._label,
                    f"is a symbolic link{shown}; the job store is not written through links.",
                    f"Remove the link, or set {JOBS_FILE_VARIABLE} to the real file.",
                )
            if not stat.S_ISREG(info.st_mode):
                raise ConfigError(
                    self._label, f"is not a regular file{shown}.", f"Set {JOBS_FILE_VARIABLE} to an ordinary file."
                )

    def _failure(self, exc: sqlite3.Error) -> ConnectorError:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return JobStoreBusy(
                f"The local job store {self.path} stayed busy for {BUSY_TIMEOUT_SECONDS:g} s (another kernel or the "
                f"Jupyter server holds a write): try again; if it stays busy, stop the process that hangs, "
                f"or set {JOBS_FILE_VARIABLE} to another file."
            )
        return JobStoreError(
            f"The local job store {self.path} cannot be used ({' '.join(str(exc).split())}): check the folder's "
            f"permissions and free disk space, or set {JOBS_FILE_VARIABLE} to another file."
        )

    def _open(self) -> sqlite3.Connection:
        """A connection (autocommit: every write is an explicit transaction); SQLite's errors are the caller's."""
        self._check_files()
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            connection.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            connection.close()
            raise
        return connection

    def _create(self) -> None:
        """The folder (0700) and an empty database file (0600; SQLite gives its -wal and -shm the same mode)."""
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            os.close(os.open(self.path, flags, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise JobStoreError(
                f"The local job store {self.path} cannot be created ({exc.strerror}): fix the folder's permissions, "
                f"or set {JOBS_FILE_VARIABLE} to another file."
            ) from None

    def _header(self) -> tuple[os.stat_result, bytes] | None:
        try:
            info = os.stat(self.path)
            with open(self.path, "rb") as handle:
                return info, handle.read(len(_SQLITE_HEADER))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise JobStoreError(
                f"The local job store {self.path} cannot be read ({exc.strerror}): fix its permissions (chmod 600), "
                f"or set {JOBS_FILE_VARIABLE} to another file."
            ) from None

    def _not_a_database(self) -> None:
        """The file at the store's path is not SQLite: the JSON store of earlier versions (migrated), or damage."""
        found = self._header()
        if found is not None and found[1] and found[1] != _SQLITE_HEADER:
            migration.move_foreign_file(self.path, found[0])

    def _prepare(self) -> None:
        """Once per process and path: set aside what is not a database, create it, check it, migrate old files."""
        key = (os.getpid(), str(self.path))
        if key in _prepared:
            return
        with _prepare_lock:
            if key in _prepared:
                return
            self._check_files()
            self._not_a_database()
            migration.remove_stale_temporaries(self.path)
            self._create()
            for attempt in range(2):
                try:
                    connection = self._open()
                except sqlite3.OperationalError as exc:
                    raise self._failure(exc) from None
                except sqlite3.DatabaseError:
                    healthy = False
                else:
                    try:
                        healthy = self._initialise(connection)
                    finally:
                        connection.close()
                if healthy:
                    break
                if attempt == 1:
                    raise JobStoreError(
                        f"The local job store {self.path} is damaged and could not be set aside: move it away by "
                        f"hand, or set {JOBS_FILE_VARIABLE} to another file."
                    )
                stamp = migration.stamp()
                for suffix in ("", *_COMPANIONS[:2]):
                    part = self.path.with_name(self.path.name + suffix)
                    if part.exists():
                        migration.set_aside_damaged(part, "failed SQLite's integrity check", when=stamp)
                self._create()
            _prepared.add(key)

    def _initialise(self, connection: sqlite3.Connection) -> bool:
        """WAL mode, the schema, and the migration of old JSON files; False if the database is damaged."""
        try:
            if connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                return False
            if connection.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
                raise JobStoreError(
                    f"The local job store {self.path} cannot use SQLite's WAL mode (a network file system?): "
                    f"set {JOBS_FILE_VARIABLE} to a file on a local disk."
                )
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise JobStoreError(
                    f"The local job store {self.path} was written by a newer qiskit-connector-lab (format {version}): "
                    f"upgrade this one, or set {JOBS_FILE_VARIABLE} to another file."
                )
            with self._transaction(connection):
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._migrate(connection)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise self._failure(exc) from None
            return False  # "file is not a database", "database disk image is malformed"
        return True

    @contextlib.contextmanager
    def _transaction(self, connection: sqlite3.Connection, wait: float | None = None) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: the write lock first, so it never deadlocks half-way).

        While another process writes, the lock is asked for again every 0.5-3 ms until BUSY_TIMEOUT_SECONDS have
        passed in all, then the busy error goes up. (SQLite's own busy handler backs off to 100 ms sleeps: under
        12 writers at once that made the slowest writes wait most of a second for a lock held for a millisecond.)
        """
        deadline = time.monotonic() + (BUSY_TIMEOUT_SECONDS if wait is None else wait)
        connection.execute("PRAGMA busy_timeout=0")
        try:
            while True:
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:
                    text = str(exc).lower()
                    if ("locked" not in text and "busy" not in text) or time.monotonic() >= deadline:
                        raise
                    time.sleep(random.uniform(0.0005, 0.003))
        finally:
            connection.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        try:
            yield connection
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _cached(self) -> sqlite3.Connection:
        """This thread's open connection to the store (opened on first use; again if the file was replaced)."""
        cache: OrderedDict[str, tuple[int, int, sqlite3.Connection]] = _local.__dict__.setdefault(
            "cache", OrderedDict()
        )
        key, pid = str(self.path), os.getpid()
        try:
            inode = os.stat(self.path).st_ino
        except OSError:
            inode = -1
        entry = cache.get(key)
        if entry is not None:
            if entry[0] == pid and entry[1] == inode:
                cache.move_to_end(key)
                return entry[2]
            self._forget(entry)
            del cache[key]
        connection = self._open()
        cache[key] = (pid, inode, connection)
        while len(cache) > _CACHED_PER_THREAD:
            self._forget(cache.popitem(last=False)[1])
        return connection

    @staticmethod
    def _forget(entry: tuple[int, int, sqlite3.Connection]) -> None:
        if entry[0] == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                entry[2].close()
        else:
            _inherited.append(entry[2])  # SQLite's rule: a connection opened before a fork is not touched after it

    def _drop_cached(self) -> None:
        cache = _local.__dict__.get("cache")
        if cache is not None and str(self.path) in cache:
            self._forget(cache.pop(str(self.path)))

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` on this thread's connection. A database found damaged is set aside (with a note) and
        the work done once more on a new one; other SQLite failures are one line (:class:`JobStoreBusy`, ...)."""
        for attempt in range(2):
            if not os.path.lexists(self.path):  # removed while this process ran: created (and checked) again
                _prepared.discard((os.getpid(), str(self.path)))
            self._prepare()
            try:
                connection = self._cached()
                connection.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
                return work(connection)
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError) or attempt == 1:
                    raise self._failure(exc) from None
                self._drop_cached()
                _prepared.discard((os.getpid(), str(self.path)))  # checked again, and set aside, before the retry
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the import of the JSON files of earlier versions (the files themselves: :mod:`.migration`) ------------
    def _migrate(self, connection: sqlite3.Connection) -> None:
        for source in migration.legacy_sources(self.path, self._named):
            try:
                identity = migration.identity(source)
            except OSError:
                continue
            known = connection.execute("SELECT 1 FROM meta WHERE key = ?", (f"migrated:{identity}",)).fetchone()
            if known:
                continue
            entries = migration.legacy_entries(source)
            records, skipped = migration.legacy_records(entries or [])
            with self._transaction(connection):
                if connection.execute("SELECT 1 FROM meta WHERE key = ?", (f"migrated:{identity}",)).fetchone():
                    continue  # another process imported it meanwhile
                for record, owner in records:
                    connection.execute(
                        f"INSERT OR IGNORE INTO jobs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                        _entry_of(record, owner),
                    )
                connection.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"migrated:{identity}", str(source)))
                self._prune(connection)
            if entries is not None:
                note = f", {skipped} damaged entries skipped" if skipped else ""
                logger.warning("Local job store: imported %d jobs from %s%s.", len(records), source, note)

    # -- rows ------------------------------------------------------------------------------------------------
    @staticmethod
    def _record_of(row: tuple[Any, ...]) -> JobRecord | None:
        data = dict(zip(_COLUMNS, row, strict=True))
        owner = {"pid": data["owner_pid"], "host": data["owner_host"], "start": data["owner_start"]}
        try:
            tags = json.loads(data["tags"]) if isinstance(data["tags"], str) else data["tags"]
            data["tags"] = tuple(tags) if isinstance(tags, list) else tags
            if data["owner_pid"] is not None and not valid_owner(owner):
                raise ValueError("its owner is damaged")
            return JobRecord.from_dict(data)
        except (TypeError, ValueError, RecursionError) as exc:
            key = str(data.get("id"))[:80]
            if key not in _noted and len(_noted) < 1000:  # one note per record, not one per listing
                _noted.add(key)
                logger.warning("Local job store: the damaged record %r is skipped (%s).", key, exc)
            return None

    def _select(self, connection: sqlite3.Connection, where: str, args: tuple[Any, ...], tail: str = "") -> list[Any]:
        sql = f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE {where} {tail}"
        return connection.execute(sql, args).fetchall()

    def _prune(self, connection: sqlite3.Connection) -> None:
        """Keep the newest ``keep`` finished jobs, and every job that has not finished (it is never dropped)."""
        finished = connection.execute(f"SELECT count(*) FROM jobs WHERE {_FINAL_SQL}").fetchone()[0]
        if finished > self.keep:
            connection.execute(
                f"DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE {_FINAL_SQL} ORDER BY seq LIMIT ?)",
                (finished - self.keep,),
            )

    def _settle_stopped(self, connection: sqlite3.Connection, where: str = "1", args: tuple[Any, ...] = ()) -> None:
        """Turn the pending jobs (among ``where``) whose owner process stopped into ERROR, saved so. A store busy
        for more than SETTLE_WAIT_SECONDS leaves that for the next reader (a listing is not held up for it)."""
        owners = connection.execute(
            f"SELECT DISTINCT owner_pid, owner_host, owner_start FROM jobs WHERE {_PENDING_SQL} AND ({where})", args
        ).fetchall()
        stopped = [o for o in owners if owner_stopped({"pid": o[0], "host": o[1], "start": o[2]})]
        if not stopped:
            return  # the usual case: no write
        try:
            with self._transaction(connection, wait=SETTLE_WAIT_SECONDS):
                for pid, host, start in stopped:
                    connection.execute(
                        f"UPDATE jobs SET status = ?, finished = ?, error = ? WHERE {_PENDING_SQL} AND owner_pid IS ? "
                        "AND owner_host IS ? AND owner_start IS ?",
                        (ERROR, now_iso(), STOPPED_ERROR, pid, host, start),
                    )
                self._prune(connection)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
                raise

    # -- API -------------------------------------------------------------------------------------------------
    def record(self, job: JobRecord) -> JobRecord:
        """Add ``job`` (or replace the record with the same id, keeping its place), owned by this process. The
        oldest finished jobs beyond the last N are dropped; a pending job never is."""
        entry = _entry_of(job, this_process())
        updates = ", ".join(f"{name} = excluded.{name}" for name in _COLUMNS[1:])

        def pending_count(connection: sqlite3.Connection) -> int:
            return int(connection.execute(f"SELECT count(*) FROM jobs WHERE {_PENDING_SQL}").fetchone()[0])

        def work(connection: sqlite3.Connection) -> JobRecord:
            if job.pending and pending_count(connection) >= MAX_PENDING:
                self._settle_stopped(connection)
                if pending_count(connection) >= MAX_PENDING:
                    raise JobStoreFull(
                        f"The local job store {self.path} already holds {MAX_PENDING} jobs that have not finished: "
                        f"wait for some to finish, or cancel them (%qjobs, or the sidebar's Jobs view)."
                    )
            with self._transaction(connection):
                connection.execute(
                    f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
                    f"ON CONFLICT (id) DO UPDATE SET {updates}",
                    entry,
                )
                self._prune(connection)
            return job

        return self._run(work)

    def _not_found(self, job_id: str) -> JobNotFound:
        return JobNotFound(f"No local job has the id {job_id!r} (the store keeps the last {self.keep} jobs).")

    def update(self, job_id: str, **fields: Any) -> JobRecord:
        """Change some fields of a job; returns the stored record. A final status is never changed again."""

        def work(connection: sqlite3.Connection) -> JobRecord:
            with self._transaction(connection):
                rows = self._select(connection, "id = ?", (job_id,))
                current = self._record_of(rows[0]) if rows else None
                if current is None:
                    raise self._not_found(job_id)
                if current.status in FINAL_STATUSES and fields.get("status", current.status) != current.status:
                    return current  # e.g. a job cancelled from the sidebar finishes: it stays CANCELLED
                updated = current.with_fields(**fields)
                values = _entry_of(updated, None)[: len(_FIELDS)]
                connection.execute(
                    f"UPDATE jobs SET {', '.join(f'{name} = ?' for name in _FIELDS)} WHERE id = ?", (*values, job_id)
                )
                if updated.final:
                    self._prune(connection)  # a job that just finished may now be one too many
                return updated

        return self._run(work)

    def get(self, job_id: str) -> JobRecord | None:
        def work(connection: sqlite3.Connection) -> JobRecord | None:
            self._settle_stopped(connection, "id = ?", (job_id,))
            rows = self._select(connection, "id = ?", (job_id,))
            return self._record_of(rows[0]) if rows else None

        return self._run(work)

    def list(
        self, pending: bool = False, backend: str | None = None, limit: int = 20, offset: int = 0
    ) -> tuple[list[JobRecord], int]:
        """(a page of jobs, newest first; the number of jobs that match the filters)."""
        where, args = ["1"], []
        if pending:
            where.append(_PENDING_SQL)
        if backend:
            where.append("backend = ?")
            args.append(str(backend))
        clause = " AND ".join(where)
        offset = min(max(0, int(offset)), _MAX_SQL_INT)
        limit = min(max(0, int(limit)), _MAX_SQL_INT)

        def work(connection: sqlite3.Connection) -> tuple[list[JobRecord], int]:
            self._settle_stopped(connection)
            total = connection.execute(f"SELECT count(*) FROM jobs WHERE {clause}", args).fetchone()[0]
            rows = self._select(connection, clause, (*args, limit, offset), "ORDER BY seq DESC LIMIT ? OFFSET ?")
            return [r for r in map(self._record_of, rows) if r is not None], int(total)

        return self._run(work)

    def request_cancel(self, job_id: str) -> str:
        """Cancel a QUEUED or RUNNING job; returns its status now ("CANCELLED").

        The kernel that runs it sees the request: a job that has not started never runs, a running one discards
        its result. Raises :class:`JobNotCancellable` (HTTP 409) for a job that already finished (a job whose kernel
        stopped is ERROR), and :class:`JobNotFound` for an unknown (or damaged) id.
        """

        def work(connection: sqlite3.Connection) -> str:
            self._settle_stopped(connection, "id = ?", (job_id,))
            with self._transaction(connection):
                rows = self._select(connection, "id = ?", (job_id,))
                current = self._record_of(rows[0]) if rows else None
                if current is None:
                    raise self._not_found(job_id)
                if current.status not in (QUEUED, RUNNING):
                    raise JobNotCancellable(job_id, current.status)
                connection.execute(
                    "UPDATE jobs SET status = ?, finished = ? WHERE id = ?", (CANCELLED, now_iso(), job_id)
                )
                return CANCELLED

        return self._run(work)
