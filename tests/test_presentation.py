"""What the user reads: the connection summary, %qbackends, %qplan, %qconnect?, the .env.example errors, the pick
file; through a real IPython InteractiveShell on the local fleet."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qiskit_connector_lab.pick import pick_file, read_pick, write_pick

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def seeded_fleet(monkeypatch):
    monkeypatch.setenv("QCONNECTOR_FLEET_SEED", "11")


def run(sh, capsys, line):
    result = sh.run_cell(line)
    out = capsys.readouterr()
    return result, out.out, out.err


def html_of(sh, name="qconnection"):
    return sh.user_ns[name]._repr_html_()


def test_summary_says_each_thing_once_and_the_action_first(shell, capsys):
    result, out, err = run(shell, capsys, "%qconnect --session")
    assert result.success, err
    lines = out.splitlines()
    assert lines[0].startswith("[local fleet] Connected to fake_")
    # The note that changes what the user does comes before the table; the local-fleet facts are one line, last.
    assert lines[1] == "Note: The open plan does not allow Sessions (IBM error 1352): using Batch mode instead."
    assert sum(line.startswith("Local fleet:") for line in lines) == 1
    assert lines[-2].startswith("Local fleet:") and lines[-1] == "Variables: backend, qconnection, batch."
    for repeated in ("Open (Open Plan)", "batch (Batch)", "Version  -", "Version -", "Provider"):
        assert repeated not in out
    assert re.search(r"^Plan\s+Open \(simulated\)$", out, re.M)
    assert re.search(r"^Mode\s+batch$", out, re.M)
    assert re.search(r"^QPU\s+fake_\w+ \(least busy\)$", out, re.M)


def test_summary_html_is_a_compact_left_aligned_table(shell, capsys):
    run(shell, capsys, "%qconnect --session --quiet")
    page = html_of(shell)
    assert "LOCAL FLEET" in page and "Connected to fake_" in page
    table = page[page.index("<table") : page.index("</table>")]
    assert "width:auto" in table and "margin:4px 0" in table  # not stretched or centred by the notebook's CSS
    cells = re.findall(r"<t[hd] style='([^']*)'", table)
    assert cells and all("text-align:left" in style for style in cells)
    assert page.index("does not allow Sessions") < page.index("<table")  # the action note first
    assert page.index("Local fleet:") > page.index("</table>")
    # "Others" is short: four QPUs, then a count.
    others = re.search(r"<th[^>]*>Others</th><td[^>]*>([^<]*)</td>", page).group(1)
    assert others.count(", ") == 3 and others.endswith(" and 5 more (%qbackends)")


def test_a_qpu_without_version_shows_no_version(shell, capsys):
    run(shell, capsys, "%qconnect fake_manila --quiet")
    conn = shell.user_ns["qconnection"]
    rows = dict(conn.summary_rows())
    assert rows["Processor"] == "Falcon r5.11, 5 qubits, version 1.2.6"
    conn.qpu = type(conn.qpu)(**{**conn.qpu.__dict__, "version": None})
    assert dict(conn.summary_rows())["Processor"] == "Falcon r5.11, 5 qubits"
    assert "-" not in dict(conn.summary_rows())["Processor"]


def test_the_pick_is_marked_in_the_summary_and_in_qbackends(shell, capsys):
    write_pick("fake_kyiv", "local")
    result, out, _ = run(shell, capsys, "%qconnect")
    assert result.success
    assert re.search(r"^QPU\s+fake_kyiv \(picked in the sidebar\)$", out, re.M)
    assert (
        "Note: fake_kyiv was picked in the sidebar: %qconnect --least-busy ignores the pick, the sidebar's "
        "Clear button forgets it."
    ) in out
    result, out, _ = run(shell, capsys, "%qbackends")
    kyiv = next(line for line in out.splitlines() if "fake_kyiv" in line)
    assert kyiv.endswith("picked in the sidebar")
    assert "A bare %qconnect uses fake_kyiv, picked in the sidebar; %qconnect --least-busy ignores the pick." in out
    write_pick(None, "local")
    _, out, _ = run(shell, capsys, "%qbackends")
    assert "picked in the sidebar" not in out


def test_qbackends_title_and_coloured_status_dots(shell, capsys, tmp_path, monkeypatch):
    fleet_file = tmp_path / "fleet.json"
    fleet_file.write_text('{"fake_fez": {"status": "paused"}, "fake_kyiv": {"status": "offline"}}')
    monkeypatch.setenv("QCONNECTOR_FLEET_FILE", str(fleet_file))
    _, out, _ = run(shell, capsys, "%qbackends")
    assert out.splitlines()[0] == "10 QPUs on the local fleet (offline simulation, not IBM), least busy first"
    table = shell.find_line_magic("qbackends").__self__
    from qiskit_connector_lab.providers import provider_for
    from qiskit_connector_lab.render.tables import STATUS_COLOURS, BackendTable

    listing = provider_for(table._settings).listing()
    page = BackendTable(listing)._repr_html_()
    for status in ("online", "paused", "offline"):
        assert f"<span style='color:{STATUS_COLOURS[status]}' role='img' aria-label='{status}'>" in page
    assert len(set(STATUS_COLOURS.values())) == 3 and "#000" not in "".join(STATUS_COLOURS.values())
    one = BackendTable(listing, min_qubits=150)
    assert one.title.startswith(f"{len(one.qpus)} QPUs on the local fleet")


def test_qbackends_title_on_ibm_says_on_ibm_quantum():
    from qiskit_connector_lab.qpus import QPU, Listing, utcnow
    from qiskit_connector_lab.render.tables import BackendTable

    listing = Listing((QPU("ibm_fez", "online", 156, 3),), utcnow(), "ibm")
    assert BackendTable(listing).title == "1 QPU on IBM Quantum, least busy first"


def test_qplan_reads_well_on_the_local_fleet(shell, capsys):
    result, out, _ = run(shell, capsys, "%qplan")
    assert result.success
    assert re.search(r"^Plan\s+Open \(simulated\)$", out, re.M)
    assert re.search(r"^Modes\s+job \(default\), batch$", out, re.M)
    assert re.search(r"^Usage\s+none: local runs use no quantum time$", out, re.M)
    assert sum(line.startswith("Local fleet:") for line in out.splitlines()) == 1
    assert "Open (Open Plan)" not in out and "Verified with IBM" not in out


def test_qconnect_help_has_no_rst_marker(shell):
    for name in ("qconnect", "qbackends", "qplan"):
        doc = shell.find_line_magic(name).__doc__
        assert "::" not in doc
        assert doc.startswith(f"Usage: %{name}")


def test_the_env_example_unchanged_names_its_placeholders(shell, capsys, tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result, _, err = run(shell, capsys, "%qconnect")
    assert not result.success
    lines = [line for line in err.splitlines() if line.startswith("UsageError")]
    assert lines == [
        (
            "UsageError: IQP_API_TOKEN, OPEN_PLAN_INSTANCE: still hold the placeholders from .env.example. "
            "Replace each with your own value (the URL lines are optional: leave them out for IBM's defaults)."
        )
    ]


def test_one_placeholder_names_the_file(shell, capsys, tmp_path):
    (tmp_path / ".env").write_text('IQP_API_TOKEN="<PROVIDE_YOUR_API_TOKEN>"\nOPEN_PLAN="on"\nOPEN_PLAN_INSTANCE="x"\n')
    result, _, err = run(shell, capsys, "%qplan")
    assert not result.success
    assert "IQP_API_TOKEN: still holds the placeholder <PROVIDE_YOUR_API_TOKEN> from .env.example." in err
    assert "README template" not in err


def test_the_env_example_filled_in_selects_ibm(tmp_path):
    """Filled in, the template is a valid IBM configuration (so the walk-through in the README works)."""
    from qiskit_connector_lab.config import load_settings

    text = (ROOT / ".env.example").read_text()
    text = text.replace("<PROVIDE_YOUR_API_TOKEN>", "k" * 44).replace(
        "<PROVIDE_YOUR_OPEN_PLAN_INSTANCE>", "crn:v1:bluemix:public:quantum-computing:us-east:a/abc:def::"
    )
    (tmp_path / ".env").write_text(text)
    settings = load_settings(tmp_path / ".env", environ={})
    assert not settings.local and settings.channel == "ibm_quantum_platform"
    assert settings.instance.startswith("crn:v1:") and settings.plan.value == "open"


def test_an_ibm_name_on_the_local_fleet_suggests_its_fake_copy(shell, capsys):
    result, _, err = run(shell, capsys, "%qconnect ibm_fez")
    assert not result.success
    assert "UsageError: QPU 'ibm_fez' is not in the local fleet. Did you mean fake_fez?" in err


def test_the_pick_file_is_pick_json_in_the_jupyter_data_dir(clean_env, monkeypatch):
    monkeypatch.delenv("QCONNECTOR_PICK_FILE")
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(clean_env / "data"))
    assert pick_file() == clean_env / "data" / "qiskit-connector-lab" / "pick.json"
    write_pick("fake_fez", "local")
    assert read_pick("local").backend == "fake_fez" and pick_file().exists()
    assert read_pick("ibm") is None  # a local QPU is never the IBM pick
    write_pick(None, "local")
    assert read_pick() is None and not pick_file().exists()
    write_pick(None, "local")  # clearing twice is fine


def test_the_notebook_art_and_the_sidebar_share_one_colour_scale():
    """chip_art.py and src/art.ts hold the same bins, outlier marks and colours (one scale everywhere)."""
    from qiskit_connector_lab.render import chip_art

    source = (ROOT / "src" / "art.ts").read_text()
    for ts_name, py_name in (("readout", "readout"), ("'two-qubit'", "two_qubit")):
        match = re.search(rf"{ts_name}: \{{ edges: \[([^\]]*)\], outlier: ([0-9.]+) \}}", source)
        assert match, ts_name
        edges = tuple(float(v) for v in match.group(1).split(","))
        assert edges == chip_art.ERROR_SCALES[py_name]["edges"]
        assert float(match.group(2)) == chip_art.ERROR_SCALES[py_name]["outlier"]
    colours = re.search(r"BIN_COLOURS = \[([^\]]*)\]", source).group(1)
    assert tuple(re.findall(r"'(#[0-9a-f]{6})'", colours)) == chip_art.BIN_COLOURS
    css = (ROOT / "style" / "base.css").read_text()
    for index, colour in enumerate(chip_art.BIN_COLOURS):
        assert re.search(rf"edge\.jp-QiskitConnectorLab-bin{index} \{{\s*stroke: {colour};", css)


def test_chip_art_uses_the_absolute_scale_and_marks_outliers():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.colors import to_hex
    from qiskit_ibm_runtime.fake_provider import FakeFez

    from qiskit_connector_lab.render.chip_art import BIN_COLOURS, error_bin, is_outlier, plot_chip

    assert [error_bin(v, "readout") for v in (0.005, 0.015, 0.03, 0.05, 0.5)] == [0, 1, 2, 3, 4]
    assert error_bin(None, "readout") is None and is_outlier(1.0, "two_qubit") and not is_outlier(0.05, "two_qubit")
    fig = plot_chip(FakeFez(), color_by="two_qubit")
    lines = fig.axes[0].lines
    used = {to_hex(line.get_color()) for line in lines}
    assert used <= set(BIN_COLOURS) | {"#9e9e9e"} and len(used & set(BIN_COLOURS)) >= 3
    dashed = [line for line in lines if line.get_linestyle() != "-"]
    label = fig.axes[1].get_ylabel()
    assert label.startswith("2-qubit error (one scale for every QPU)")
    assert f"{len(dashed)} outliers ≥ 10 %, dashed" in label and dashed
