"""The local job store under concurrency: 12 processes x 50 jobs at once, the old JSON store against the SQLite one.

Each writer process (a kernel) records a job QUEUED, then marks it DONE, 50 times, all writers starting together
(a shared start time). Both stores run in the same invocation, in turn, several rounds: ``old`` is the JSON file
under an fcntl lock of commit c73c495 (extracted with ``git archive``), ``new`` is the working tree.

Printed per store: jobs/s (600 jobs / the wall time from the start to the last writer's end, median of rounds),
p50 and p99 of one write's latency (every record and update of every writer), jobs lost, and the ratios new/old.

Run from the repository root, alone (it times things): ``python bench/job_store.py [--rounds 3]``. Nothing is
written to the checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLD_COMMIT = "c73c495"
WRITERS, JOBS = 12, 50

WRITER = textwrap.dedent("""
    import json, sys, time
    from qiskit_connector_lab.jobs import JobRecord, LocalJobStore
    path, name, start, jobs = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    store = LocalJobStore(path, keep=10000)
    store.get("warm-up")  # opens (and, for the database, creates and checks) the store before the clock starts
    while time.time() < start:
        time.sleep(0.001)
    latencies = []
    for i in range(jobs):
        job_id = f"{name}-{i}"
        t = time.perf_counter()
        store.record(JobRecord(id=job_id, backend="fake_fez", primitive="sampler", status="QUEUED", shots=100))
        latencies.append(time.perf_counter() - t)
        t = time.perf_counter()
        store.update(job_id, status="DONE", finished="2026-12-01T00:00:00+00:00")
        latencies.append(time.perf_counter() - t)
    print(json.dumps({"end": time.time(), "latencies": latencies}))
""")

COUNT = textwrap.dedent("""
    import sys
    from qiskit_connector_lab.jobs import LocalJobStore
    records, total = LocalJobStore(sys.argv[1], keep=10000).list(limit=100000)
    print(sum(r.status == "DONE" for r in records))
""")


def one_round(tree: Path, folder: Path, file_name: str) -> dict[str, float]:
    path = folder / file_name
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.time() + 3.0 + 0.25 * WRITERS  # every writer started and warm by then
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), f"w{n}", repr(start), str(JOBS)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(WRITERS)
    ]
    results = []
    for writer in writers:
        out, _ = writer.communicate(timeout=600)
        if writer.returncode != 0:
            raise SystemExit(f"a writer of {tree} failed (exit {writer.returncode})")
        results.append(json.loads(out))
    done = int(
        subprocess.run(
            [sys.executable, "-c", COUNT, str(path)], env=env, capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    latencies = sorted(x for r in results for x in r["latencies"])
    return {
        "jobs_per_s": WRITERS * JOBS / (max(r["end"] for r in results) - start),
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "lost": WRITERS * JOBS - done,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qcl-job-store-") as work:
        old_tree = Path(work) / "old"
        old_tree.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", OLD_COMMIT, "qiskit_connector_lab"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        sides = {"old": (old_tree, "jobs.json"), "new": (ROOT, "jobs.sqlite3")}
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
        for n in range(args.rounds):
            for name, (tree, file_name) in sides.items():  # in turn, so both see the same machine load
                folder = Path(work) / f"{name}-{n}"
                folder.mkdir()
                rounds[name].append(one_round(tree, folder, file_name))
    print(f"{WRITERS} processes x {JOBS} jobs (record + update each), {args.rounds} rounds, medians:")
    medians = {}
    for name, results in rounds.items():
        medians[name] = {key: statistics.median(r[key] for r in results) for key in results[0]}
        m = medians[name]
        print(
            f"  {name}: {m['jobs_per_s']:7.1f} jobs/s   write p50 {m['p50_ms']:7.2f} ms   p99 {m['p99_ms']:8.2f} ms"
            f"   lost {int(m['lost'])}"
        )
    old, new = medians["old"], medians["new"]
    print(
        f"  new/old: jobs/s x{new['jobs_per_s'] / old['jobs_per_s']:.2f}, p50 x{new['p50_ms'] / old['p50_ms']:.2f}, "
        f"p99 x{new['p99_ms'] / old['p99_ms']:.2f}"
    )


if __name__ == "__main__":
    main()
