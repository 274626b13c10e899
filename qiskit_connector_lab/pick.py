"""The QPU picked in the sidebar: one small JSON file that the server writes and the kernel reads.

It lives in the Jupyter data directory (``jupyter --data-dir``) under ``qiskit-connector-lab/selection.json``,
or where ``QCONNECTOR_PICK_FILE`` says, so it survives a server restart and every kernel of the user sees it.
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

    return Path(jupyter_data_dir()) / "qiskit-connector-lab" / "selection.json"


def read_pick(provider: str | None = None) -> Pick | None:
    """The stored pick (for ``provider`` only, if given); None if there is none or the file is unreadable."""
    try:
        data = json.loads(pick_file().read_text(encoding="utf-8"))
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
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        return None
    pick = Pick(backend=backend, provider=provider, updated_at=utcnow().isoformat())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".selection-", suffix=".json")
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
