"""Side-by-side benchmark: this project's connect() against the original qiskit-connector and bare qiskit-ibm-runtime.

All three tools do the same work in the same run, through the project's IBM Quantum API emulator (the real
qiskit-ibm-runtime client on every side, loopback, a fixed latency per request): get a ready least-busy QPU backend
on the open plan, with N QPUs on the instance.

    python bench/compare.py                      # latency 50 ms, N = 7 and 40 QPUs, 5 runs (about 6-8 minutes)
    python bench/compare.py --runs 3 --qpus 7    # quicker
    python bench/compare.py --server-load read   # reuse bench/results/server_load.json instead of re-running it

1. Time to a ready least-busy backend, each run in a fresh interpreter (imports included), runs interleaved across
   the tools so they share the machine's load:
   - ``qiskit_connector_lab.connect()`` with a seed-style ``.env`` (open plan);
   - ``qiskit_connector.QConnectorV2()`` (the PyPI package, in its own venv ``bench/.venvs/seed``, created on first
     run with ``pip install qiskit-connector ipython``) reading a saved account in a temporary HOME;
   - bare ``QiskitRuntimeService(...).least_busy(operational=True, simulator=False, min_num_qubits=5)``.
   The emulator's log is reset before every run; its counts (total, ``GET /api/v1/backends``, ``.../status``) are
   kept for every run.
2. Import cost: ``%load_ext qiskit_connector_lab`` against ``import qiskit_connector`` (interleaved).
3. Warm reconnect of ours in the same process, after the listing TTL (and once within it).
4. The server load benchmark (``bench/server_load.py``), run or read.

Writes ``bench/results/compare.json`` and replaces the "Side-by-side" section of ``BENCHMARKS.md``.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    RESULTS,
    ROOT,
    VENVS,
    ChildFailed,
    clean_env,
    ensure_venv,
    machine_info,
    package_versions,
    records_between,
    request_counts,
    run_child,
    stats,
)
from conftest import ibm_dotenv_text
from emulator import IBMQuantumEmulator

SEED_VENV = VENVS / "seed"
SEED_PACKAGES = ("qiskit-connector", "ipython")  # it imports IPython but does not declare it
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
BEGIN, END = "<!-- bench/compare.py: begin -->", "<!-- bench/compare.py: end -->"
TOOLS = ("ours", "seed", "bare")
TOOL_LABEL = {
    "ours": "qiskit-connector-lab `connect()`",
    "seed": "qiskit-connector `QConnectorV2()`",
    "bare": "bare `QiskitRuntimeService().least_busy()`",
}
LISTING_TTL = 0.2  # ours, in its .env: short, so that warm reconnects after it are quick to take

# Each child prints one JSON line last. t0: start; t1: after `import qiskit_ibm_runtime` (the common dependency);
# t2: after importing the tool; t3: backend ready. total = t3 - t0 (imports included), call = t3 - t2.
_HEAD = "import json, os, time\nt0 = time.perf_counter()\nimport qiskit_ibm_runtime\nt1 = time.perf_counter()\n"
_TAIL = (
    "t3 = time.perf_counter()\n"
    "print(json.dumps({'backend': name, 'total_s': t3 - t0, 'call_s': t3 - t2, 'import_s': t2 - t0}))\n"
)
CODE = {
    "ours": _HEAD + "from qiskit_connector_lab import connect\nt2 = time.perf_counter()\n"
    "name = connect().backend.name\n" + _TAIL,
    "seed": _HEAD + "from qiskit_connector import QConnectorV2\nt2 = time.perf_counter()\n"
    "name = QConnectorV2().name\n" + _TAIL,
    "bare": _HEAD + "from qiskit_ibm_runtime import QiskitRuntimeService\nt2 = time.perf_counter()\n"
    "service = QiskitRuntimeService(channel='ibm_quantum_platform', token=os.environ.pop('BENCH_TOKEN'),"
    " url=os.environ['BENCH_URL'], instance=os.environ['BENCH_INSTANCE'])\n"
    "name = service.least_busy(operational=True, simulator=False, min_num_qubits=5).name\n" + _TAIL,
}

# Warm reconnect of ours, in one process: a cold connect, then `runs` connects each after the listing TTL, then one
# within it. Wall-clock windows (time.time()) let the parent split the emulator's log per connect.
WARM_CODE = """
import json, sys, time
from qiskit_connector_lab import connect
runs, wait = int(sys.argv[1]), float(sys.argv[2])
windows = []
def one(kind):
    start, t = time.time(), time.perf_counter()
    name = connect().backend.name
    windows.append({'kind': kind, 'start': start, 'end': time.time(), 'elapsed_s': time.perf_counter() - t,
                    'backend': name})
