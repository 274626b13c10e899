"""The first cell of a lesson on the local fleet: a cold ``%qconnect`` against ``import qiskit_ibm_runtime``, six
kernels connecting at once, and a burst of Bell jobs from those six kernels, in one run.

1. **Cold connect.** In turn, ``--rounds`` times: a fresh interpreter times ``import qiskit_ibm_runtime`` (the floor:
   the local fleet's backends are the client's fake backends), then a fresh kernel (jupyter_client) runs
   ``%load_ext qiskit_connector_lab`` and the timed cell ``%qconnect --local``. Goal: the median ``%qconnect`` at most
   1.5x the median import.
2. **Six kernels starting together.** Six kernels start at once (threads), then all run ``%qconnect --local`` at
   once: each kernel's start and connect times.
3. **A burst of jobs.** Each of the six kernels transpiles a Bell circuit and runs one warm-up job (its first, on
   the worker the connect started), then all six submit ``--jobs-per-kernel`` (default 5) Bell jobs of 1024 shots at
   once (30 in all): per job, seconds from its submission to its result; p50, p95, max.

Writes ``bench/results/cold_connect.json``. Run from the repository root, alone (it times things):
``PYTHONPATH=$PWD python bench/cold_connect.py`` (``--rounds 3 --kernels 6 --jobs-per-kernel 5``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, Kernel, clean_env, machine_info, package_versions

IMPORT = "import time; t = time.perf_counter(); import qiskit_ibm_runtime; print(time.perf_counter() - t)"
BELL = (
    "import time, warnings\n"
    "warnings.simplefilter('ignore')\n"
    "from qiskit import QuantumCircuit\n"
    "from qiskit.transpiler import generate_preset_pass_manager\n"
    "from qiskit_ibm_runtime.executor_sampler import Sampler\n"
    "qc = QuantumCircuit(2); qc.h(0); qc.cx(0, 1); qc.measure_all()\n"
    "isa = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=1).run(qc)\n"
    "sampler = Sampler(mode=backend)\n"
    "t = time.perf_counter(); sampler.run([isa], shots=1024).result(); print(time.perf_counter() - t)\n"
)


def burst(jobs: int) -> str:
    return (
        "import json, time\n"
        f"submitted = [(time.perf_counter(), sampler.run([isa], shots=1024)) for _ in range({jobs})]\n"
        "latencies = []\n"
        "for t, job in submitted:\n"
        "    job.result()\n"
        "    latencies.append(time.perf_counter() - t)\n"
        "print(json.dumps(latencies))\n"
    )


def in_parallel(calls: list[Any]) -> list[Any]:
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kernels", type=int, default=6)
    parser.add_argument("--jobs-per-kernel", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="qcl-cold-") as home:
        env = clean_env(home, pythonpath=[str(ROOT)], QCONNECTOR_JOBS_FILE=str(Path(home) / "jobs.json"))
        imports, connects = [], []
        for round_ in range(args.rounds):
            out = subprocess.run(
                [sys.executable, "-c", IMPORT], env=env, capture_output=True, text=True, timeout=300, check=True
            )
            imports.append(float(out.stdout.strip()))
            kernel = Kernel(env)
            try:
                kernel.run("%load_ext qiskit_connector_lab")
                connects.append(kernel.run("%qconnect --local")[1])
            finally:
                kernel.close()
            print(f"round {round_ + 1}: import {imports[-1]:.2f} s, cold %qconnect {connects[-1]:.2f} s", flush=True)
        cold = {
            "import_median_s": statistics.median(imports),
            "qconnect_median_s": statistics.median(connects),
            "imports_s": imports,
            "qconnects_s": connects,
        }
        cold["ratio"] = cold["qconnect_median_s"] / cold["import_median_s"]
        print(
            f"cold %qconnect {cold['qconnect_median_s']:.2f} s vs import qiskit_ibm_runtime "
            f"{cold['import_median_s']:.2f} s: {cold['ratio']:.2f}x (goal <= 1.5x)",
            flush=True,
        )

        kernels: list[Kernel] = in_parallel([lambda: Kernel(env) for _ in range(args.kernels)])
        try:
            in_parallel([lambda k=k: k.run("%load_ext qiskit_connector_lab") for k in kernels])
            together = [took for _, took in in_parallel([lambda k=k: k.run("%qconnect --local") for k in kernels])]
            starts = [k.start_seconds for k in kernels]
            print(
                f"{args.kernels} kernels together: start {min(starts):.2f}-{max(starts):.2f} s, "
                f"%qconnect {min(together):.2f}-{max(together):.2f} s (median {statistics.median(together):.2f} s)",
                flush=True,
            )
            first = [float(out) for out, _ in in_parallel([lambda k=k: k.run(BELL) for k in kernels])]
            outs = in_parallel([lambda k=k: k.run(burst(args.jobs_per_kernel)) for k in kernels])
            latencies = [value for out, _ in outs for value in json.loads(out)]
        finally:
            in_parallel([k.close for k in kernels])
    jobs = {
        "jobs": len(latencies),
        "p50_s": percentile(latencies, 0.5),
        "p95_s": percentile(latencies, 0.95),
        "max_s": max(latencies),
        "first_job_per_kernel_s": first,
    }
    print(
        f"{len(latencies)} Bell jobs from {args.kernels} kernels at once: p50 {jobs['p50_s']:.2f} s, "
        f"p95 {jobs['p95_s']:.2f} s, max {jobs['max_s']:.2f} s (first job of each kernel: "
        f"{min(first):.2f}-{max(first):.2f} s)",
        flush=True,
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cold_connect.json").write_text(
        json.dumps(
            {
                "machine": machine_info(),
                "versions": package_versions(
                    sys.executable, ("qiskit", "qiskit-aer", "qiskit-ibm-runtime", "ipykernel")
                ),
                "cold_connect": cold,
                "kernels_together": {"kernels": args.kernels, "start_s": starts, "qconnect_s": together},
                "burst": jobs,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
