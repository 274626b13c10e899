"""The best QPU for a circuit, through its faces: connect(for_circuit=...), %qconnect --for, %qbackends --for,
the rule with the fleet file's queues, the chip art's highlight, and the IBM path's requests (real client, emulator)."""

from __future__ import annotations

import time

import pytest
from best_qpu_support import fleet_settings, ghz, qft, write_fleet
from IPython.core.error import UsageError

from qiskit_connector_lab.circuit_fit.rank import forget_prepared
from qiskit_connector_lab.connection import connect
from qiskit_connector_lab.ranking import FIDELITY_TOLERANCE, pareto_front

MEMBERS = ("prague", "kolkata", "manila")


@pytest.fixture
def fleet(tmp_path, clean_env, monkeypatch):
    """A three-QPU local fleet, all online; ``fleet.queues({...})`` rewrites their queues in the fleet file."""
    forget_prepared()
    monkeypatch.setenv("QCONNECTOR_FLEET", ",".join(MEMBERS))
    path = tmp_path / "fleet.json"
    monkeypatch.setenv("QCONNECTOR_FLEET_FILE", str(path))

    class Fleet:
        settings = fleet_settings(tmp_path, {})

        @staticmethod
        def queues(queues):
            write_fleet(path, queues, MEMBERS)
            Fleet.settings = fleet_settings(tmp_path, queues)

    Fleet.queues({})
    return Fleet


def expected_pick(fits, queues, tolerance=FIDELITY_TOLERANCE, max_queue=None):
    """The rule, restated from its documentation, for the assertions."""
    scores = [(f.name, f.fidelity, queues.get(f.name, 0)) for f in fits if f.scored]
    if max_queue is not None:
        scores = [s for s in scores if s[2] <= max_queue]
    front = pareto_front(scores)
    best = max(s[1] for s in scores if s[0] in front)
    near = [s for s in scores if s[0] in front and s[1] >= best - tolerance]
    return min(near, key=lambda s: (s[2], -s[1], s[0]))[0]


def test_connect_for_a_circuit_carries_layout_fidelity_ranking_and_pass_manager(fleet):
    qc = qft(4)
    conn = connect(for_circuit=qc, settings=fleet.settings)
    fits = conn.ranking.fits
    assert conn.qpu.name == fits[0].name  # equal queues: the most faithful
    assert conn.expected_fidelity == fits[0].fidelity and conn.layout == fits[0].layout
    out = conn.pass_manager.run(qc)
    assert out.layout.initial_index_layout(filter_ancillas=True) == list(conn.layout)
    assert conn.backend.name == conn.qpu.name and out.num_qubits == conn.backend.num_qubits
    summary = conn.summary()
    assert f"{conn.qpu.name} (best for the circuit)" in summary
    assert f"Expected fidelity  {conn.expected_fidelity:.3f} on qubits [" in summary
    quiet = conn.ranking.least_busy
    if quiet.name != conn.qpu.name:  # why: its fidelity and queue next to the least busy QPU's
        assert f"least busy {quiet.name}: expected fidelity {quiet.fidelity:.3f}, queue {quiet.qpu.queue}" in summary
    assert "Pareto front" in summary
    assert connect(settings=fleet.settings).ranking is None  # no circuit: least busy, as before


