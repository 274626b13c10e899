"""Another process that holds the local job store's write lock (a kernel hung in the middle of a write)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

HOLD_WRITE = textwrap.dedent("""
    import select, sqlite3, sys
    connection = sqlite3.connect(sys.argv[1], isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")  # the write lock, held (a kernel hung in the middle of a write)
    print("holding", flush=True)
    select.select([sys.stdin], [], [], float(sys.argv[2]))  # until told, or the time given
    connection.execute("COMMIT")
    print("released", flush=True)
""")


@contextlib.contextmanager
def write_lock_held(path: str | Path, seconds: float = 30) -> Iterator[subprocess.Popen[str]]:
    """The store at ``path`` is write-locked by another process until the block ends (or ``seconds`` pass)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE, str(path), str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        holder.communicate("", timeout=60)
