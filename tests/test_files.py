"""The bounded reader and the private writer that every configured file goes through."""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest

from qiskit_connector_lab.errors import ConfigError
from qiskit_connector_lab.files import read_bounded, write_private


def test_a_regular_file_is_read(tmp_path):
    path = tmp_path / "fleet.json"
    path.write_bytes(b'{"fake_fez": {"queue": 3}}')
    assert read_bounded(path, variable="QCONNECTOR_FLEET_FILE") == b'{"fake_fez": {"queue": 3}}'


def test_a_fifo_is_refused_at_once_without_a_writer(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        read_bounded(path, variable="QCONNECTOR_FLEET_FILE")
    assert time.monotonic() - started < 1.0
    assert str(caught.value).startswith("QCONNECTOR_FLEET_FILE: is not a regular file")


def test_a_device_is_refused_without_reading_it():
    started = time.monotonic()
    with pytest.raises(ConfigError, match="QCONNECTOR_FLEET_FILE: is not a regular file"):
        read_bounded("/dev/zero", variable="QCONNECTOR_FLEET_FILE")
    assert time.monotonic() - started < 1.0


def test_a_file_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"x" * 2049)
    with pytest.raises(ConfigError, match=r"~?.*big: is 2049 bytes, more than the 2 kB"):
        read_bounded(path, variable=str(path), limit=2048)
    path.write_bytes(b"x" * 2048)
    assert len(read_bounded(path, variable=str(path), limit=2048)) == 2048


def test_a_missing_file_and_a_folder_name_the_variable(tmp_path):
    with pytest.raises(ConfigError, match=r"^QCONNECTOR_FLEET_FILE: does not exist"):
        read_bounded(tmp_path / "absent", variable="QCONNECTOR_FLEET_FILE")
    with pytest.raises(ConfigError, match=r"^QCONNECTOR_FLEET_FILE: is a folder"):
        read_bounded(tmp_path, variable="QCONNECTOR_FLEET_FILE")


def test_write_private_is_0600_in_a_0700_folder_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "new" / "account.json"
    write_private(target, b"{}", variable="account")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in target.parent.iterdir()) == ["account.json"]


def test_write_private_never_writes_through_a_symbolic_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(victim)
    with pytest.raises(ConfigError, match="is a symbolic link"):
        write_private(link, b"secret", variable="filename")
    assert victim.read_text() == "keep"


def test_concurrent_writers_leave_one_whole_file(tmp_path):
    target = tmp_path / "pick.json"
    payloads = [bytes([65 + n]) * 100_000 for n in range(8)]
    threads = [
        threading.Thread(target=write_private, args=(target, data), kwargs={"variable": "pick"}) for data in payloads
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_bytes() in payloads
    assert [p.name for p in tmp_path.iterdir()] == ["pick.json"]


def test_the_next_write_removes_a_crashed_writes_old_temporary_but_not_a_young_one(tmp_path):
    target = tmp_path / "jobs.json"
    old = tmp_path / ".jobs.json.k2x9q1.tmp"  # the name mkstemp gave a write that was killed
    young = tmp_path / ".jobs.json.a7b3c4.tmp"  # another writer's, in flight
    other = tmp_path / ".pick.json.k2x9q1.tmp"  # another file's
    for path in (old, young, other):
        path.write_bytes(b"half")
    two_minutes_ago = time.time() - 120
    for path in (old, other):
        os.utime(path, (two_minutes_ago, two_minutes_ago))
    write_private(target, b"{}", variable="jobs")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, young.name, other.name])
