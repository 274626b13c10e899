"""The pick file is read bounded (a pipe or a huge file is a one-line note, not a stall) and written privately
(0600, atomically, never through a symbolic link)."""

from __future__ import annotations

import logging
import os
import stat
import sys
import time

import pytest

from qiskit_connector_lab.errors import ConfigError
from qiskit_connector_lab.pick import read_pick, write_pick


@pytest.fixture
def pick_path(tmp_path, monkeypatch):
    path = tmp_path / "picks" / "pick.json"
    monkeypatch.setenv("QCONNECTOR_PICK_FILE", str(path))
    return path


def test_the_pick_is_written_private_and_read_back(pick_path):
    write_pick("fake_fez", "local")
    assert stat.S_IMODE(os.stat(pick_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(pick_path.parent).st_mode) == 0o700
    assert read_pick("local").backend == "fake_fez" and read_pick("ibm") is None
    assert [p.name for p in pick_path.parent.iterdir()] == ["pick.json"]  # no temporary copy left


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_a_pipe_or_a_huge_file_as_the_pick_is_a_one_line_note_not_a_stall(pick_path, caplog):
    pick_path.parent.mkdir()
    os.mkfifo(pick_path)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert read_pick() is None
    assert time.monotonic() - started < 1
    pick_path.unlink()
    pick_path.write_bytes(b" " * (2 * 1024 * 1024))
    with caplog.at_level(logging.WARNING):
        assert read_pick() is None
    notes = [r.getMessage() for r in caplog.records]
    assert len(notes) == 2 and all(n.startswith("QCONNECTOR_PICK_FILE: ") and "\n" not in n for n in notes)
    assert "not a regular file" in notes[0] and "MB" in notes[1]


def test_the_pick_is_never_written_through_a_symbolic_link(pick_path, tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("mine")
    pick_path.parent.mkdir()
    pick_path.symlink_to(target)
    with pytest.raises(ConfigError) as caught:
        write_pick("fake_fez", "local")
    assert str(caught.value).startswith("QCONNECTOR_PICK_FILE: is a symbolic link") and target.read_text() == "mine"
