"""Job records and the local job store.

* :mod:`.records`: :class:`JobRecord`, one job as the sidebar, the server routes and ``%qjobs`` see it, whatever
  the provider; the job statuses (IBM's strings); the two job errors.
* :mod:`.local_store`: :class:`LocalJobStore`, the per-user file where every kernel records the jobs it runs on
  the local fleet, so the server (another process) can list them and ask for a cancel.
* :mod:`.migration`: the files beside the store that are not the store: the JSON file of earlier versions (imported
  once) and damaged files (renamed aside).

Imports nothing of Qiskit, tornado or IPython.
"""

from .local_store import JobStoreBusy, LocalJobStore, jobs_file
from .records import (
    CANCELLED,
    DONE,
    ERROR,
    FINAL_STATUSES,
    JOB_STATUSES,
    PENDING_STATUSES,
    QUEUED,
    RUNNING,
    JobNotCancellable,
    JobNotFound,
    JobRecord,
)

__all__ = [
    "CANCELLED",
    "DONE",
    "ERROR",
    "FINAL_STATUSES",
    "JOB_STATUSES",
    "PENDING_STATUSES",
    "QUEUED",
    "RUNNING",
    "JobNotCancellable",
    "JobNotFound",
    "JobRecord",
    "JobStoreBusy",
    "LocalJobStore",
    "jobs_file",
]
