"""The scripts a user runs first: scripts/setup.sh (behind run.sh and test.sh) says in one line when Node.js is
missing or too old, and run.sh never opens the source tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path):
    """A copy of the scripts in an empty project, so nothing is installed in the checkout."""
    (tmp_path / "scripts").mkdir()
    for name in ("setup.sh", "run.sh"):
        shutil.copy(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in (
        "bash",
        "env",
        "find",
        "sort",
        "xargs",
        "sha256sum",
        "cut",
        "cat",
        "dirname",
        "mkdir",
        "id",
        "pwd",
        "cp",
        "basename",
        "sed",
    ):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    (bin_dir / "python3").symlink_to(sys.executable)
    return tmp_path


def run_setup(project: Path, node_version: str | None) -> subprocess.CompletedProcess[str]:
    if node_version is not None:
        node = project / "bin" / "node"
        node.write_text(f"#!{shutil.which('bash')}\necho {node_version}\n")
        node.chmod(0o755)
    env = {"PATH": str(project / "bin"), "HOME": str(project), "PYTHON": sys.executable}
    return subprocess.run(
        [shutil.which("bash"), "scripts/setup.sh"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_no_node_is_one_clear_line(project):
    result = run_setup(project, None)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        (
            "qiskit-connector-lab: building the sidebar from source needs Node.js >= 20, and there is no 'node' on the "
            "PATH. Install Node.js 20 or newer, or install a built wheel instead (pip install "
            "qiskit_connector_lab-*.whl needs no Node)."
        )
    ]
    assert "Traceback" not in result.stdout + result.stderr
    assert not (project / ".venv").exists()  # nothing half-installed


def test_an_old_node_is_one_clear_line(project):
    result = run_setup(project, "v18.19.0")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        (
            "qiskit-connector-lab: building the sidebar from source needs Node.js >= 20, but 'node' is v18.19.0. "
            "Install Node.js 20 or newer, or install a built wheel instead (pip install qiskit_connector_lab-*.whl "
            "needs no Node)."
        )
    ]


def test_run_refuses_the_source_tree(project):
    (project / ".venv" / "bin").mkdir(parents=True)
    # An installed, up-to-date environment (so setup.sh has nothing to do).
    env = {"PATH": str(project / "bin"), "HOME": str(project), "PYTHON": sys.executable}
    jupyter = project / ".venv" / "bin" / "jupyter"
    jupyter.write_text(f'#!{shutil.which("bash")}\necho jupyter "$@" in "$PWD"\n')
    jupyter.chmod(0o755)
    script = "source <(sed -n '/^inputs_hash()/,/^}/p' scripts/setup.sh); PYTHON=$PYTHON inputs_hash"
    stamp = subprocess.run(
        [shutil.which("bash"), "-c", script], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    (project / ".venv" / ".qcl-installed").write_text(stamp.stdout)
    (project / "examples").mkdir()
    (project / "examples" / "01-x.ipynb").write_text("{}")
    refused = subprocess.run(
        [shutil.which("bash"), "scripts/run.sh", str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2 and "not the source tree" in refused.stderr
    default = subprocess.run(
        [shutil.which("bash"), "scripts/run.sh", "--no-browser"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert default.returncode == 0, default.stderr
    assert "up to date" in default.stdout  # the second start installs nothing
    assert f"jupyter lab --no-browser in {project / 'notebooks'}" in default.stdout.replace(" --allow-root", "")
    assert (project / "notebooks" / "01-x.ipynb").exists()  # the examples, copied in


def test_readme_rehearsal_lines_are_what_the_emulator_prints(tmp_path):
    """The README's "Rehearse the IBM path" steps quote the emulator's own output (export and .env lines)."""
    import re
    import socket
    import time

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Rehearse the IBM path without an account", 1)[1].split("\n## ", 1)[0]
    assert ".venv/bin/python tests/emulator --port 8765" in section
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    stated = [line.strip() for block in blocks[1:] for line in block.splitlines() if line.strip()]
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    emulator = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "emulator"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    try:
        printed: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(line.startswith("OPEN_PLAN_INSTANCE") for line in printed):
            line = emulator.stdout.readline()  # the emulator flushes its lines at once, then serves
            if not line:
                break
            printed.append(line.split("#", 1)[0].strip())
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    printed = [line.replace(str(port), "8765") for line in printed if line and not line.startswith("IBM Quantum")]
    assert stated == printed


def stated_wheel_kb(readme: str) -> int:
    """The wheel size the README states ("it is about N kB")."""
    import re

    found = re.search(r"`pip wheel --no-deps -w dist \.`.*?it is about (\d+) kB", readme, re.S)
    assert found, "the README states the wheel's size as 'it is about N kB' after its pip wheel step"
    return int(found.group(1))


def test_readme_states_the_wheel_size_as_built(tmp_path):
    """The README's wheel step builds into dist/ (ignored), and the size it states is the built wheel's, within 10%."""
    labextension = ROOT / "qiskit_connector_lab" / "labextension"
    if not (labextension / "static" / "style.js").is_file():
        pytest.skip("the sidebar is not built in this checkout (bash scripts/setup.sh builds it)")
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
    ).stdout.split(b"\0")
    copy = tmp_path / "checkout"
    for name in filter(None, (t.decode() for t in tracked)):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    shutil.copytree(labextension, copy / "qiskit_connector_lab" / "labextension")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q", "-w", "dist", "."],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (copy / "dist").glob("qiskit_connector_lab-*.whl")
    for where in ("dist/" + wheel.name, wheel.name):  # where the README's step puts it, or a bare `pip wheel .`
        ignored = subprocess.run(["git", "check-ignore", "-q", where], cwd=ROOT, timeout=30)
        assert ignored.returncode == 0, f"git does not ignore a built wheel at {where}"
    size_kb = wheel.stat().st_size / 1000
    stated = stated_wheel_kb((ROOT / "README.md").read_text())
    assert abs(stated - size_kb) <= 0.1 * size_kb, f"README says about {stated} kB; the wheel is {size_kb:.0f} kB"
