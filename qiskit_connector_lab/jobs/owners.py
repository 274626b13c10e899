"""Which process owns a local job, and whether that process is still running.

A local job lives in the kernel that runs it: when that kernel stops (restart, kill, crash) before the job finished,
nothing will ever finish it. The store writes the owner of every job it records (:func:`this_process`) and, when it
reads a QUEUED or RUNNING job, asks :func:`owner_stopped`; such a job is then reported as ERROR.

The owner is the process id, the host name and a start token: the process's start time since boot and the boot id
(``/proc`` on Linux), so a process id reused by a new process, or after a reboot, is not taken for the owner.
Where ``/proc`` is missing (macOS) the token is None and a process id that exists counts as the owner; where
processes cannot be probed safely (Windows: ``os.kill`` there terminates) nothing is ever said stopped.
"""

from __future__ import annotations

import functools
import os
import socket
from typing import Any

STOPPED_ERROR = "the kernel that ran it stopped before it finished"
#: Process ids are C ``pid_t`` values (32-bit): anything outside 1..MAX_PID is not a process id (a damaged record).
MAX_PID = 2**31 - 1


def valid_owner(owner: Any) -> bool:
    """True for an owner as :func:`this_process` writes it: a pid in range, a host, a start token or None."""
    if not isinstance(owner, dict):
        return False
    pid, host, start = owner.get("pid"), owner.get("host"), owner.get("start")
    return (
        isinstance(pid, int)
        and not isinstance(pid, bool)
        and 0 < pid <= MAX_PID
        and isinstance(host, str)
        and len(host) <= 256
        and (start is None or (isinstance(start, str) and len(start) <= 256))
    )


@functools.cache
def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start token) of process ``pid`` from ``/proc``; None if unknown here."""
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # the command name (field 2) may hold spaces and parentheses
    if len(fields) < 20:
        return None
    return fields[0], f"{_boot_id()}:{fields[19]}"  # fields 3 (state) and 22 (starttime, clock ticks since boot)


def start_token(pid: int) -> str | None:
    """``"<boot id>:<start time in clock ticks since boot>"`` of process ``pid``; None if unknown here."""
    stat = _stat(pid)
    return None if stat is None else stat[1]


@functools.cache
def _host() -> str:
    return socket.gethostname()


def this_process() -> dict[str, Any]:
    """The owner this process writes into the records of the jobs it runs."""
    pid = os.getpid()
    return {"pid": pid, "host": _host(), "start": start_token(pid)}


def owner_stopped(owner: Any) -> bool:
    """True only when ``owner`` is a process of this host that is known to have stopped (else False: unknown,
    another host, or still running)."""
    if os.name != "posix" or not valid_owner(owner):
        return False  # a damaged owner is never taken for a stopped one (nor raises)
    pid, host, start = owner["pid"], owner["host"], owner.get("start")
    if host != _host():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # PermissionError: another user's process, running
        return False
    stat = _stat(pid)
    if stat is None:
        return False
    state, now = stat
    if state in ("Z", "X"):
        return True  # exited, not yet reaped by its parent
    return start is not None and now != start  # the id now belongs to a newer process
