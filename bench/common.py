"""Helpers shared by the benchmarks in ``bench/``: clean child environments, cold runs in fresh interpreters,
statistics, machine information, the emulator's request counts, and the seed connector's own venv.

Not part of the test suite, and never imported by the package.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
VENVS = BENCH / ".venvs"

for _path in (str(ROOT / "tests"), str(ROOT)):  # `from emulator import ...`, `from conftest import ...`
    if _path not in sys.path:
        sys.path.insert(0, _path)

#: Variables of the connectors, the IBM client and the cloud SDK that must never leak into a measured child.
DROP_PREFIXES = (
    "IQP_",
    "QISKIT_IBM_",
    "QCONNECTOR_",
    "OPEN_PLAN",
    "PAID_PLAN",
    "PAYGO_PLAN",
    "FLEX_PLAN",
    "PREMIUM_PLAN",
    "DEDICATED_PLAN",
    "STANDARD_PLAN",
    "PAY-AS-YOU-GO",
)
DROP_NAMES = {
    "CLOUD_API_URL",
    "QUANTUM_API_URL",
    "IAM_URL",
    "GLOBAL_SEARCH_URL",
    "GLOBAL_CATALOG_URL",
    "IBM_CREDENTIALS_FILE",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
}


def clean_env(home: str | os.PathLike[str], pythonpath: Sequence[str] = (), **extra: str) -> dict[str, str]:
    """The parent's environment minus every connector/IBM variable, with ``HOME`` set and loopback unproxied."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROP_PREFIXES) and k not in DROP_NAMES}
    env.update({"HOME": str(home), "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    env.update(extra)
    return env


class ChildFailed(RuntimeError):
    """A measured child exited non-zero or printed no result; ``text`` is a short, token-free failure text."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class ChildResult:
    value: Any  # the JSON object on the child's last stdout line
    stdout: str
    stderr: str
    wall_s: float  # wall time of the whole subprocess, interpreter start included


def last_error_line(text: str) -> str:
    """The last line that looks like an exception (``SomeError: ...``), else the last non-empty line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if head.endswith(("Error", "Exception", "Exit", "Interrupt")) and " " not in head:
            return line
    return lines[-1] if lines else "(no output)"


def run_child(
    python: str,
    code: str,
    env: dict[str, str],
    cwd: str | os.PathLike[str],
    timeout: float = 300,
    secrets: Iterable[str] = (),
    args: Sequence[str] = (),
) -> ChildResult:
    """Run ``code`` with ``python`` in a fresh interpreter; its last stdout line must be a JSON object."""
    started = time.perf_counter()
    try:
        out = subprocess.run(
            [python, "-c", code, *args],
            env=env,
            cwd=str(cwd),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise ChildFailed(f"timed out after {timeout:.0f} s") from None
    wall = time.perf_counter() - started

    def scrub(text: str) -> str:
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    stdout, stderr = scrub(out.stdout), scrub(out.stderr)
    lines = [line for line in stdout.splitlines() if line.strip()]
    if out.returncode != 0 or not lines:
        raise ChildFailed(f"exit {out.returncode}: {last_error_line(stderr or stdout)}"[:300])
    try:
        value = json.loads(lines[-1])
    except json.JSONDecodeError:
        raise ChildFailed(f"no result line; last output: {lines[-1][:200]}") from None
    return ChildResult(value=value, stdout=stdout, stderr=stderr, wall_s=wall)


def stats(values: Sequence[float]) -> dict[str, float | int]:
    return {"median_s": statistics.median(values), "min_s": min(values), "max_s": max(values), "runs": len(values)}


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "when_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def package_versions(python: str, names: Sequence[str]) -> dict[str, str | None]:
    code = (
        "import json, importlib.metadata as m\n"
        "def v(n):\n try: return m.version(n)\n except Exception: return None\n"
        f"print(json.dumps({{n: v(n) for n in {list(names)!r}}}))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return dict.fromkeys(names)


# --- the emulator's request log ---------------------------------------------------------------------------------
def classify(method: str, path: str) -> str:
    """A short label for one upstream request."""
    if path == "/identity/token":
        return "iam"
    if path.startswith("/v3/resources/search"):
        return "search"
    if path.startswith("/catalog"):
        return "catalog"
    if path == "/api/v1/backends":
        return "backends" if method == "GET" else "other"
    if path.startswith("/api/v1/backends/"):
        return path.rsplit("/", 1)[-1]  # status, configuration, properties, defaults
    return "other"


def request_counts(records: Iterable[Any]) -> dict[str, int]:
    """Counts per kind of request: ``total``, ``backends`` (GET /api/v1/backends), ``status``, ``configuration``..."""
    kinds = Counter(classify(r.method, r.path) for r in records)
    out = {"total": sum(kinds.values()), "backends": kinds.get("backends", 0), "status": kinds.get("status", 0)}
    for kind in sorted(kinds):
        out.setdefault(kind, kinds[kind])
    return out


def records_between(records: Iterable[Any], start: float, end: float) -> list[Any]:
    """Records whose arrival time (``time.time()``) lies in ``[start, end]``."""
    return [r for r in records if start <= r.timestamp <= end]


# --- the seed connector's own venv ------------------------------------------------------------------------------
def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(venv: Path, packages: Sequence[str], check_import: str, log=print) -> Path:
    """A venv at ``venv`` with ``packages`` from the package index (created on first use); returns its python."""
    python = venv_python(venv)
    if python.exists():
        probe = subprocess.run(
            [
                str(python),
                "-c",
                f"import importlib.util as u, sys; sys.exit(0 if u.find_spec({check_import!r}) else 1)",
            ],
            capture_output=True,
        )
        if probe.returncode == 0:
            return python
    log(f"creating {venv.relative_to(ROOT)} with pip install {' '.join(packages)} (first run only)...")
    started = time.perf_counter()
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    out = subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], capture_output=True, text=True)
    if out.returncode != 0:
        tail = "\n".join(line for line in out.stderr.splitlines() if "is ignored" not in line)[-2000:]
        raise RuntimeError(f"pip install {' '.join(packages)} failed in {venv}:\n{tail}")
    log(f"  done in {time.perf_counter() - started:.0f} s")
    return python


class Kernel:
    """A real kernel for a benchmark: ``run`` gives (stdout, seconds); an error in the cell is one RuntimeError."""

    def __init__(self, env: dict[str, str], startup_timeout: float = 300) -> None:
        from jupyter_client.manager import start_new_kernel

        start = time.perf_counter()
        self.manager, self.client = start_new_kernel(kernel_name="python3", env=env, startup_timeout=startup_timeout)
        self.start_seconds = time.perf_counter() - start

    def run(self, code: str, timeout: float = 600) -> tuple[str, float]:
        out: list[str] = []
        errors: list[str] = []

        def hook(message: dict) -> None:
            if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
                out.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                errors.append(f"{message['content']['ename']}: {message['content']['evalue']}")

        start = time.perf_counter()
        self.client.execute_interactive(code, timeout=timeout, output_hook=hook)
        took = time.perf_counter() - start
        if errors:
            raise RuntimeError(errors[0][:300])
        return "".join(out), took

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
