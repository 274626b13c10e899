"""Benchmark: connect() and the magics, cold and warm, on the local fleet and on IBM (the API emulator).

Every figure is a median over several runs taken in this one run, so the two sides of a ratio see the same
machine load. Cold figures run in a fresh interpreter each time (imports included); warm ones in-process.

    python bench/connect_and_magics.py [--runs 7] [--latency 0.05]

Prints a table and writes bench/results/connect_and_magics.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import ibm_dotenv_text  # noqa: E402
from emulator import IBMQuantumEmulator  # noqa: E402


def child(code: str, env: dict[str, str], cwd: str) -> float:
    """Run ``code`` in a fresh interpreter; it prints one float (seconds)."""
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return float(out.stdout.strip().splitlines()[-1])


IMPORT_RUNTIME = "import time; t=time.perf_counter(); import qiskit_ibm_runtime; print(time.perf_counter()-t)"
LOAD_EXT = (
    "from IPython.core.interactiveshell import InteractiveShell; sh=InteractiveShell.instance(); import time; "
    "t=time.perf_counter(); sh.run_line_magic('load_ext','qiskit_connector_lab'); print(time.perf_counter()-t)"
)
COLD_QCONNECT = (
    "from IPython.core.interactiveshell import InteractiveShell; sh=InteractiveShell.instance(); import time; "
    "sh.run_line_magic('load_ext','qiskit_connector_lab'); t=time.perf_counter(); "
    "sh.run_line_magic('qconnect','--quiet'); assert 'backend' in sh.user_ns; print(time.perf_counter()-t)"
)
COLD_CONNECT = (
    "import time; t=time.perf_counter(); from qiskit_connector_lab import connect; c=connect(); "
    "print(time.perf_counter()-t)"
)


def median(values: list[float]) -> float:
    return statistics.median(values)


def warm_qconnect(runs: int, ttl_wait: float) -> list[float]:
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "qiskit_connector_lab")
    sh.run_line_magic("qconnect", "--quiet")
    times = []
    for _ in range(runs):
        time.sleep(ttl_wait)
        t = time.perf_counter()
        sh.run_line_magic("qconnect", "--quiet")
        times.append(time.perf_counter() - t)
    sh.run_line_magic("unload_ext", "qiskit_connector_lab")
    return times


def warm_connect(runs: int, ttl_wait: float, after_first=lambda: None) -> list[float]:
    from qiskit_connector_lab import connect

    connect()
    after_first()
    times = []
    for _ in range(runs):
        time.sleep(ttl_wait)
        t = time.perf_counter()
        connect()
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.05, help="emulator latency per request, seconds")
    args = parser.parse_args()

    from qiskit_connector_lab import providers as provider_module

    work = tempfile.mkdtemp(prefix="qcl-bench-")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("IQP_", "QISKIT_IBM_", "QCONNECTOR_"))}
    base_env.update(
        {
            "HOME": work,
            "PYTHONPATH": os.pathsep.join([str(ROOT)] + sys.path[2:]),
            "QCONNECTOR_PICK_FILE": str(Path(work) / "pick.json"),
        }
    )
    results: dict[str, dict[str, float]] = {}

    def record(name: str, values: list[float]) -> None:
        results[name] = {"median_s": median(values), "min_s": min(values), "max_s": max(values), "runs": len(values)}

    # 1. %load_ext against `import qiskit_ibm_runtime`, interleaved so both see the same load.
    load_ext, import_runtime = [], []
    for _ in range(args.runs):
        load_ext.append(child(LOAD_EXT, base_env, work))
        import_runtime.append(child(IMPORT_RUNTIME, base_env, work))
    record("%load_ext qiskit_connector_lab", load_ext)
    record("import qiskit_ibm_runtime", import_runtime)

    # 2. The local fleet: cold and warm.
    record("local: cold %qconnect (fresh kernel)", [child(COLD_QCONNECT, base_env, work) for _ in range(args.runs)])
    record("local: cold connect() (imports included)", [child(COLD_CONNECT, base_env, work) for _ in range(args.runs)])
    os.environ.update({"HOME": work, "QCONNECTOR_PICK_FILE": base_env["QCONNECTOR_PICK_FILE"]})
    os.chdir(work)
    provider_module.forget_providers()
    record("local: warm %qconnect", warm_qconnect(args.runs, 0.0))
    provider_module.forget_providers()
    record("local: warm connect()", warm_connect(args.runs, 0.0))

    # 3. IBM through the real client against the emulator, with per-request latency.
    emulator = IBMQuantumEmulator(seed=1, latency=args.latency).start()
    try:
        ibm_env = dict(base_env)
        ibm_env.update({k: v for k, v in emulator.client_env().items() if k != "QISKIT_IBM_URL"})
        ibm_env["QCONNECTOR_ALLOW_HOSTS"] = "127.0.0.1"  # the explicit opt-in for the loopback emulator
        Path(work, ".env").write_text(ibm_dotenv_text(emulator, "open", QCONNECTOR_LISTING_TTL="0.2"))
        cold = []
        for _ in range(args.runs):
            emulator.reset_log()
            cold.append(child(COLD_CONNECT, ibm_env, work))
        cold_requests = len(emulator.requests)
        cold_backends = emulator.count("GET", "/api/v1/backends")
        record(f"ibm: cold connect() (latency {args.latency * 1000:.0f} ms)", cold)
        cold_q = [child(COLD_QCONNECT, ibm_env, work) for _ in range(args.runs)]
        record(f"ibm: cold %qconnect (latency {args.latency * 1000:.0f} ms)", cold_q)
        os.environ.update(
            {
                k: v
                for k, v in ibm_env.items()
                if k in ("IAM_URL", "GLOBAL_SEARCH_URL", "GLOBAL_CATALOG_URL", "QCONNECTOR_ALLOW_HOSTS")
            }
        )
        provider_module.forget_providers()
        record("ibm: warm connect() after the listing TTL", warm_connect(args.runs, 0.25, emulator.reset_log))
        warm_requests = [(r.method, r.path) for r in emulator.requests]
        provider_module.forget_providers()
        record("ibm: warm %qconnect after the listing TTL", warm_qconnect(args.runs, 0.25))
        emulator.reset_log()
        from qiskit_connector_lab import connect

        connect()
        connect()
        within_ttl_requests = len(emulator.requests)
    finally:
        emulator.stop()

    ratio = results["%load_ext qiskit_connector_lab"]["median_s"] / results["import qiskit_ibm_runtime"]["median_s"]
    counts = {
        "ibm cold connect: requests": cold_requests,
        "ibm cold connect: GET /api/v1/backends": cold_backends,
        f"ibm {args.runs} warm connects (after TTL): requests": len(warm_requests),
        f"ibm {args.runs} warm connects (after TTL): GET /api/v1/backends": warm_requests.count(
            ("GET", "/api/v1/backends")
        ),
        "ibm two connects within the TTL: requests": within_ttl_requests,
    }
    width = max(len(k) for k in results)
    print(f"{'measure':<{width}}  {'median':>9}  {'min':>9}  {'max':>9}")
    for name, row in results.items():
        print(
            f"{name:<{width}}  {row['median_s'] * 1000:8.1f}ms {row['min_s'] * 1000:8.1f}ms "
            f"{row['max_s'] * 1000:8.1f}ms"
        )
    print(f"ratio %load_ext / import qiskit_ibm_runtime: {ratio:.3f}")
    for name, value in counts.items():
        print(f"{name}: {value}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "connect_and_magics.json").write_text(
        json.dumps(
            {
                "runs": args.runs,
                "latency_s": args.latency,
                "results": results,
                "load_ext_over_import_runtime": ratio,
                "request_counts": counts,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
