"""The magics, driven through a real IPython InteractiveShell on the local fleet."""

from __future__ import annotations

import pytest

from qiskit_connector_lab import providers as provider_module
from qiskit_connector_lab.pick import write_pick
from qiskit_connector_lab.ranking import select


@pytest.fixture(autouse=True)
def seeded_fleet(monkeypatch):
    monkeypatch.setenv("QCONNECTOR_FLEET_SEED", "11")


def run(sh, capsys, line):
    result = sh.run_cell(line)
    out = capsys.readouterr()
    return result, out.out, out.err


def test_qconnect_puts_backend_and_shows_summary(shell, capsys):
    result, out, err = run(shell, capsys, "%qconnect")
    assert result.success, err
    backend = shell.user_ns["backend"]
    conn = shell.user_ns["qconnection"]
    assert backend is conn.backend and backend.name == conn.qpu.name
    assert "session" not in shell.user_ns  # open plan (local fleet): job mode
    assert conn.mode == "job"
    # the least busy online QPU was picked
    online = [q for q in conn.listing.qpus if q.operational]
    assert conn.qpu.queue == min(q.queue for q in online)
    assert "QPU" in out and backend.name in out and "local fleet" in out
    assert "Connecting" in err or "Listing QPUs" in err  # progress in a terminal is plain text


def test_qconnect_named_min_qubits_name_and_batch(shell, capsys):
    result, out, _ = run(shell, capsys, "%qconnect fake_manila --name qpu --batch --quiet")
    assert result.success
    assert shell.user_ns["qpu"].name == "fake_manila"
    assert type(shell.user_ns["batch"]).__name__ == "Batch" and "session" not in shell.user_ns
    assert out == ""  # --quiet
    result, out, _ = run(shell, capsys, "%qconnect --min-qubits 150 --job")
    assert result.success
    assert shell.user_ns["backend"].num_qubits >= 150
    assert "session" not in shell.user_ns and "batch" not in shell.user_ns  # the earlier Batch was closed and removed


def test_session_on_open_plan_falls_back_to_batch_with_one_line(shell, capsys):
    result, out, _ = run(shell, capsys, "%qconnect --session")
    assert result.success
    assert shell.user_ns["qconnection"].mode == "batch"
    assert sum("does not allow Sessions" in line for line in out.splitlines()) == 1


def test_bare_qconnect_honours_the_sidebar_pick(shell, capsys, tmp_path, monkeypatch):
    fleet_file = tmp_path / "fleet.json"  # the pick is never the least busy (the simulated queues move with time)
    fleet_file.write_text('{"fake_prague": {"queue": 999}}')
    monkeypatch.setenv("QCONNECTOR_FLEET_FILE", str(fleet_file))
    write_pick("fake_prague", "local")
    result, out, _ = run(shell, capsys, "%qconnect")
    assert result.success and shell.user_ns["backend"].name == "fake_prague"
    assert "picked in the sidebar" in out
    result, _, _ = run(shell, capsys, "%qconnect --least-busy")
    assert result.success
    conn = shell.user_ns["qconnection"]
    assert conn.qpu.name != "fake_prague"
    assert conn.qpu.name == select(conn.listing).name  # the least busy, whatever the pick
    write_pick("ibm_fez", "ibm")  # a pick on another provider is not used on the local fleet
    result, out, _ = run(shell, capsys, "%qconnect")
    assert result.success and shell.user_ns["backend"].name.startswith("fake_")
    assert "picked in the sidebar" not in out  # not even tried (and then found unlisted)


def test_second_qconnect_reuses_the_provider(shell, capsys):
    assert run(shell, capsys, "%qconnect --quiet")[0].success
    provider = next(iter(provider_module._providers.values()))
    fetches = provider.listing_fetches
    assert run(shell, capsys, "%qconnect --quiet")[0].success
    assert len(provider_module._providers) == 1
    assert provider.listing_fetches == fetches  # within the TTL: no new listing


def test_qbackends_and_qplan(shell, capsys):
    result, out, _ = run(shell, capsys, "%qbackends")
    assert result.success
    lines = [line for line in out.splitlines() if "fake_" in line]
    assert len(lines) == 10
    marked = [line for line in lines if "least busy" in line]
    assert len(marked) == 1
    queues = [
        int(line.split()[6]) for line in lines if " online " in line
    ]  # dot, name, status, qubits, family, rev, queue
    assert queues == sorted(queues)
    result, out, _ = run(shell, capsys, "%qbackends --min-qubits 130")
    assert result.success
    big = [line for line in out.splitlines() if "fake_" in line]
    assert sorted(line.split()[1] for line in big) == ["fake_aachen", "fake_fez", "fake_torino"]
    assert all(int(line.split()[3]) >= 130 for line in big)
    result, out, _ = run(shell, capsys, "%qplan")
    assert result.success and "Open (simulated)" in out and "local fleet" in out


def test_help_is_real(shell, capsys):
    doc = shell.find_line_magic("qconnect").__doc__
    for flag in (
        "--min-qubits",
        "--session",
        "--batch",
        "--job",
        "--instance",
        "--env",
        "--local",
        "--name",
        "--quiet",
    ):
        assert flag in doc


def test_completion_offers_backend_names(shell, capsys):
    run(shell, capsys, "%qconnect --quiet")
    _, matches = shell.complete("", "%qconnect fake_k")
    assert set(matches) == {"fake_kyiv", "fake_kolkata"}


def test_config_traits(shell, capsys):
    run(shell, capsys, "%config QConnect.default_mode = 'batch'")
    run(shell, capsys, "%config QConnect.variable = 'qpu'")
    result, _, _ = run(shell, capsys, "%qconnect --quiet")
    assert result.success
    assert shell.user_ns["qconnection"].mode == "batch" and "qpu" in shell.user_ns
    run(shell, capsys, "%config QConnect.default_mode = None")
    run(shell, capsys, "%config QConnect.variable = 'backend'")