def test_the_rule_with_the_fleet_files_queues(fleet):
    circuits = {"ghz3": ghz(3), "qft4": qft(4), "ghz5": ghz(5)}
    branches = set()
    for qc in circuits.values():
        fleet.queues({f"fake_{m}": 5 for m in MEMBERS})
        conn = connect(for_circuit=qc, settings=fleet.settings)
        fits = [f for f in conn.ranking.fits if f.scored]
        assert conn.qpu.name == fits[0].name  # equal queues: the most faithful QPU
        best = fits[0]
        # The most faithful QPU's queue made huge: still chosen unless another is as faithful with a shorter queue.
        queues = {f"fake_{m}": 5 for m in MEMBERS} | {best.name: 10_000}
        fleet.queues(queues)
        conn = connect(for_circuit=qc, settings=fleet.settings)
        rival = any(f.fidelity >= best.fidelity - FIDELITY_TOLERANCE for f in fits[1:])
        branches.add(rival)
        assert (conn.qpu.name == best.name) is not rival
        assert conn.qpu.name == expected_pick(fits, queues)
        assert conn.qpu.name in conn.ranking.front  # never a dominated QPU
        # --max-queue moves the pick off the long queue.
        moved = connect(for_circuit=qc, settings=fleet.settings, max_queue=100)
        assert moved.qpu.name != best.name and moved.qpu.name == expected_pick(fits, queues, max_queue=100)
        assert moved.qpu.queue <= 100
        # least_busy still wins when given.
        quiet = connect(for_circuit=qc, settings=fleet.settings, least_busy=True)
        assert quiet.qpu.queue == min(q.queue for q in quiet.listing.qpus if q.name in {f.name for f in fits})
    assert branches == {True, False}, "the circuits must exercise both sides of the tie tolerance"


def test_a_dominated_qpu_is_never_chosen(fleet):
    qc = ghz(4)
    fits = [f for f in connect(for_circuit=qc, settings=fleet.settings).ranking.fits if f.scored]
    worst = fits[-1]
    for queue_of_worst in (0, 3, 50):
        queues = {f.name: 7 for f in fits} | {worst.name: queue_of_worst}
        fleet.queues(queues)
        conn = connect(for_circuit=qc, settings=fleet.settings)
        dominated = any(f.fidelity > worst.fidelity and queues[f.name] <= queue_of_worst for f in fits[:-1])
        if dominated:
            assert conn.qpu.name != worst.name
        assert conn.qpu.name in conn.ranking.front


@pytest.fixture
def nb(shell, fleet):
    shell.run_cell(
        "from qiskit import QuantumCircuit\n"
        "qc = QuantumCircuit(3)\nqc.h(0)\nqc.cx(0, 1)\nqc.cx(1, 2)\nqc.measure_all()\n"
        "huge = QuantumCircuit(40)\nhuge.h(range(40))\nnot_a_circuit = 3\n"
    )
    return shell


def test_qbackends_for_shows_fidelity_layout_and_the_front(nb, capsys):
    capsys.readouterr()
    nb.run_line_magic("qbackends", "--local --for qc")
    out = capsys.readouterr().out
    assert "for qc: most faithful first" in out and "Expected fidelity" in out and "Layout" in out
    ranking = connect(for_circuit=nb.user_ns["qc"], local=True).ranking
    for fit in ranking.fits:
        line = next(line for line in out.splitlines() if f" {fit.name} " in line)
        assert f"{fit.fidelity:.3f}" in line and str(list(fit.layout)) in line
        assert ("◆" in line) is (fit.name in ranking.front)
    assert "Pick: " in out and "Pareto front" in out


