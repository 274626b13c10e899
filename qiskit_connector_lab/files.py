"""Reading and writing the files the configuration names, bounded and without surprises.

Every file a user or a ``.env`` can name (the ``.env`` itself, the local fleet file, the job store, the pick, a
saved account) goes through here:

* :func:`read_bounded` opens a path only if it is a **regular file**, opens it **without blocking** (a FIFO or a
  device never wedges a thread), reads **at most** ``limit`` bytes, and turns every refusal into one
  :class:`~qiskit_connector_lab.errors.ConfigError` line that names the variable and the fix.
* :func:`write_private` writes a file atomically (a temporary file in the same folder, then ``os.replace``) with mode
  0600, never through a symbolic link, and removes its temporary file whatever happens.

This module imports nothing from the rest of the package but :mod:`errors`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import tempfile
import time
from pathlib import Path

from .errors import ConfigError

#: The size cap of small configuration files (the .env, the fleet file, the pick).
SMALL_FILE_LIMIT = 1024 * 1024
#: A temporary file of :func:`write_private` older than this is a crashed write's leftover (a write takes far less).
STALE_TEMPORARY_SECONDS = 60


def _size_text(limit: int) -> str:
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MB"
    if limit % 1024 == 0:
        return f"{limit // 1024} kB"
    return f"{limit} bytes"


def read_bounded(path: str | os.PathLike[str], *, variable: str, limit: int = SMALL_FILE_LIMIT) -> bytes:
    """The bytes of ``path``, if it is a regular file of at most ``limit`` bytes; else one ``ConfigError`` line.

    ``variable`` names what pointed here (``QCONNECTOR_FLEET_FILE``, ``~/.env``, ...): the message starts with it.
    The file is opened with ``O_NONBLOCK`` (a FIFO opens at once instead of waiting for a writer) and checked with
    ``fstat`` on the opened descriptor, so what is read is what was checked.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(os.fspath(path), flags)
    except FileNotFoundError:
        raise ConfigError(variable, "does not exist.", "Check the path, or leave the variable unset.") from None
    except IsADirectoryError:
        raise ConfigError(variable, "is a folder, not a file.", "Point it at the file itself.") from None
    except OSError as exc:
        raise ConfigError(
            variable, f"cannot be opened ({exc.strerror}).", "Fix its permissions (chmod 600), or point it elsewhere."
        ) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(variable, "is a folder, not a file.", "Point it at the file itself.")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(
                variable, "is not a regular file (a pipe, socket or device).", "Point it at an ordinary file."
            )
        if info.st_size > limit:
            raise ConfigError(
                variable,
                f"is {info.st_size} bytes, more than the {_size_text(limit)} a file of this kind may hold.",
                "Point it at the right file, or make it smaller.",
            )
        chunks: list[bytes] = []
        total = 0
        while True:  # a regular file that grows while it is read is still cut at the limit
            chunk = os.read(fd, min(65536, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise ConfigError(
                    variable,
                    f"grew past the {_size_text(limit)} a file of this kind may hold while it was read.",
                    "Point it at the right file, or make it smaller.",
                )
        return b"".join(chunks)
    except OSError as exc:
        raise ConfigError(
            variable, f"cannot be read ({exc.strerror}).", "Fix its permissions (chmod 600), or point it elsewhere."
        ) from None
    finally:
        os.close(fd)


def write_private(path: str | os.PathLike[str], data: bytes, *, variable: str, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically with ``mode``; refuse a symbolic link or a non-regular file there.

    The folder is created with mode 0700 when it is missing. The temporary file is always removed: after a crash
    in the middle, the old file is intact, and the ``.<name>.*.tmp`` a crash (or a kill) left behind is removed by the
    next write once it is older than :data:`STALE_TEMPORARY_SECONDS` (a younger one may be another writer's).
    """
    target = Path(path)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise ConfigError(variable, f"cannot be checked ({exc.strerror}).", "Fix the folder's permissions.") from None
    if info is not None and stat.S_ISLNK(info.st_mode):
        raise ConfigError(
            variable,
            "is a symbolic link; it is not written through.",
            "Remove the link, or point the variable at the real file.",
        )
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise ConfigError(variable, "is not a regular file.", "Point it at an ordinary file.")
    folder = target.parent
    _remove_stale_temporaries(target)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ConfigError(
            variable, f"cannot be written ({exc.strerror}).", "Fix the folder's permissions, or point it elsewhere."
        ) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        raise ConfigError(
            variable, f"cannot be written ({exc.strerror}).", "Fix the folder's permissions, or point it elsewhere."
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _remove_stale_temporaries(target: Path) -> None:
    """Remove the temporary files of earlier writes of ``target`` that a crash left (regular files only)."""
    oldest = time.time() - STALE_TEMPORARY_SECONDS
    for name in glob.glob(glob.escape(str(target.parent / f".{target.name}.")) + "*.tmp"):
        with contextlib.suppress(OSError):
            info = os.lstat(name)
            if stat.S_ISREG(info.st_mode) and info.st_mtime < oldest:
                os.unlink(name)
