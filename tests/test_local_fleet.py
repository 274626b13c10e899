"""The embedded local fleet, selection and connect() on it, and the seed's usage snippet with no .env."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from datetime import datetime

import pytest

from qiskit_connector_lab.config import load_settings
from qiskit_connector_lab.connection import connect
from qiskit_connector_lab.errors import ConfigError, NoBackendAvailable, UnknownBackend
from qiskit_connector_lab.plans import Plan
from qiskit_connector_lab.providers.local_fleet import LocalFleet
from qiskit_connector_lab.qpus import QPU, Listing, utcnow
from qiskit_connector_lab.ranking import ranked, select


@pytest.fixture
def local_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in (
        "QCONNECTOR_FLEET",
        "QCONNECTOR_FLEET_SEED",
        "QCONNECTOR_FLEET_FILE",
        "QISKIT_IBM_TOKEN",
        "IQP_API_TOKEN",
    ):
        monkeypatch.delenv(var, raising=False)
    return load_settings(environ={}, local=True)


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_listing_has_the_documented_families_and_fields(local_settings):
    fleet = LocalFleet(local_settings, seed=3, maintenance_rate=0)
    listing = fleet.listing()
    assert listing.local and listing.provider == "local"
    families = {q.family for q in listing.qpus}
    assert {"Heron", "Eagle", "Nighthawk"} <= families
    assert any(q.qubits <= 7 for q in listing.qpus)  # and smaller ones
    for qpu in listing.qpus:
        assert qpu.name.startswith("fake_")  # never passed off as IBM
        assert qpu.status == "online" and qpu.qubits > 0 and qpu.queue >= 0
    assert isinstance(listing.fetched_at, datetime) and listing.age() < 5
    by_name = {q.name: q for q in listing.qpus}
    assert by_name["fake_fez"].processor == "Heron r2" and by_name["fake_fez"].qubits == 156
    assert by_name["fake_brisbane"].processor == "Eagle r3" and by_name["fake_brisbane"].qubits == 127


def test_simulated_queues_move_over_time_and_are_seeded(local_settings):
    clock = FakeClock()
    a = LocalFleet(local_settings, seed=7, wall_clock=clock, maintenance_rate=0)
    b = LocalFleet(local_settings, seed=7, wall_clock=clock, maintenance_rate=0)
    c = LocalFleet(local_settings, seed=8, wall_clock=clock, maintenance_rate=0)
    first = [q.queue for q in a.listing(0).qpus]
    assert first == [q.queue for q in b.listing(0).qpus]  # same seed, same time: same queues
    assert first != [q.queue for q in c.listing(0).qpus]  # another seed: another fleet
    seen = {tuple(first)}
    for _ in range(30):
        clock.now += 60
        queues = [q.queue for q in a.listing(0).qpus]
        assert all(0 <= n < 500 for n in queues)  # plausible
        seen.add(tuple(queues))
    assert len(seen) > 20  # it really changes


def test_listing_is_cached_for_the_ttl(local_settings):
    clock = FakeClock()
    fleet = LocalFleet(local_settings, clock=clock)
    fleet.listing()
    fleet.listing()
    assert fleet.listing_fetches == 1
    clock.now += local_settings.listing_ttl + 0.1
    fleet.listing()
    assert fleet.listing_fetches == 2


def test_overrides_and_fleet_file(local_settings, tmp_path, monkeypatch):
    fleet = LocalFleet(local_settings, maintenance_rate=0)
    fleet.set_queue("fake_manila", 0)
    fleet.set_status("fake_fez", "paused", "maintenance")
    listing = fleet.listing()
    assert listing.by_name("fake_manila").queue == 0
    assert listing.by_name("fake_fez").status == "paused"
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps({"fake_torino": {"queue": 999, "status": "offline"}}))
    monkeypatch.setenv("QCONNECTOR_FLEET_FILE", str(path))
    fleet.settings = load_settings(local=True)  # QCONNECTOR_FLEET_FILE is read with the settings
    listing = fleet.listing()  # a changed fleet file is seen at once, whatever the TTL
    assert listing.by_name("fake_torino").queue == 999 and listing.by_name("fake_torino").status == "offline"


def qpu(name, queue, status="online", qubits=127):
    return QPU(name=name, status=status, qubits=qubits, queue=queue)


def test_selection_least_busy_filters_and_ties():
    listing = Listing(
        (qpu("b", 5), qpu("a", 5), qpu("c", 5, qubits=156), qpu("d", 1, "paused"), qpu("e", 9, qubits=5)),
        utcnow(),
        "local",
    )
    assert select(listing).name == "c"  # tie on queue: more qubits wins
    assert select(listing, exclude=["c"]).name == "a"  # then the name, deterministically
    assert select(listing, min_qubits=150).name == "c"
    assert select(listing, min_qubits=156).name == "c"  # exactly N qubits is enough
    # the whole order: operational first (the paused "d" last despite its short queue), then queue, qubits, name
    assert [q.name for q in ranked(listing.qpus)] == ["c", "a", "b", "e", "d"]
    assert select(listing, "d").name == "d"  # named: even paused
    with pytest.raises(UnknownBackend, match="Did you mean"):
        select(listing, "cc")
    with pytest.raises(NoBackendAvailable, match="at least 500 qubits"):
        select(listing, min_qubits=500)


def test_empty_or_all_paused_fleet_is_a_clear_error():
    with pytest.raises(NoBackendAvailable, match="no QPUs"):
        select(Listing((), utcnow(), "ibm"))
    with pytest.raises(NoBackendAvailable, match="No QPU is online"):
        select(Listing((qpu("a", 0, "paused"), qpu("b", 0, "offline")), utcnow(), "ibm"))


def test_connect_on_local_fleet_describes_the_backend_returned(local_settings):
    conn = connect(settings=local_settings)
    assert conn.local and conn.plan is Plan.OPEN and conn.mode == "job" and conn.session is None
    assert conn.backend.name == conn.qpu.name
    assert conn.backend.num_qubits == conn.qpu.qubits
    text = conn.summary()
    assert conn.qpu.name in text and "local fleet" in text and conn.qpu.processor in text
    others = [q.name for q in conn.others]
    assert conn.qpu.name not in others and len(others) == len(conn.listing.qpus) - 1
    queues = [q.queue for q in conn.others if q.operational]
    assert queues == sorted(queues)
    assert all(conn.qpu.queue <= q.queue for q in conn.others if q.operational)
    html = conn._repr_html_()
    assert "LOCAL FLEET" in html and conn.qpu.name in html


def test_connect_named_and_batch(local_settings):
    conn = connect("fake_manila", mode="batch", settings=local_settings)
    assert conn.qpu.name == "fake_manila" and conn.mode == "batch" and conn.session is not None
    conn.close()
    conn = connect(mode="session", min_qubits=100, settings=local_settings)
    assert conn.mode == "batch" and any("1352" in n for n in conn.notes)  # open plan: no Session
    assert conn.qpu.qubits >= 100
    with pytest.raises(ConfigError, match="min_qubits"):
        connect(min_qubits=0, settings=local_settings)


SEED_SNIPPET = """
from qiskit_ibm_runtime import SamplerV2 as Sampler, Session
from qiskit_connector_lab import QConnectorV2 as connector
from qiskit_connector_lab import QPlanV2 as plan

