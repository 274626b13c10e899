"""The signed-in credential: one named account in qiskit-ibm-runtime's saved-accounts file.

**Where, and why there.** ``~/.qiskit/qiskit-ibm.json``, under the account name :data:`ACCOUNT_NAME`. It is the
file qiskit-ibm-runtime itself reads, so ``QiskitRuntimeService(name="qiskit-connector-lab")`` works in any script,
and the kernels the server starts find it without any variable being passed (they share the user's home). It lies
outside the notebook folder (unless the server's root is the home folder itself: then it is a hidden path, which
the contents API refuses unless ``allow_hidden`` is on, and the sign-in route refuses to store in that case).

**How.** Every change re-reads the file, changes only this account, and writes the whole file back with
:func:`~qiskit_connector_lab.files.write_private` (a temporary file then ``os.replace``: mode 0600, never through a
link) under an exclusive lock on a lock file beside it (``flock`` where there is ``fcntl``, ``msvcrt.locking`` on
Windows, else an exclusive-create marker file), waited on for a bounded time. :func:`locked` is the one lock of the
file: :func:`~qiskit_connector_lab.config.saved_account.save_account` writes under it too. The folder is made 0700.
Other accounts are kept as they were (a file that is not a JSON object of accounts is never overwritten). The
extra facts shown in the sidebar (instance name, plan, pricing, region) are kept under :data:`DETAILS_KEY`, which
qiskit-ibm-runtime ignores.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import read_bounded, write_private
from ..secret import Secret

#: The name of the signed-in account in the saved-accounts file.
ACCOUNT_NAME = "qiskit-connector-lab"
#: The key, inside that account, of the facts the sidebar shows (ignored by qiskit-ibm-runtime).
DETAILS_KEY = "qiskit_connector_lab"
#: The key, among those facts, of an endpoint only ``QCONNECTOR_ALLOW_HOSTS`` trusts: only the settings read it
#: (and check it against the allow-list), never a plain ``QiskitRuntimeService(name=...)``.
SETTINGS_ONLY_URL = "allow_listed_url"
#: The key, among those facts, of the runtime API base the key was checked with (the client's account has none).
SETTINGS_ONLY_RUNTIME_URL = "runtime_url"
ACCOUNTS_LIMIT = 1024 * 1024
LOCK_SECONDS = 5.0


def accounts_file() -> Path:
    """qiskit-ibm-runtime's saved-accounts file, for the home folder of this moment."""
    return Path.home() / ".qiskit" / "qiskit-ibm.json"