BAD = [
    ("%qconnect --min-qubits abc", "--min-qubits"),
    ("%qconnect --min-qubits 0", "--min-qubits"),
    ("%qconnect --min-qubits 100000", "at least 100000 qubits"),
    ("%qconnect --name 9lives", "--name"),
    ("%qconnect --deadline -1", "--deadline"),
    ("%qconnect --bogus", "unrecognized arguments"),
    ("%qconnect fake_nope", "not in the local fleet"),
    ("%qconnect --env /nonexistent/.env", "does not exist"),
    ("%qconnect --session --batch", "exclude each other"),
    ("%qbackends --min-qubits x", "--min-qubits: 'x' is not a whole number. Give e.g. --min-qubits 5."),
    ("%qconnect --deadline soon", "--deadline: 'soon' is not a number. Give e.g. --deadline 20."),
    ("%qplan --env /nonexistent/.env", "does not exist"),
]


@pytest.mark.parametrize("line,phrase", BAD)
def test_bad_arguments_give_one_line(shell, capsys, line, phrase):
    result, out, err = run(shell, capsys, line)
    assert not result.success
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.startswith("UsageError")]
    assert len(lines) == 1 and phrase in lines[0], err


@pytest.mark.parametrize(
    "line,expected",
    [
        ("%qbackends --min-qubits x", "--min-qubits: 'x' is not a whole number. Give e.g. --min-qubits 5."),
        ("%qjobs --limit 1.5", "--limit: '1.5' is not a whole number. Give e.g. --limit 5."),
        ("%qconnect --deadline soon", "--deadline: 'soon' is not a number. Give e.g. --deadline 20."),
        ("%qconnect --env", "--env: expected one argument. See %qconnect? for the arguments."),
    ],
)
def test_argument_errors_do_not_depend_on_argparse_wording(shell, capsys, monkeypatch, line, expected):
    """The line is built from argparse's ArgumentError (which argument, and our converter's reason), so it is the
    same whatever argparse's (translatable, gettext) wording of its own messages is."""
    import argparse

    wording = {
        "invalid %(type)s value: %(value)r": "ungültiger %(type)s-Wert: %(value)r",
        "argument %(argument_name)s: %(message)s": "Argument %(argument_name)s: %(message)s",
    }
    monkeypatch.setattr(argparse, "_", lambda text: wording.get(text, text))
    result, _, err = run(shell, capsys, line)
    assert not result.success
    lines = [line for line in err.splitlines() if line.startswith("UsageError")]
    assert lines == [f"UsageError: {expected}"], err


BAD_ENVS = [
    ('IQP_API_TOKEN="<PROVIDE_YOUR_API_TOKEN>"\nOPEN_PLAN="on"\nOPEN_PLAN_INSTANCE="x"\n', "placeholder"),
    ('IQP_API_TOKEN="abc"\nOPEN_PLAN="on"\nFLEX_PLAN="on"\nOPEN_PLAN_INSTANCE="x"\n', "only one plan"),
    ('IQP_API_TOKEN="abc"\nOPEN_PLAN="on"\n', "OPEN_PLAN_INSTANCE"),
    ('IQP_API_TOKEN="abc"\nOPEN_PLAN="on"\nOPEN_PLAN_INSTANCE="x"\nOPEN_PLAN_CHANNEL="ibm_quantum"\n', "retired"),
    ('OPEN_PLAN="on"\nOPEN_PLAN_INSTANCE="x"\n', "IQP_API_TOKEN"),
    ('this is not a dotenv line "\n', "cannot be parsed"),
]


@pytest.mark.parametrize("text,phrase", BAD_ENVS)
def test_bad_config_gives_one_line_and_keeps_namespace(shell, capsys, tmp_path, text, phrase):
    shell.user_ns["backend"] = "kept"
    (tmp_path / ".env").write_text(text)
    result, out, err = run(shell, capsys, "%qconnect")
    assert not result.success
    lines = [line for line in err.splitlines() if line.startswith("UsageError")]
    assert len(lines) == 1 and phrase in lines[0], err
    assert "Traceback" not in out + err and "abc" not in lines[0]
    assert shell.user_ns["backend"] == "kept"  # nothing lost


def test_a_pick_that_is_no_longer_listed_falls_back_to_the_least_busy(shell, capsys, monkeypatch):
    monkeypatch.setenv("QCONNECTOR_FLEET", "fez,brisbane,manila")
    write_pick("fake_torino", "local")  # picked when the fleet still had it
    result, out, _ = run(shell, capsys, "%qconnect")
    assert result.success
    conn = shell.user_ns["qconnection"]
    assert conn.qpu.name == select(conn.listing).name
    assert "fake_torino, picked in the sidebar, is no longer listed" in out


def test_a_paused_pick_is_used_and_said(shell, capsys, tmp_path, monkeypatch):
    fleet_file = tmp_path / "fleet.json"
    fleet_file.write_text('{"fake_prague": {"status": "paused"}}')
    monkeypatch.setenv("QCONNECTOR_FLEET_FILE", str(fleet_file))
    write_pick("fake_prague", "local")
    result, out, _ = run(shell, capsys, "%qconnect")
    assert result.success and shell.user_ns["backend"].name == "fake_prague"
    assert "fake_prague is paused" in out and "%qconnect --least-busy picks an online QPU" in out


def test_quiet_still_says_when_the_mode_changed(shell, capsys):
    result, out, _ = run(shell, capsys, "%qconnect --session --quiet")
    assert result.success
    assert out.strip().startswith("Note:") and "Batch" in out and "QPU" not in out
