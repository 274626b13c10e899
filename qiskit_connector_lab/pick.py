"""The QPU picked in the sidebar: one small JSON file that the server writes and the kernel reads.

It lives in the Jupyter data directory (``jupyter --data-dir``) under ``qiskit-connector-lab/pick.json``,
or where ``QCONNECTOR_PICK_FILE`` says (:func:`~.paths.pick_file`), so it survives a server restart and every kernel
of the user sees it. It is read only if it is a regular file of at most 1 MB (else a one-line note, and no pick), and
written atomically with mode 0600, never through a symbolic link (:mod:`.files`). ("Selection" names the
least-busy ranking policy, so the pick has its own word.)
A pick is tied to the provider it was made on ("local" or "ibm"): a local QPU is never used for IBM.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import ConfigError
from .files import read_bounded, write_private
from .paths import PICK_FILE_VARIABLE, pick_file
from .qpus import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pick:
    backend: str
    provider: str  # "local" or "ibm"
    updated_at: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _variable(path: Path) -> str:
    """What the one-line messages name: the variable, if it names the file; else the file."""
    return PICK_FILE_VARIABLE if os.environ.get(PICK_FILE_VARIABLE, "").strip() else f"The pick file {path}"


def read_pick(provider: str | None = None) -> Pick | None:
    """The stored pick (for ``provider`` only, if given); None if there is none or the file is unreadable."""
    path = pick_file()
    if not os.path.lexists(path):
        return None
    try:
        data = json.loads(read_bounded(path, variable=_variable(path)))
        pick = Pick(backend=str(data["backend"]), provider=str(data["provider"]), updated_at=str(data["updated_at"]))
    except ConfigError as error:  # a pipe, a device, a huge file: said once, and no pick
        logger.warning("%s", error)
        return None
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if provider is not None and pick.provider != provider:
        return None
    return pick


def write_pick(backend: str | None, provider: str) -> Pick | None:
    """Store (or, with ``backend=None``, clear) the pick. The write is atomic (a reader never sees half a file), and
    a symbolic link or a non-regular file at the pick's path is a one-line ``ConfigError``, never written through."""
    path = pick_file()
    if backend is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return None
    pick = Pick(backend=backend, provider=provider, updated_at=utcnow().isoformat())
    write_private(path, json.dumps(pick.as_dict()).encode("utf-8"), variable=_variable(path))
    return pick
