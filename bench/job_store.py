"""The local job store under concurrency: 12 processes x 50 jobs at once, the old JSON store against the SQLite one.

Each writer process (a kernel) records a job QUEUED, then marks it DONE, 50 times, all writers starting together
(a shared start time). Both stores run in the same invocation, in turn, several rounds: ``old`` is the JSON file
under an fcntl lock of commit c73c495 (extracted with ``git archive``), ``new`` is the working tree.

Printed per store: jobs/s (600 jobs / the wall time from the start to the last writer's end, median of rounds),
p50 and p99 of one write's latency (every record and update of every writer), jobs lost, and the ratios new/old.

Then a full store: 10,000 finished jobs already kept (``--full``), one process records and finishes 50 more and
lists the first page 50 times: the median of one change and of one listing, old and new. (The old store rewrites the
whole file at every change; the new one touches a few rows. The new side is seeded by migrating the old file.)

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
    latencies, failures = [], []
    for i in range(jobs):
        job_id = f"{name}-{i}"
        for change in (
            lambda: store.record(JobRecord(id=job_id, backend="fake_fez", primitive="sampler", status="QUEUED")),
            lambda: store.update(job_id, status="DONE", finished="2026-12-01T00:00:00+00:00"),
        ):
            t = time.perf_counter()
            try:
                change()
            except Exception as error:  # counted, not fatal: what a store loses is the figure
                failures.append(f"{type(error).__name__}: {error}")
            latencies.append(time.perf_counter() - t)
    print(json.dumps({"end": time.time(), "latencies": latencies, "failures": failures}))
""")

COUNT = textwrap.dedent("""
    import sys
    from qiskit_connector_lab.jobs import LocalJobStore
    records, total = LocalJobStore(sys.argv[1], keep=10000).list(limit=100000)
    print(sum(r.status == "DONE" for r in records))
""")


FULL = textwrap.dedent("""
    import json, statistics, sys, time
    from qiskit_connector_lab.jobs import JobRecord, LocalJobStore
    store = LocalJobStore(sys.argv[1], keep=10000)
    store.get("warm-up")
    changes, listings = [], []
    for i in range(50):
        t = time.perf_counter()
        store.record(JobRecord(id=f"new-{i}", backend="fake_fez", primitive="sampler", status="QUEUED", shots=100))
        store.update(f"new-{i}", status="DONE")
        changes.append((time.perf_counter() - t) / 2)
        t = time.perf_counter()
        store.list(limit=20)
        listings.append(time.perf_counter() - t)
    print(json.dumps({"change_ms": 1000 * statistics.median(changes), "list_ms": 1000 * statistics.median(listings)}))
""")


def seed_old_file(path: Path, count: int) -> None:
    """``count`` finished jobs in the JSON format of the old store (what a full store held)."""
    entry = {
        "backend": "fake_fez",
        "primitive": "sampler",
        "status": "DONE",
        "created": "2026-12-01T00:00:00+00:00",
        "started": None,
        "finished": "2026-12-01T00:00:01+00:00",
        "shots": 100,
        "pubs": 1,
        "tags": [],
        "session_id": None,
        "error": None,
        "provider": "local",
        "owner": {"pid": 1, "host": "elsewhere", "start": None},
    }
    jobs = [dict(entry, id=f"old-{i}") for i in range(count)]
    path.write_text(json.dumps({"format": 1, "jobs": jobs}, separators=(",", ":")))


def full_store(tree: Path, folder: Path, file_name: str, count: int) -> dict[str, float]:
    seed_old_file(folder / "jobs.json", count)
    env = {**os.environ, "PYTHONPATH": str(tree), "QCONNECTOR_PICK_FILE": str(folder / "pick.json")}
    env.pop("QCONNECTOR_JOBS_FILE", None)
    out = subprocess.run(
        [sys.executable, "-c", FULL, str(folder / file_name)],
        env=env,
        cwd=folder,  # not the checkout: ``-c`` puts the working folder first on sys.path
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    ).stdout
    return json.loads(out)


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
            cwd=folder,  # not the checkout: ``-c`` puts the working folder first on sys.path
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
            [sys.executable, "-c", COUNT, str(path)],
            env=env,
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    )
    latencies = sorted(x for r in results for x in r["latencies"])
    return {
        "jobs_per_s": WRITERS * JOBS / (max(r["end"] for r in results) - start),
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "lost": WRITERS * JOBS - done,
        "failed_writes": sum(len(r["failures"]) for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--full", type=int, default=10_000, help="jobs already kept in the full-store part (0: skip)")
    args = parser.parse_args()
    full: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="qcl-job-store-") as work:
        old_tree = Path(work) / "old"
        old_tree.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", OLD_COMMIT, "qiskit_connector_lab"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        sides = {"old": (old_tree, "jobs.json"), "new": (ROOT, "jobs.sqlite3")}
        for name, (tree, _) in sides.items():  # each side really runs its own code
            where = subprocess.run(
                [sys.executable, "-c", "import qiskit_connector_lab.jobs.local_store as m; print(m.__file__)"],
                env={**os.environ, "PYTHONPATH": str(tree)},
                cwd=work,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            if not Path(where).is_relative_to(tree):
                raise SystemExit(f"the {name} side imports {where}, not its own tree {tree}")
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
        for n in range(args.rounds):
            for name, (tree, file_name) in sides.items():  # in turn, so both see the same machine load
                folder = Path(work) / f"{name}-{n}"
                folder.mkdir()
                rounds[name].append(one_round(tree, folder, file_name))
        for name, (tree, file_name) in sides.items() if args.full else ():
            folder = Path(work) / f"{name}-full"
            folder.mkdir()
            full[name] = full_store(tree, folder, file_name, args.full)
    print(f"old: {OLD_COMMIT} (JSON file, fcntl lock); new: {ROOT}")
    print(f"{WRITERS} processes x {JOBS} jobs (record + update each), {args.rounds} rounds, medians:")
    for name, results in rounds.items():
        print(f"  {name}: jobs lost per round {[int(r['lost']) for r in results]}")
    medians = {}
    for name, results in rounds.items():
        medians[name] = {key: statistics.median(r[key] for r in results) for key in results[0]}
        m = medians[name]
        print(
            f"  {name}: {m['jobs_per_s']:7.1f} jobs/s   write p50 {m['p50_ms']:7.2f} ms   p99 {m['p99_ms']:8.2f} ms"
            f"   jobs lost {m['lost']:g}   failed writes {m['failed_writes']:g}"
        )
    old, new = medians["old"], medians["new"]
    print(
        f"  new/old: jobs/s x{new['jobs_per_s'] / old['jobs_per_s']:.2f}, p50 x{new['p50_ms'] / old['p50_ms']:.2f}, "
        f"p99 x{new['p99_ms'] / old['p99_ms']:.2f}"
    )
    if full:
        print(f"A full store ({args.full} finished jobs kept), one process, medians of 50:")
        for name, figures in full.items():
            print(f"  {name}: one change {figures['change_ms']:8.2f} ms   first page {figures['list_ms']:8.2f} ms")
        print(
            f"  old/new: change x{full['old']['change_ms'] / full['new']['change_ms']:.0f}, "
            f"page x{full['old']['list_ms'] / full['new']['list_ms']:.0f} (how many times faster the new store is)"
        )


if __name__ == "__main__":
    main()