one('cold')
for _ in range(runs):
    time.sleep(wait)
    one('after_ttl')
one('within_ttl')
print(json.dumps(windows))
"""

IMPORT_CODE = {
    "load_ext": (
        "from IPython.core.interactiveshell import InteractiveShell\nimport json, time\n"
        "shell = InteractiveShell.instance()\nt = time.perf_counter()\n"
        "shell.run_line_magic('load_ext', 'qiskit_connector_lab')\n"
        "print(json.dumps({'s': time.perf_counter() - t}))\n"
    ),
    "seed_import": (
        "import json, time\nt = time.perf_counter()\nimport qiskit_connector\n"
        "print(json.dumps({'s': time.perf_counter() - t}))\n"
    ),
    "runtime_import": (
        "import json, time\nt = time.perf_counter()\nimport qiskit_ibm_runtime\n"
        "print(json.dumps({'s': time.perf_counter() - t}))\n"
    ),
}
IMPORT_LABEL = {
    "load_ext": "`%load_ext qiskit_connector_lab` (IPython InteractiveShell)",
    "seed_import": "`import qiskit_connector` (seed venv)",
    "runtime_import": "`import qiskit_ibm_runtime` (reference, our venv)",
}


def log(message: str) -> None:
    print(message, flush=True)


class Workspace:
    """Temporary HOMEs and working directories for the three tools, pointed at one running emulator."""

    def __init__(self, emulator: IBMQuantumEmulator, seed_python: Path, root: Path) -> None:
        self.emulator = emulator
        self.seed_python = seed_python
        crn = emulator.instance_crn("open-instance")
        self.crn = crn
        emu_env = {k: v for k, v in emulator.client_env().items() if k != "QISKIT_IBM_URL"}  # IAM, search, catalog
        emu_env["QCONNECTOR_ALLOW_HOSTS"] = "127.0.0.1"  # our explicit opt-in for the loopback emulator
        self.dirs: dict[str, Path] = {}
        self.envs: dict[str, dict[str, str]] = {}
        for tool in TOOLS:
            d = root / tool
            (d / "home").mkdir(parents=True)
            (d / "work").mkdir()
            self.dirs[tool] = d / "work"
            pythonpath = [str(ROOT)] if tool != "seed" else []
            self.envs[tool] = clean_env(d / "home", pythonpath, **emu_env)

        # ours: a seed-style .env naming the instance by its CRN (as the other two are given it), open plan.
        ours_env_file = ibm_dotenv_text(emulator, "open", instance=crn, QCONNECTOR_LISTING_TTL=str(LISTING_TTL))
        (self.dirs["ours"] / ".env").write_text(ours_env_file)
        self.envs["ours"]["QCONNECTOR_PICK_FILE"] = str(root / "ours" / "home" / "pick.json")

        # seed: a saved default account in its HOME pointing at the emulator, and its .env variables.
        url = emulator.base_url + "/experimental/api/v1"
        save = (
            "import os\nfrom qiskit_ibm_runtime import QiskitRuntimeService\n"
            "QiskitRuntimeService.save_account(channel='ibm_quantum_platform', token=os.environ['BENCH_TOKEN'], "
            "url=os.environ['BENCH_URL'], instance=os.environ['BENCH_INSTANCE'], set_as_default=True)\n"
        )
        subprocess.run(
            [str(seed_python), "-c", save],
            check=True,
            cwd=self.dirs["seed"],
            capture_output=True,
            env=dict(self.envs["seed"], BENCH_TOKEN=emulator.api_key, BENCH_URL=url, BENCH_INSTANCE=crn),
        )
        (self.dirs["seed"] / ".env").write_text(
            f'IQP_API_TOKEN="{emulator.api_key}"\nOPEN_PLAN="on"\nOPEN_PLAN_CHANNEL="ibm_quantum_platform"\n'
            f'OPEN_PLAN_INSTANCE="{crn}"\nOPEN_PLAN_NAME="open"\n'
        )

        # bare: explicit arguments (the token through the environment, not the command line).
        self.envs["bare"].update({"BENCH_TOKEN": emulator.api_key, "BENCH_URL": url, "BENCH_INSTANCE": crn})

    def python(self, tool: str) -> str:
        return str(self.seed_python) if tool == "seed" else sys.executable

    def run(self, tool: str) -> tuple[dict[str, Any], dict[str, int]]:
        """One cold run of ``tool``: its result line and the emulator's request counts for it."""
        self.emulator.reset_log()
        result = run_child(
            self.python(tool),
            CODE[tool],
            self.envs[tool],
            self.dirs[tool],
            timeout=240,
            secrets=(self.emulator.api_key,),
        )
        return result.value, request_counts(self.emulator.requests)


