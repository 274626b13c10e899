"""What checking an API key costs: requests and time, the real qiskit-ibm-runtime client against the emulator.

For a good key (N instances: 2 + N requests, no ``/backends``), a bad key (one IAM request, the "refused" line) and a
stalled IAM (the deadline line, after the deadline and no later). Prints medians of a few runs.

    PYTHONPATH=$PWD .venv/bin/python bench/signin_requests.py [--runs 5] [--instances 3] [--deadline 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from emulator import IBMQuantumEmulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--deadline", type=float, default=2.0)
    args = parser.parse_args()
    instances = [{"name": f"instance-{i}", "plan": "open"} for i in range(args.instances)]
    emu = IBMQuantumEmulator(seed=1, instances=instances).start()
    try:
        for name, value in emu.client_env().items():
            if name != "QISKIT_IBM_URL":
                os.environ[name] = value
        from qiskit_connector_lab.accounts import sign_in

        sign_in.list_instances(emu.api_key, cloud_url=emu.base_url)  # imports and first connections
        for label, key in (("good key", emu.api_key), ("bad key", "wrong-key-0123456789")):
            times, counts, backends, outcome = [], [], [], ""
            for _ in range(args.runs):
                emu.reset_log()
                started = time.perf_counter()
                try:
                    outcome = f"{len(sign_in.list_instances(key, cloud_url=emu.base_url))} instances"
                except Exception as error:
                    outcome = str(error).split(".")[0]
                times.append(time.perf_counter() - started)
                counts.append(len(emu.requests))
                backends.append(emu.count(path="/api/v1/backends", prefix=True))
            print(
                f"{label:9s} requests {statistics.median(counts):g} (GET /backends {max(backends)}), "
                f"median {statistics.median(times) * 1000:.0f} ms: {outcome}"
            )
        emu.inject("stall", "/identity/token", seconds=args.deadline * 5)
        started = time.perf_counter()
        try:
            sign_in.list_instances(emu.api_key, cloud_url=emu.base_url, seconds=args.deadline)
        except Exception as error:
            print(f"stalled IAM: {time.perf_counter() - started:.2f} s for a {args.deadline:g} s deadline: {error}")
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
