"""Where the connector keeps its per-user files: the one place that says so.

* :func:`data_folder`: the Jupyter data directory's ``qiskit-connector-lab/`` (``jupyter --data-dir``), so the
  files survive a server restart and every kernel of the user sees them.
* :func:`pick_file`: the QPU picked in the sidebar, ``QCONNECTOR_PICK_FILE`` if set, else ``pick.json`` in the data
  folder.
* :func:`job_store_file`: the local job store (an SQLite database), ``QCONNECTOR_JOBS_FILE`` if set, else
  ``jobs.sqlite3`` next to the pick file (so a test or a user who moves the pick moves the jobs with it).
* :func:`legacy_jobs_file`: the JSON file where the job store lived before it was a database (``jobs.json`` next to
  the pick file); the store migrates it once, then renames it aside.

The paths are read from the environment at each call (tests and users change the variables). This module imports
nothing from the rest of the package.
"""

from __future__ import annotations

import os
from pathlib import Path

PICK_FILE_VARIABLE = "QCONNECTOR_PICK_FILE"
JOBS_FILE_VARIABLE = "QCONNECTOR_JOBS_FILE"
JOB_STORE_NAME = "jobs.sqlite3"
LEGACY_JOBS_NAME = "jobs.json"


def data_folder() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "qiskit-connector-lab"


def _named(variable: str) -> Path | None:
    named = os.environ.get(variable, "").strip()
    return Path(named).expanduser() if named else None


def pick_file() -> Path:
    return _named(PICK_FILE_VARIABLE) or data_folder() / "pick.json"


def job_store_file() -> Path:
    return _named(JOBS_FILE_VARIABLE) or pick_file().parent / JOB_STORE_NAME


def legacy_jobs_file() -> Path | None:
    """The old JSON job store to migrate into the default database; None when ``QCONNECTOR_JOBS_FILE`` names the
    store (an old file at that very path is migrated in place by the store itself)."""
    if _named(JOBS_FILE_VARIABLE) is not None:
        return None
    return pick_file().parent / LEGACY_JOBS_NAME