def measure_connect(
    emulator: IBMQuantumEmulator, workspace: Workspace, n: int, runs: int, warmup: bool
) -> dict[str, Any]:
    per_tool: dict[str, dict[str, Any]] = {t: {"runs": [], "failures": []} for t in TOOLS}
    if warmup:  # one discarded run per tool: page cache and .pyc files, equally for everyone
        for tool in TOOLS:
            try:
                workspace.run(tool)
            except ChildFailed:
                pass
    for i in range(runs):
        for tool in TOOLS:  # interleaved: all three see the same load
            try:
                value, counts = workspace.run(tool)
                per_tool[tool]["runs"].append({**value, "requests": counts})
                log(
                    f"  N={n:<3} run {i + 1}/{runs} {tool:<4} {value['total_s']:7.2f} s  "
                    f"(call {value['call_s']:6.2f} s)  {counts['total']:4d} requests, "
                    f"{counts['backends']} /backends, {counts['status']} status  -> {value['backend']}"
                )
            except ChildFailed as exc:
                per_tool[tool]["failures"].append(exc.text)
                log(f"  N={n:<3} run {i + 1}/{runs} {tool:<4} FAILED: {exc.text}")
    out: dict[str, Any] = {"qpus": n, "latency_s": emulator.latency, "tools": {}}
    for tool, data in per_tool.items():
        ok = data["runs"]
        entry: dict[str, Any] = {"label": TOOL_LABEL[tool], "ok_runs": len(ok), "failures": data["failures"]}
        if ok:
            entry["total"] = stats([r["total_s"] for r in ok])
            entry["call"] = stats([r["call_s"] for r in ok])
            # the representative run: the one whose total time is the median (the lower middle for even counts)
            ranked = sorted(ok, key=lambda r: r["total_s"])
            rep = ranked[(len(ranked) - 1) // 2]
            entry["requests"] = rep["requests"]
            entry["requests_vary"] = len({json.dumps(r["requests"], sort_keys=True) for r in ok}) > 1
            entry["requests_range"] = {
                k: [min(r["requests"].get(k, 0) for r in ok), max(r["requests"].get(k, 0) for r in ok)]
                for k in rep["requests"]
            }
            entry["backends_chosen"] = sorted({r["backend"] for r in ok})
            entry["per_run"] = ok
        out["tools"][tool] = entry
    ours = out["tools"]["ours"].get("total")
    for entry in out["tools"].values():
        if ours and "total" in entry:
            entry["ratio_to_ours"] = entry["total"]["median_s"] / ours["median_s"]
            entry["call_ratio_to_ours"] = entry["call"]["median_s"] / out["tools"]["ours"]["call"]["median_s"]
    return out


def measure_warm(emulator: IBMQuantumEmulator, workspace: Workspace, runs: int) -> dict[str, Any]:
    emulator.reset_log()
    try:
        result = run_child(
            sys.executable,
            WARM_CODE,
            workspace.envs["ours"],
            workspace.dirs["ours"],
            timeout=240,
            secrets=(emulator.api_key,),
            args=(str(runs), str(LISTING_TTL + 0.05)),
        )
    except ChildFailed as exc:
        return {"failure": exc.text}
    records = emulator.requests
    windows = result.value
    for w in windows:
        w["requests"] = request_counts(records_between(records, w["start"], w["end"]))
    after = [w for w in windows if w["kind"] == "after_ttl"]
    within = [w for w in windows if w["kind"] == "within_ttl"]
    return {
        "listing_ttl_s": LISTING_TTL,
        "after_ttl": stats([w["elapsed_s"] for w in after]),
        "after_ttl_requests_each": [w["requests"] for w in after],
        "within_ttl_s": within[0]["elapsed_s"],
        "within_ttl_requests": within[0]["requests"],
        "cold_in_process_s": windows[0]["elapsed_s"],
        "cold_in_process_requests": windows[0]["requests"],
        "backends_chosen": sorted({w["backend"] for w in windows}),
    }


def measure_imports(seed_python: Path, workspace_root: Path, runs: int) -> dict[str, Any]:
    home = workspace_root / "imports"
    (home / "work").mkdir(parents=True)
    ours_env = clean_env(home, [str(ROOT)])
    seed_env = clean_env(home)
    plan: dict[str, tuple[str, dict[str, str]]] = {
        "load_ext": (sys.executable, ours_env),
        "seed_import": (str(seed_python), seed_env),
        "runtime_import": (sys.executable, ours_env),
    }
    values: dict[str, list[float]] = {k: [] for k in plan}
    failures: dict[str, list[str]] = {k: [] for k in plan}
    for i in range(runs + 1):  # the first round is a discarded warm-up
        for key, (python, env) in plan.items():
            try:
                value = run_child(python, IMPORT_CODE[key], env, home / "work", timeout=120).value["s"]
                if i:
                    values[key].append(value)
            except ChildFailed as exc:
                failures[key].append(exc.text)
    out: dict[str, Any] = {}
    for key in plan:
        out[key] = {"label": IMPORT_LABEL[key], "failures": failures[key]}
        if values[key]:
            out[key].update(stats(values[key]))
    if "median_s" in out["load_ext"] and "median_s" in out["seed_import"]:
        out["seed_over_load_ext"] = out["seed_import"]["median_s"] / out["load_ext"]["median_s"]
    return out


def server_load(mode: str, extra: str) -> dict[str, Any]:
    """Run ``bench/server_load.py`` into a file of our own (its committed ``server_load.json`` stays as it is), or
    read that committed file when the run is not wanted or fails."""
    path = RESULTS / "server_load.json"
    own = RESULTS / "compare_server_load.json"
    script = ROOT / "bench" / "server_load.py"
    note = ""
    if mode == "run":
        if not script.exists():
            note = "bench/server_load.py is missing"
        else:
            cmd = [sys.executable, str(script), "--out", str(own), *shlex.split(extra)]
            log(f"server load: {' '.join(shlex.quote(c) for c in cmd[1:])}")
            started = time.perf_counter()
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
                if out.returncode == 0:
                    data = json.loads(own.read_text())
                    return {
                        "source": "run now",
                        "command": "python bench/server_load.py " + extra,
                        "elapsed_s": time.perf_counter() - started,
                        "result": data,
                    }
                note = f"bench/server_load.py exited {out.returncode}: " + (out.stderr or out.stdout)[-400:].strip()
            except subprocess.TimeoutExpired:
                note = "bench/server_load.py timed out after 300 s"
            except (OSError, json.JSONDecodeError) as exc:
                note = f"bench/server_load.py: {exc}"
        log(f"server load: {note}")
    if mode != "skip" and path.exists():
        try:
            return {
                "source": "read from bench/results/server_load.json",
                "note": note,
                "result": json.loads(path.read_text()),
            }
        except (OSError, json.JSONDecodeError) as exc:
            note += f"; reading {path.name} failed: {exc}"
    return {"source": "none", "note": note or "skipped"}


# --- report ------------------------------------------------------------------------------------------------------
def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def fmt_counts(counts: dict[str, int]) -> str:
    rest = ", ".join(f"{k} {v}" for k, v in counts.items() if k not in ("total", "backends", "status") and v)
    return (
        f"{counts['total']} ({counts['backends']} `GET /backends`, {counts['status']} status"
        + (f"; {rest}" if rest else "")
        + ")"
    )


def connect_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| N QPUs | tool | median | min | max | call only (median) | requests | `GET /backends` | status calls "
        "| × ours (median; call only) | backend chosen |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for block in results:
        for tool in TOOLS:
            e = block["tools"][tool]
            if "total" not in e:
                fail = "; ".join(sorted(set(e["failures"]))) or "no run"
                lines.append(
                    f"| {block['qpus']} | {e['label']} | **failed** ({len(e['failures'])}/"
                    f"{len(e['failures'])} runs): `{fail[:160]}` | | | | | | | | |"
                )
                continue
            t, r = e["total"], e["requests"]
            star = "" if not e["requests_vary"] else " *"
            partial = f" ({len(e['failures'])} failed: `{e['failures'][0][:80]}`)" if e["failures"] else ""
            lines.append(
                f"| {block['qpus']} | {e['label']}{partial} | **{fmt_s(t['median_s'])}** | {fmt_s(t['min_s'])} | "
                f"{fmt_s(t['max_s'])} | {fmt_s(e['call']['median_s'])} | {r['total']}{star} | {r['backends']}{star} | "
                f"{r['status']}{star} | {e['ratio_to_ours']:.2f}×; {e['call_ratio_to_ours']:.2f}× | "
                f"{', '.join(e['backends_chosen'])} |"
            )
    return lines


def verdict(results: list[dict[str, Any]], warm: dict[str, Any]) -> list[str]:
    lines = []
    for block in results:
        ours, seed = block["tools"]["ours"], block["tools"]["seed"]
        n = block["qpus"]
        if "total" not in ours:
            lines.append(f"- N={n}: our connect failed, so the target cannot be judged.")
            continue
        if "total" not in seed:
            lines.append(
                f"- N={n}: the seed failed ({'; '.join(sorted(set(seed['failures'])))[:160]}), so there is "
                "no seed time to compare with; ours took "
                f"{fmt_s(ours['total']['median_s'])} with {ours['requests']['backends']} `GET /backends`."
            )
            continue
        share = ours["total"]["median_s"] / seed["total"]["median_s"]
        call_share = ours["call"]["median_s"] / seed["call"]["median_s"]
        holds = "holds" if share <= 0.25 else "does NOT hold"
        call_holds = "holds" if call_share <= 0.25 else "does NOT hold"
        lines.append(
            f"- N={n}: ours / seed = **{share:.3f}** of the wall time with imports ({holds} against ≤ 0.25), "
            f"**{call_share:.3f}** for the call alone ({call_holds}). Ours made "
            f"{ours['requests']['backends']} `GET /api/v1/backends` in all "
            f"({ours['requests']['total']} requests) against the seed's {seed['requests']['backends']} "
            f"({seed['requests']['total']} requests, {seed['requests']['status']} of them status calls)."
        )
        if share > 0.25 >= call_share:
            ours_import = statistics.median(r["import_s"] for r in ours["per_run"])
            seed_import = statistics.median(r["import_s"] for r in seed["per_run"])
            budget = 0.25 * seed["total"]["median_s"] - ours_import
            floor = ours["requests"]["total"] * block["latency_s"]
            lines.append(
                f"  Why: the imports every tool pays in a fresh interpreter, {fmt_s(ours_import)} of ours' "
                f"{fmt_s(ours['total']['median_s'])} (the seed's: {fmt_s(seed_import)}), almost all of it "
                f"`import qiskit_ibm_runtime`. To reach 1/4 with them, ours' call would have to take "
                f"{fmt_s(max(budget, 0))}; it takes {fmt_s(ours['call']['median_s'])}, of which "
                f"{ours['requests']['total']} requests × {block['latency_s'] * 1000:.0f} ms = "
                f"{fmt_s(floor)} is the emulator's latency."
            )
    if "after_ttl_requests_each" in warm:
        each = [r["backends"] for r in warm["after_ttl_requests_each"]]
        totals = [r["total"] for r in warm["after_ttl_requests_each"]]
        ok = all(b == 1 for b in each)
        cold_b = warm["cold_in_process_requests"]["backends"]
        lines.append(
            f"- One `/backends` after init: the cold connect makes {cold_b} `GET /backends` in all (the one "
            f"the client's init makes, reused as the listing). Each warm reconnect after the listing TTL "
            f"makes {each} (requests in all: {totals}): {'exactly one each' if ok else 'NOT exactly one'}; "
            f"within the TTL: {warm['within_ttl_requests']['total']} requests."
        )
    return lines


def render(report: dict[str, Any]) -> str:
    m, a = report["machine"], report["args"]
    lat_ms = a["latency"] * 1000
    out = [
        BEGIN,
        "## Side-by-side: time to a ready least-busy backend",
        "",
        f"Reproduce: `{report['command']}` (total run time of this report: {report['elapsed_s'] / 60:.1f} min).",
        "",
        f"Machine: {m['cpus']} cores ({m.get('cpu_model', 'unknown CPU')}), Python {m['python']}, {m['platform']}; "
        f"load average {m.get('loadavg_at_start')} at start, {m.get('loadavg_at_end')} at end (the machine is "
        f"shared); {m['when_utc']}. "
        f"Packages: ours qiskit-ibm-runtime {report['versions']['ours'].get('qiskit-ibm-runtime')}, "
        f"seed venv qiskit-connector {report['versions']['seed'].get('qiskit-connector')} with "
        f"qiskit-ibm-runtime {report['versions']['seed'].get('qiskit-ibm-runtime')}.",
        "",
        f"Every tool talks to the project's IBM Quantum API emulator (`tests/emulator/`) through the real "
        f"qiskit-ibm-runtime client, loopback, **{lat_ms:.0f} ms latency per request**, open plan, the instance "
        f"given by CRN to all three. Each run is a fresh interpreter (cold, imports included: "
        f'wall time from before `import qiskit_ibm_runtime` to the backend object); "call only" leaves out the '
        f"imports. {a['runs']} runs per tool and N, interleaved across tools after one discarded warm-up run each. "
        f"Requests are from the emulator's log of the median run (reset before each run; `*` = they varied "
        f"between runs, see the JSON).",
        "",
    ]
    out += connect_table(report["connect"]) + [""]
    out += ["**Target** (ours ≤ 1/4 of the seed's wall time, one `/backends` request after init):", ""]
    out += verdict(report["connect"], report["warm"]) + [""]

    w = report["warm"]
    out += ["### Warm reconnect (ours, same process)", ""]
    if "after_ttl" in w:
        t = w["after_ttl"]
        out += [
            "| measure | median | min | max | requests each |",
            "|---|---:|---:|---:|---|",
            f"| `connect()` again after the listing TTL ({w['listing_ttl_s']} s), N={report['warm_qpus']} | "
            f"**{fmt_s(t['median_s'])}** | {fmt_s(t['min_s'])} | {fmt_s(t['max_s'])} | "
            f"{fmt_counts(w['after_ttl_requests_each'][0])} |",
            f"| `connect()` again within the TTL | {fmt_s(w['within_ttl_s'])} | | | "
            f"{fmt_counts(w['within_ttl_requests'])} |",
            f"| the first (cold) `connect()` of that process | {fmt_s(w['cold_in_process_s'])} | | | "
            f"{fmt_counts(w['cold_in_process_requests'])} |",
            "",
        ]
    else:
        out += [f"Failed: `{w.get('failure')}`", ""]

    imp = report["imports"]
    out += [
        "### Import cost (fresh interpreter each, interleaved)",
        "",
        "| measure | median | min | max |",
        "|---|---:|---:|---:|",
    ]
    for key in ("load_ext", "seed_import", "runtime_import"):
        e = imp[key]
        if "median_s" in e:
            out.append(f"| {e['label']} | **{fmt_s(e['median_s'])}** | {fmt_s(e['min_s'])} | {fmt_s(e['max_s'])} |")
        else:
            out.append(f"| {e['label']} | failed: `{'; '.join(e['failures'])[:160]}` | | |")
    if "seed_over_load_ext" in imp:
        out += [
            "",
            f"`import qiskit_connector` takes {imp['seed_over_load_ext']:.0f}× as long as "
            "`%load_ext qiskit_connector_lab` (which defers qiskit and the IBM client to first use).",
        ]
    out.append("")

    sl = report["server_load"]
    out += ["### Server load (`bench/server_load.py`)", ""]
    if "result" in sl:
        r = sl["result"]
        lat = r.get("latency_ms", {})
        up = r.get("upstream", {})
        out += [
            f"Source: {sl['source']}" + (f" ({sl['note']})" if sl.get("note") else "") + f"; measured {r.get('when')}.",
            "",
            "| provider | QPUs | clients | seconds | requests | failures | req/s | p50 | p99 | max "
            "| upstream listings | per refresh interval |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {r.get('provider')} | {r.get('qpus')} | {r.get('clients')} | {r.get('seconds')} | "
            f"{r.get('requests')} | {r.get('failures')} | {r.get('requests_per_second')} | {lat.get('p50')} ms | "
            f"{lat.get('p99')} ms | {lat.get('max')} ms | {up.get('listing_calls')} | "
            f"{up.get('per_refresh_interval')} (interval {r.get('refresh_interval')} s) |",
            "",
        ]
    else:
        out += [f"Not available: {sl.get('note')}", ""]
    out.append(END)
    return "\n".join(out) + "\n"


def write_markdown(section: str) -> None:
    if BENCHMARKS_MD.exists():
        text = BENCHMARKS_MD.read_text()
        pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.S)
        text = pattern.sub(lambda _m: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    else:
        text = (
            "# Benchmarks\n\nFigures written by the scripts in `bench/` (see `bench/README.md`). "
            "Not part of CI.\n\n" + section
        )
    BENCHMARKS_MD.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.05, help="emulator latency per request, s (default 0.05)")
    parser.add_argument("--qpus", type=int, nargs="+", default=[7, 40], help="N QPUs on the instance (default 7 40)")
    parser.add_argument("--runs", type=int, default=5, help="cold runs per tool and N (default 5)")
    parser.add_argument("--import-runs", type=int, default=None, help="import-cost runs (default: --runs)")
    parser.add_argument("--warm-runs", type=int, default=None, help="warm reconnects (default: --runs)")
    parser.add_argument(
        "--server-load",
        choices=("run", "read", "skip"),
        default="run",
        help="run bench/server_load.py (default), read its last JSON, or skip it",
    )
    parser.add_argument("--server-load-args", default="", help="extra arguments for bench/server_load.py")
    parser.add_argument("--no-markdown", action="store_true", help="do not touch BENCHMARKS.md")
    parser.add_argument(
        "--render", action="store_true", help="measure nothing: rewrite BENCHMARKS.md from bench/results/compare.json"
    )
    args = parser.parse_args()
    if args.render:
        section = render(json.loads((RESULTS / "compare.json").read_text()))
        write_markdown(section)
        print(section)
        return
    started = time.perf_counter()
    command = "python bench/compare.py" + "".join(f" {a}" for a in sys.argv[1:])

    seed_python = ensure_venv(SEED_VENV, SEED_PACKAGES, "qiskit_connector", log=log)
    machine = machine_info()
    versions = {
        "ours": package_versions(sys.executable, ["qiskit", "qiskit-ibm-runtime", "qiskit-connector-lab"]),
        "seed": package_versions(str(seed_python), ["qiskit", "qiskit-ibm-runtime", "qiskit-connector", "ipython"]),
    }
    scratch = Path(tempfile.mkdtemp(prefix="qcl-compare-"))
    report: dict[str, Any] = {
        "command": command,
        "args": {"latency": args.latency, "qpus": args.qpus, "runs": args.runs},
        "machine": machine,
        "versions": versions,
        "connect": [],
    }
    try:
        # 1 (and 3). Time to a ready least-busy backend, per N; the warm reconnect on the first N.
        for index, n in enumerate(args.qpus):
            log(
                f"time to a ready least-busy backend: N={n} QPUs, latency {args.latency * 1000:.0f} ms, "
                f"{args.runs} runs per tool"
            )
            emulator = IBMQuantumEmulator(backends=n, latency=args.latency, seed=1).start()
            try:
                workspace = Workspace(emulator, seed_python, scratch / f"n{n}")
                report["connect"].append(measure_connect(emulator, workspace, n, args.runs, warmup=index == 0))
                if index == 0:
                    log("warm reconnect (ours, in-process)")
                    report["warm"] = measure_warm(emulator, workspace, args.warm_runs or args.runs)
                    report["warm_qpus"] = n
                if emulator.errors:
                    report.setdefault("emulator_errors", []).extend(emulator.errors)
            finally:
                emulator.stop()
        # 2. Import cost.
        log("import cost (interleaved)")
        report["imports"] = measure_imports(seed_python, scratch, args.import_runs or args.runs)
        # 4. Server load.
        report["server_load"] = server_load(args.server_load, args.server_load_args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    report["elapsed_s"] = time.perf_counter() - started
    report["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "compare.json").write_text(json.dumps(report, indent=2, default=str))
    section = render(report)
    if not args.no_markdown:
        write_markdown(section)
    print()
    print(section)
    log(
        f"wrote {RESULTS.relative_to(ROOT)}/compare.json"
        + ("" if args.no_markdown else f" and {BENCHMARKS_MD.relative_to(ROOT)}")
        + f" in {report['elapsed_s'] / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
