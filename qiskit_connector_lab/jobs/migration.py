"""The files beside the local job store that are not the store: the JSON file of earlier versions, and damage.

* The JSON store of earlier versions (``jobs.json`` beside the default database, or a JSON file at the very path
  ``QCONNECTOR_JOBS_FILE`` names) is claimed and renamed aside to ``<name>.migrated``; :mod:`.local_store` imports
  each such file once (:func:`legacy_sources`, :func:`legacy_records`) and remembers that it did.
* A damaged old file, or a file at the store's path that is not a database, is renamed aside
  (``<name>.damaged-<UTC time>``) with a logged note (:func:`set_aside`), never discarded.
* Temporary copies the JSON store left behind when killed in the middle of a write are removed.

Files only: no SQL here (the schema and the queries are :mod:`.local_store`'s). A file is moved without replacing
anything at its new name (:func:`claim`), so processes that prepare the store at once never lose one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import paths
from ..errors import ConfigError
from ..files import read_bounded
from .owners import valid_owner
from .records import JobRecord

logger = logging.getLogger(__name__)

LEGACY_LIMIT = 64 * 1024 * 1024  # the largest old jobs.json imported (100,000 entries of today's format: ~30 MB)
STALE_SECONDS = 60  # a temporary or claimed file older than this was left by a process that was killed


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def identity(source: Path) -> str:
    """The file's device, inode, size and modification time: an old file imported once is known again by it."""
    info = os.stat(source)
    return f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"


def claim(source: Path, target: Path, elsewhere: bool = True) -> Path | None:
    """Move ``source`` to ``target`` without replacing anything there (a hard link, then an unlink): the path it
    has now, or None if ``source`` is gone (another process moved it first) or cannot be moved. When ``target``
    exists, a stamped name beside it is used (unless ``elsewhere`` is False: then None)."""
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        return claim(source, target.with_name(f"{target.name}-{stamp()}")) if elsewhere else None
    except FileNotFoundError:
        return None
    except OSError:
        try:  # a file system without hard links: a rename (to a name checked free just before)
            if target.exists():
                return claim(source, target.with_name(f"{target.name}-{stamp()}")) if elsewhere else None
            os.rename(source, target)
        except OSError:
            return None
        return target
    with contextlib.suppress(FileNotFoundError):
        os.unlink(source)
    return target


def set_aside(source: Path, why: str, suffix: str, name: str | None = None) -> None:
    """Rename ``source`` to ``<name>.<suffix>`` beside it (never replacing a file), with a logged note."""
    moved = claim(source, source.with_name(f"{name or source.name}.{suffix}"))
    if moved is not None:
        logger.warning("Local job store: %s %s; kept aside as %s.", name or source, why, moved.name)


def set_aside_damaged(source: Path, why: str, name: str | None = None, when: str | None = None) -> None:
    set_aside(source, why, f"damaged-{when or stamp()}", name)


def legacy_entries(source: Path, keep_aside: bool = True) -> list[dict[str, Any]] | None:
    """The job entries of an old JSON file, oldest first; None (and, if ``keep_aside``, the file renamed aside as
    damaged) if it cannot be read as one."""
    try:
        data = json.loads(read_bounded(source, variable=str(source), limit=LEGACY_LIMIT))
    except (ConfigError, ValueError, RecursionError):
        data = None
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, list):
        if keep_aside:
            set_aside_damaged(source, "could not be read as an old job store")
        return None
    return [j for j in jobs if isinstance(j, dict)]


def legacy_records(entries: list[dict[str, Any]]) -> tuple[list[tuple[JobRecord, Any]], int]:
    """(the valid records of old entries with their owners, oldest first; how many entries were damaged)."""
    records, skipped = [], 0
    for entry in entries:
        owner = entry.get("owner")
        try:
            record = JobRecord.from_dict(entry)
        except (TypeError, ValueError, RecursionError):
            record = None
        if record is None or (owner is not None and not valid_owner(owner)):
            skipped += 1
            continue
        records.append((record, owner))
    return records, skipped


def adopt(claimed: Path, store_name: str, looks_json: bool) -> None:
    """Rename a file claimed from the store's path aside: ``.migrated`` (to be imported) or damaged."""
    if looks_json:
        set_aside(claimed, "is the JSON file of an earlier version (imported)", "migrated", store_name)
    else:
        set_aside_damaged(claimed, "is not a database", store_name)


def move_foreign_file(store: Path, before: os.stat_result) -> None:
    """The file at the store's path (``before`` its stat) is not SQLite: the JSON store of earlier versions (kept
    as ``.migrated``), or damage (kept aside). A new database another process made meanwhile is put back."""
    looks_json = legacy_entries(store, keep_aside=False) is not None
    claimed = claim(store, store.with_name(f".{store.name}.{os.getpid()}.{stamp()}.claim"))
    if claimed is None:
        return  # another process moved it first
    if os.stat(claimed).st_ino != before.st_ino:  # that was another process's new database: put it back
        if claim(claimed, store, elsewhere=False) is None:
            set_aside_damaged(claimed, "could not be put back", store.name)
        return
    adopt(claimed, store.name, looks_json)


def remove_stale_temporaries(store: Path) -> None:
    """Temporary copies the JSON store of earlier versions left behind when killed in the middle of a write
    (removed), and a file this store claimed when a process was killed before renaming it aside (renamed)."""
    cutoff = time.time() - STALE_SECONDS
    for leftover in store.parent.glob(".jobs-*.json"):
        with contextlib.suppress(OSError):
            if not leftover.is_symlink() and leftover.stat().st_mtime < cutoff:
                leftover.unlink()
    for claimed in store.parent.glob(f".{store.name}.*.claim"):
        with contextlib.suppress(OSError):
            if not claimed.is_symlink() and claimed.stat().st_mtime < cutoff:
                adopt(claimed, store.name, legacy_entries(claimed, keep_aside=False) is not None)


def legacy_sources(store: Path, named: bool) -> list[Path]:
    """The old JSON files waiting to be imported into ``store`` (``.migrated`` beside it). The ``jobs.json`` of the
    default folder is claimed first (unless the store's path was named), or set aside if damaged."""
    names = [store.name]
    legacy = None if named else paths.legacy_jobs_file()
    if legacy is not None and legacy.parent == store.parent:
        names.append(legacy.name)
        if legacy.is_file() and not legacy.is_symlink():
            if legacy_entries(legacy, keep_aside=False) is None:
                set_aside_damaged(legacy, "could not be read as an old job store")
            else:
                claim(legacy, legacy.with_name(legacy.name + ".migrated"))
    sources = []
    for name in names:
        for source in sorted(store.parent.glob(f"{name}.migrated*")):
            suffix = source.name[len(name) + len(".migrated") :]
            if (suffix == "" or suffix.startswith("-")) and source.is_file() and not source.is_symlink():
                sources.append(source)
    return sources