def test_qconnect_for_assigns_and_explains(nb, capsys):
    nb.run_line_magic("qconnect", "--local --for qc")
    conn = nb.user_ns["qconnection"]
    assert conn.layout is not None and len(conn.layout) == 3 and conn.expected_fidelity > 0.5
    assert nb.user_ns["backend"] is conn.backend
    assert conn.qpu.name == conn.ranking.pick.name
    nb.run_line_magic("qconnect", "--local")  # a bare %qconnect stays least busy
    assert nb.user_ns["qconnection"].ranking is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--for nope", "--for: no variable named 'nope' in the notebook. Define the circuit first"),
        ("--for not_a_circuit", "--for: not_a_circuit holds a value of type int, not a QuantumCircuit"),
        ("--for huge", "No QPU can run huge (fake_"),
        ("--for qc --max-queue -2", "--max-queue: -2 is not a queue length"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(nb, line, message):
    nb.run_line_magic("qconnect", "--local")
    before = {k: nb.user_ns.get(k) for k in ("backend", "qconnection", "session", "batch")}
    with pytest.raises(UsageError) as caught:
        nb.run_line_magic("qconnect", f"--local {line}")
    text = str(caught.value)
    assert message in text and "\n" not in text
    if "huge" in line:
        assert "Use a circuit of at most 33 qubits" in text
    assert {k: nb.user_ns.get(k) for k in before} == before
    with pytest.raises(UsageError, match="--for: no variable named 'nope'"):
        nb.run_line_magic("qbackends", "--local --for nope")


def test_chip_art_highlights_the_layout(fleet):
    import matplotlib

    matplotlib.use("Agg")
    from qiskit_connector_lab.render.chip_art import plot_chip
    from qiskit_connector_lab.render.chip_layout import chip_layout

    conn = connect(for_circuit=qft(4), settings=fleet.settings)
    fig = plot_chip(conn.backend, highlight=conn)
    ax = fig.axes[0]
    rings = [c for c in ax.collections if c.get_gid() == "qcl-layout"]
    assert len(rings) == 1
    coordinates = chip_layout(conn.backend.num_qubits, [tuple(e) for e in conn.backend.coupling_map]).coordinates
    assert sorted(map(tuple, rings[0].get_offsets().tolist())) == sorted(coordinates[q] for q in conn.layout)
    lines = [line for line in ax.lines if line.get_gid() == "qcl-coupler"]
    assert len(lines) == len({(min(a, b), max(a, b)) for a, b in conn.fit.couplers}) > 0
    labels = {t.get_text() for t in ax.texts}
    assert {f"q{i}" for i in range(4)} <= labels
    plain = plot_chip(conn.backend).axes[0]
    assert not [c for c in plain.collections if c.get_gid() == "qcl-layout"]


def test_ibm_path_requests(emulator, ibm_dotenv):
    """One /backends, and at most one configuration and one properties request per QPU the first time; then only
    the /backends."""
    ibm_dotenv("open", QCONNECTOR_LISTING_TTL="0.3")
    forget_prepared()
    conn = connect(for_circuit=ghz(3))
    assert conn.expected_fidelity is not None and conn.layout is not None
    assert emulator.count("GET", "/api/v1/backends") == 1
    names = emulator.backend_names
    for name in names:
        assert emulator.count("GET", f"/api/v1/backends/{name}/configuration") <= 1, name
        assert emulator.count("GET", f"/api/v1/backends/{name}/properties") <= 1, name
    scored = [f.name for f in conn.ranking.fits if f.scored]
    assert scored and all(emulator.count("GET", f"/api/v1/backends/{n}/properties") == 1 for n in scored)
    out = conn.pass_manager.run(ghz(3))
    assert out.layout.initial_index_layout(filter_ancillas=True) == list(conn.layout)
    emulator.reset_log()
    time.sleep(0.35)
    again = connect(for_circuit=ghz(3))
    assert again.qpu.name == conn.qpu.name
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", "/api/v1/backends")]


def test_qconnect_for_says_it_did_not_use_the_sidebars_pick(nb):
    from qiskit_connector_lab.pick import write_pick

    ranking = connect(for_circuit=nb.user_ns["qc"], local=True).ranking
    other = next(f.name for f in ranking.fits if f.name != ranking.pick.name)
    write_pick(other, "local")
    nb.run_line_magic("qconnect", "--local --for qc")
    conn = nb.user_ns["qconnection"]
    assert conn.qpu.name == ranking.pick.name and not conn.picked_in_sidebar
    assert any(f"{other} is picked in the sidebar; --for chose by the circuit instead" in n for n in conn.notes)
    nb.run_line_magic("qconnect", "--local")  # a bare %qconnect still honours the pick
    assert nb.user_ns["qconnection"].qpu.name == other and nb.user_ns["qconnection"].picked_in_sidebar
