"""The local fleet file (``QCONNECTOR_FLEET_FILE``) is read bounded: a FIFO or ``/dev/zero`` gives one line, at once,
in the core and through the server's ``GET backends``, and the fleet keeps listing its QPUs."""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from pathlib import Path

import pytest

pytest.register_assert_rewrite("server_conftest")

from server_conftest import server_config  # noqa: E402

from qiskit_connector_lab.config import load_settings  # noqa: E402
from qiskit_connector_lab.providers.local_fleet import LocalFleet  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server", "server_conftest")


@pytest.fixture(params=["fifo", "dev_zero"])
def bad_fleet_file(request, tmp_path, monkeypatch):
    if request.param == "fifo":
        path = tmp_path / "fleet.fifo"
        os.mkfifo(path)
    else:
        path = "/dev/zero"
    monkeypatch.setenv("QCONNECTOR_FLEET_FILE", str(path))
    yield str(path)
    if request.param == "fifo":
        try:  # a reader that blocked on it would still wait: a writer end frees it
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass


def _listing_within(fleet: LocalFleet, seconds: float):
    """The listing, from a thread that must answer within ``seconds`` (a blocked read would not)."""
    out: dict = {}
    worker = threading.Thread(target=lambda: out.setdefault("listing", fleet.listing(max_age=0)), daemon=True)
    start = time.monotonic()
    worker.start()
    worker.join(seconds)
    assert "listing" in out, f"the listing did not answer within {seconds} s"
    return out["listing"], time.monotonic() - start


def test_a_fifo_or_dev_zero_fleet_file_is_one_line_and_the_fleet_still_lists(clean_env, bad_fleet_file):
    fleet = LocalFleet(load_settings(local=True), members=("manila", "fez"))
    listing, took = _listing_within(fleet, 1.0)
    assert took < 1.0
    assert {q.name for q in listing.qpus} == {"fake_manila", "fake_fez"}
    problems = [note for note in listing.notes if "QCONNECTOR_FLEET_FILE" in note]
    assert len(problems) == 1 and "\n" not in problems[0], listing.notes
    assert "regular file" in problems[0] or "more than" in problems[0], problems


def test_a_good_fleet_file_after_a_bad_one_is_read_again(clean_env, tmp_path, monkeypatch):
    path = tmp_path / "fleet.json"
    os.mkfifo(path)
    monkeypatch.setenv("QCONNECTOR_FLEET_FILE", str(path))
    fleet = LocalFleet(load_settings(local=True), members=("manila", "fez"))
    listing, _ = _listing_within(fleet, 1.0)
    assert any("QCONNECTOR_FLEET_FILE" in note for note in listing.notes)
    os.unlink(path)
    path.write_text('{"fake_fez": {"queue": 7}}')
    os.utime(path, (time.time() + 5, time.time() + 5))  # a new mtime, whatever the clock's resolution
    listing, _ = _listing_within(fleet, 1.0)
    assert not any("QCONNECTOR_FLEET_FILE" in note for note in listing.notes)
    assert next(q for q in listing.qpus if q.name == "fake_fez").queue == 7


# --- through the server's route ------------------------------------------------------------------------------
@pytest.fixture
def jp_server_config(qc_env, bad_fleet_file, server_traits):
    return server_config({"provider": "local", **server_traits})


async def test_get_backends_with_a_fifo_or_dev_zero_fleet_file_answers_at_once(api):
    start = time.monotonic()
    answer = await api("GET", "backends", request_timeout=5)
    took = time.monotonic() - start
    assert answer.status == 200 and took < 1.0, (answer, took)
    body = answer.json
    assert len(body["qpus"]) == 10
    problems = [note for note in body["notes"] if "QCONNECTOR_FLEET_FILE" in note]
    assert len(problems) == 1 and "\n" not in problems[0], body["notes"]
    start = time.monotonic()
    again = await api("GET", "backends", request_timeout=5)  # and the server is not wedged after it
    assert again.status == 200 and time.monotonic() - start < 1.0


@pytest.mark.parametrize("shape", ["absolute", "relative"])
def test_the_provider_refuses_a_member_that_is_a_path(clean_env, tmp_path, shape):
    """Defence in depth: even a member the settings did not check (``members=``) is built only from a name the
    client lists; a folder of a made-up configuration with 10**9 qubits is never read."""
    from qiskit_connector_lab.errors import ConfigError

    made_up = tmp_path / "made_up"
    made_up.mkdir()
    (made_up / "conf_made_up.json").write_text('{"n_qubits": 1000000000, "backend_name": "fake_made_up"}')
    if shape == "absolute":
        member = str(made_up)
    else:
        spec = importlib.util.find_spec("qiskit_ibm_runtime")
        backends = Path(next(iter(spec.submodule_search_locations))) / "fake_provider" / "backends"
        member = os.path.relpath(made_up, backends)
    with pytest.raises(ConfigError) as caught:
        LocalFleet(load_settings(local=True), members=("manila", member))
    text = str(caught.value)
    assert text.startswith("QCONNECTOR_FLEET: ") and "not a fake backend" in text and "\n" not in text
    assert [q.name for q in LocalFleet(load_settings(local=True), members=("manila",)).listing().qpus] == [
        "fake_manila"
    ]
