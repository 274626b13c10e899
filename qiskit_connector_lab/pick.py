"""The QPU picked in the sidebar: one small JSON file that the server writes and the kernel reads.

It lives in the Jupyter data directory (``jupyter --data-dir``) under ``qiskit-connector-lab/pick.json``,
or where ``QCONNECTOR_PICK_FILE`` says, so it survives a server restart and every kernel of the user sees it.
Versions before 0.2 wrote ``selection.json`` there: when ``pick.json`` does not exist that file is read once, moved
to ``pick.json``, and never read again. ("Selection" names the least-busy ranking policy, so the pick has its own
word.)
A pick is tied to the provider it was made on ("local" or "ibm"): a local QPU is never used for IBM.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .qpus import utcnow

PICK_FILE_VARIABLE = "QCONNECTOR_PICK_FILE"


@dataclass(frozen=True)
class Pick:
    backend: str
    provider: str  # "local" or "ibm"
    updated_at: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def pick_file() -> Path:
    named = os.environ.get(PICK_FILE_VARIABLE)
    if named:
        return Path(named).expanduser()
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "qiskit-connector-lab" / "pick.json"


def _legacy_file(path: Path) -> Path | None:
    """The ``selection.json`` of earlier versions beside the default pick file (none for a named file)."""
    if os.environ.get(PICK_FILE_VARIABLE) or path.name != "pick.json":
        return None
    return path.with_name("selection.json")


def _adopt_legacy(path: Path) -> None:
    """Move an earlier version's ``selection.json`` to ``pick.json``, once (only when there is no pick.json)."""
    legacy = _legacy_file(path)
    if legacy is None or path.exists() or not legacy.exists():
        return
    try:
        os.replace(legacy, path)
    except OSError:
        pass  # unreadable or on another device: the pick is simply not carried over


def read_pick(provider: str | None = None) -> Pick | None:
    """The stored pick (for ``provider`` only, if given); None if there is none or the file is unreadable."""
    path = pick_file()
    _adopt_legacy(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pick = Pick(backend=str(data["backend"]), provider=str(data["provider"]), updated_at=str(data["updated_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if provider is not None and pick.provider != provider:
        return None
    return pick


def write_pick(backend: str | None, provider: str) -> Pick | None:
    """Store (or, with ``backend=None``, clear) the pick. The write is atomic: a reader never sees half a file."""
    path = pick_file()
    if backend is None:
        for stored in (path, _legacy_file(path)):
            try:
                if stored is not None:
                    stored.unlink()
            except FileNotFoundError:
                pass
        return None
    pick = Pick(backend=backend, provider=provider, updated_at=utcnow().isoformat())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pick-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(pick.as_dict(), handle)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return pick