def shown(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class StoredAccount:
    """The signed-in account as stored. Safe to print: the token is a :class:`Secret`."""

    token: Secret
    instance: str
    channel: str
    path: Path
    url: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{shown(self.path)} (account {ACCOUNT_NAME})"

    def describe(self) -> dict[str, Any]:
        """What the sidebar may show: never the token."""
        return {
            "instance": self.instance,
            "instance_name": self.details.get("name"),
            "plan": self.details.get("plan"),
            "pricing_type": self.details.get("pricing_type"),
            "region": self.details.get("region"),
            "stored_at": self.where,
            "signed_in_at": self.details.get("signed_in_at"),
        }


def _read_all(path: Path) -> dict[str, Any]:
    """Every account in the file ({} when there is none); a file that is not a JSON object is a ConfigError."""
    try:
        raw = read_bounded(path, variable=shown(path), limit=ACCOUNTS_LIMIT)
    except ConfigError:
        if not os.path.lexists(path):
            return {}
        raise
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ConfigError(
            shown(path),
            "is not a JSON file of saved accounts, so it is left as it is.",
            "Fix or move it, then sign in again.",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            shown(path), "does not hold a JSON object of saved accounts, so it is left as it is.", "Fix or move it."
        )
    return data


#: A marker lock (no fcntl, no msvcrt) older than this is left over by a program that died: it is taken over.
STALE_MARKER_SECONDS = 60.0


def _os_lock() -> tuple[Any, Any] | None:
    """(try_lock(fd) -> bool, unlock(fd)) with the OS's own advisory lock, or None where there is none."""
    try:
        fcntl: Any = importlib.import_module("fcntl")
    except ImportError:
        fcntl = None
    if fcntl is not None:

        def try_flock(fd: int) -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        return try_flock, lambda fd: fcntl.flock(fd, fcntl.LOCK_UN)
    try:
        msvcrt: Any = importlib.import_module("msvcrt")
    except ImportError:
        return None

    def try_locking(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    return try_locking, unlock


def _try_marker(marker: Path) -> int | None:
    """Create ``marker`` exclusively (its descriptor), or None while another program holds it."""
    try:
        return os.open(marker, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        with contextlib.suppress(OSError):
            if time.time() - os.stat(marker).st_mtime > STALE_MARKER_SECONDS:
                os.unlink(marker)  # its owner died holding it
        return None


@contextlib.contextmanager
def locked(path: Path, seconds: float = LOCK_SECONDS) -> Iterator[None]:
    """An exclusive lock on ``.<file>.lock`` beside ``path``, waited on for at most ``seconds`` (never forever)."""
    folder = path.parent
    lock_path = folder / f".{path.name}.lock"
    os_lock = _os_lock()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if hasattr(os, "getuid") and folder.stat().st_uid == os.getuid():
            os.chmod(folder, 0o700)  # the file holds API keys: nobody else may list or enter its folder
        fd = (
            os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
            if os_lock is not None
            else None
        )
    except OSError as exc:
        raise ConfigError(
            shown(path), f"cannot be locked ({exc.strerror}).", "Fix the permissions of its folder."
        ) from None
    give_up = time.monotonic() + seconds
    held = False
    try:
        while True:
            try:
                if os_lock is not None:
                    assert fd is not None
                    if os_lock[0](fd):
                        held = True
                        break
                else:
                    fd = _try_marker(lock_path)
                    if fd is not None:
                        break
            except OSError as exc:
                raise ConfigError(
                    shown(path), f"cannot be locked ({exc.strerror}).", "Fix the permissions of its folder."
                ) from None
            if time.monotonic() >= give_up:
                raise ConfigError(
                    shown(path),
                    f"is locked by another program for more than {seconds:g} s.",
                    "Retry in a moment.",
                ) from None
            time.sleep(0.05)
        yield
    finally:
        if fd is not None:
            if os_lock is None:
                with contextlib.suppress(OSError):
                    os.unlink(lock_path)  # the marker is the lock: removing it releases it
            elif held:
                with contextlib.suppress(OSError):
                    os_lock[1](fd)
            os.close(fd)


def _write_all(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, sort_keys=True, indent=4) + "\n"
    write_private(path, text.encode("utf-8"), variable=shown(path))


def save(
    token: Secret,
    instance: str,
    *,
    channel: str = "ibm_quantum_platform",
    url: str | None = None,
    details: dict[str, Any] | None = None,
    path: Path | None = None,
) -> StoredAccount:
    """Store the (already validated) credential as :data:`ACCOUNT_NAME`; the other accounts stay as they are."""
    target = path or accounts_file()
    account: dict[str, Any] = {"channel": channel, "token": token.reveal(), "instance": instance}
    if url:
        account["url"] = url
    facts = dict(details or {})
    facts["signed_in_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    account[DETAILS_KEY] = facts
    with locked(target):
        data = _read_all(target)
        data[ACCOUNT_NAME] = account
        _write_all(target, data)
    return StoredAccount(token, instance, channel, target, url, facts)


def remove(path: Path | None = None) -> bool:
    """Sign out: remove :data:`ACCOUNT_NAME` from the file (True if it was there). An emptied file is deleted."""
    target = path or accounts_file()
    with locked(target):
        data = _read_all(target)
        if ACCOUNT_NAME not in data:
            return False
        del data[ACCOUNT_NAME]
        if data:
            _write_all(target, data)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
    return True


def load(path: Path | None = None) -> StoredAccount | None:
    """The signed-in account, or None. A stored entry that cannot be used is a one-line ConfigError."""
    target = path or accounts_file()
    data = _read_all(target)
    entry = data.get(ACCOUNT_NAME)
    if entry is None:
        return None
    token, instance = (entry.get("token"), entry.get("instance")) if isinstance(entry, dict) else (None, None)
    if not isinstance(token, str) or not token.strip() or not isinstance(instance, str) or not instance:
        raise ConfigError(
            f"{shown(target)} (account {ACCOUNT_NAME})",
            "has no usable token or instance.",
            "Sign out and sign in again (%qlogout, then %qlogin).",
        )
    assert isinstance(entry, dict)
    details = entry.get(DETAILS_KEY)
    url = entry.get("url")
    return StoredAccount(
        Secret(token.strip()),
        instance,
        str(entry.get("channel") or "ibm_quantum_platform"),
        target,
        url if isinstance(url, str) else None,
        dict(details) if isinstance(details, dict) else {},
    )


def stamp(path: Path | None = None) -> tuple[Any, ...]:
    """A cheap fingerprint of the file (inode, mtime, size): it changes with every sign-in and sign-out."""
    target = path or accounts_file()
    try:
        info = os.stat(target)
    except OSError:
        return (None,)
    return (info.st_ino, info.st_mtime_ns, info.st_size)