current = plan()
backend = connector()

if current == "Open Plan":
    sampler = Sampler(mode=backend)
    print("Your Plan:", current)
    print("Least Busy QPU:", backend.name)
    if not backend.configuration().simulator:
        print("This is a real & live QPU device")
elif current == "Paid Plan":
    with Session(backend=backend) as session:
        sampler = Sampler(mode=session)
        print("Your Plan:", current)
        print("Least Busy QPU:", backend.name)
else:
    raise ValueError(f"Unknown plan type: {current}")
"""


def test_seed_usage_snippet_runs_on_local_fleet_with_no_env(tmp_path):
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", SEED_SNIPPET], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Your Plan: Open Plan" in result.stdout
    least = next(line for line in result.stdout.splitlines() if line.startswith("Least Busy QPU:")).split(": ")[1]
    assert least.startswith("fake_")
    assert re.search(
        rf"^QPU\s+{least} \(least busy\)$", result.stdout, re.M
    )  # the diagnostics describe the backend returned
    assert "local fleet" in result.stdout


def test_import_has_no_side_effects(tmp_path):
    code = textwrap.dedent("""
        import os, sys
        before = dict(os.environ)
        import qiskit_connector_lab
        from qiskit_connector_lab import (
            QConnectorV2,
            QPlanV2,
            connector,
            is_verified,
            plan_type,
            qiskit_smart,
            qpu_verify,
        )
        assert dict(os.environ) == before
        assert "qiskit" not in sys.modules and "qiskit_ibm_runtime" not in sys.modules
        assert connector is QConnectorV2 and plan_type is QPlanV2
    """)
    (tmp_path / ".env").write_text('IQP_API_TOKEN="abc"\nOPEN_PLAN="on"\n')
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # no print at import


def test_compat_helpers_on_local_fleet(local_settings, monkeypatch):
    from qiskit_connector_lab import compat

    monkeypatch.setattr(compat, "_verified", set())
    assert compat.is_verified(environ={}) is False
    assert compat.qiskit_smart(environ={}) is True
    assert compat.is_verified(environ={}) is False  # as %qplan says: nothing on the local fleet is checked with IBM
    qpus = compat.qpu_verify(environ={})
    assert [q.queue for q in qpus if q.operational] == sorted(q.queue for q in qpus if q.operational)


def test_clops_is_a_number_or_none(local_settings):
    listing = LocalFleet(local_settings).listing()
    assert listing.by_name("fake_manila").clops is None  # its snapshot says "None"
    assert listing.by_name("fake_fez").clops == 195000


def test_a_fleet_file_with_bad_values_is_ignored_field_by_field(local_settings, tmp_path, monkeypatch):
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps({"fake_fez": {"queue": "lots", "status": "exploded"}, "fake_kyiv": {"queue": 4}}))
    monkeypatch.setenv("QCONNECTOR_FLEET_FILE", str(path))
    local_settings = load_settings(local=True)  # QCONNECTOR_FLEET_FILE is read with the settings
    listing = LocalFleet(local_settings, maintenance_rate=0).listing()
    assert listing.by_name("fake_fez").status == "online"  # the unknown status is dropped, not shown
    assert listing.by_name("fake_kyiv").queue == 4


def test_a_simulated_outage_fails_the_listing_until_removed(local_settings, tmp_path, monkeypatch):
    from qiskit_connector_lab.errors import ServerError

    path = tmp_path / "fleet.json"
    path.write_text(json.dumps({"_outage": "maintenance drill"}))
    monkeypatch.setenv("QCONNECTOR_FLEET_FILE", str(path))
    local_settings = load_settings(local=True)  # QCONNECTOR_FLEET_FILE is read with the settings
    fleet = LocalFleet(local_settings)
    with pytest.raises(ServerError, match="maintenance drill"):
        fleet.listing()
    path.write_text(json.dumps({"fake_fez": {"queue": 1}}))
    os.utime(path, (1, 1))  # a different mtime, whatever the clock's resolution
    assert fleet.listing().by_name("fake_fez").queue == 1
