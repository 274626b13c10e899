"""Upstream cost of the Jobs view: what a jobs refresh costs IBM, however many tabs poll.

A real Jupyter server (subprocess) serves IBM Quantum through the REAL qiskit-ibm-runtime client against the
project's emulator (``tests/emulator``). ``--jobs`` Bell jobs are submitted with the real client (``--pending`` of
them held queued); then ``--tabs`` clients poll ``GET jobs`` back to back for ``--seconds``. The emulator's own log
counts what went upstream; the server's ``status`` route counts its refreshes (``jobs.list_calls``).

    python bench/jobs_refresh.py                      # 20 tabs, 10 jobs (3 pending), 10 s
    python bench/jobs_refresh.py --tabs 50 --pending 0

Prints, per refresh: ``GET /api/v1/jobs`` requests and all runtime requests, and refreshes per second (with a
pending job about one a second, ``jobs_pending_ttl``; with none, one per ``ttl``). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_load import ROOT, Server, clean_environment, status

sys.path.insert(0, str(ROOT / "tests"))


def submit(emulator, n: int) -> list[str]:
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2

    service = QiskitRuntimeService(**emulator.service_kwargs("open-instance"))
    backend = service.backend("ibm_perth")
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(qc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return [SamplerV2(mode=backend).run([isa], shots=100).job_id() for _ in range(n)]


async def run(args: argparse.Namespace) -> dict:
    import os

    from emulator import IBMQuantumEmulator

    emulator = IBMQuantumEmulator(seed=3).start()
    for key, value in emulator.client_env().items():
        if key != "QISKIT_IBM_URL":
            os.environ[key] = value
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    emulator.job_queue_seconds = emulator.job_run_seconds = 0.0
    submit(emulator, args.jobs - args.pending)
    emulator.wait_jobs_simulated()
    emulator.hold_jobs = True
    submit(emulator, args.pending)
    home = Path(tempfile.mkdtemp(prefix="qcl-bench-jobs-"))
    env = clean_environment(home)
    env.update({k: v for k, v in emulator.client_env().items() if k != "QISKIT_IBM_URL"})
    env.update(
        {
            "IQP_API_TOKEN": emulator.api_key,
            "OPEN_PLAN": "on",
            "OPEN_PLAN_INSTANCE": "open-instance",
            "CLOUD_API_URL": emulator.base_url,
            "IQP_RUNTIME_API_URL": emulator.base_url + "/api/v1",
            "QCONNECTOR_ALLOW_HOSTS": "127.0.0.1",
        }
    )
    traits = {"provider": "ibm", "ttl": args.ttl, "jobs_pending_ttl": args.pending_ttl, "refresh_interval": 60}
    server = Server(home, env, traits)
    client = AsyncHTTPClient(max_clients=args.tabs + 4)
    try:
        await server.wait_ready(client)
        await client.fetch(server.url("jobs"), headers=server.headers, request_timeout=60)  # sign in, first page
        before = await status(client, server)
        emulator.reset_log()
        until = time.perf_counter() + args.seconds
        latencies: list[float] = []

        async def tab() -> None:
            while time.perf_counter() < until:
                started = time.perf_counter()
                await client.fetch(server.url("jobs"), headers=server.headers, request_timeout=60)
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(tab() for _ in range(args.tabs)))
        after = await status(client, server)
    finally:
        server.stop()
        emulator.stop()
    refreshes = after["jobs"]["list_calls"] - before["jobs"]["list_calls"]
    runtime = [r for r in emulator.requests if r.path.startswith("/api/v1/")]
    lists = [r for r in runtime if r.method == "GET" and r.path == "/api/v1/jobs"]
    return {
        "tabs": args.tabs,
        "jobs": args.jobs,
        "pending": args.pending,
        "seconds": args.seconds,
        "ttl": args.ttl,
        "pending_ttl": args.pending_ttl,
        "answers": len(latencies),
        "median_latency_ms": round(statistics.median(latencies) * 1000, 1),
        "refreshes": refreshes,
        "refreshes_per_second": round(refreshes / args.seconds, 2),
        "list_requests_per_refresh": round(len(lists) / max(refreshes, 1), 2),
        "runtime_requests_per_refresh": round(len(runtime) / max(refreshes, 1), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tabs", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--pending", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ttl", type=float, default=10.0, help="the server's ttl (its default)")
    parser.add_argument("--pending-ttl", type=float, default=1.0, help="jobs_pending_ttl (its default)")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
