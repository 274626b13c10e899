"""A class on one JupyterHub: many students' servers through the class's QPU service, and a local-fleet Bell burst.

1. **The hub** (``tests/hub_harness.py``: the example config unchanged, the real proxy, the loopback IBM emulator;
   the class's key in the hub's environment, each student a key of their own in ``~/.env``). ``--users`` servers
   (default 30; as many as fit is stated in the output) are started in batches. Then:
   * **upstream requests per refresh**: ``--rounds`` rounds in which every student's sidebar asks
     ``GET /user/NAME/qiskit-connector-lab/backends`` at once (through the proxy, with the student's token), each
     round after the service's TTL: the emulator's ``GET /api/v1/backends`` per round. The other side, in the same
     run: the service stopped, one more round, in which each server lists with its student's own key;
   * **the service's answer time**: every student at once (a token of theirs, with the scope their server's token
     has) asks the service's ``api/listing`` directly, ``--requests`` times each after a first (in which the service
     asks the hub who the token is; cached a minute): p50 / p99, and the first ones apart;
   * **memory per user server**: the resident set of each single-user server (median, max), the service's and the
     hub's.
2. **The local-fleet burst**: ``--kernels`` kernels (default 30; jupyter_client) run ``%qconnect --local``, transpile
   a Bell circuit and run one warm-up job; then all submit one Bell job of 1024 shots at the same moment (an absolute
   start time). Per job, seconds from its submission to its result: p50 / p95 / max; every job must be DONE and in
   the local job store (none lost).

Run from the repository root, alone (it times things, and 30 servers plus 30 kernels fill a small machine):
``PYTHONPATH=$PWD python bench/classroom.py`` (``--users 30 --kernels 30``; ``--skip-hub`` / ``--skip-burst``).
Writes ``bench/results/classroom.json`` (one part run alone replaces that part's figures only).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, Kernel, clean_env, machine_info, package_versions
from emulator import IBMQuantumEmulator  # tests/ (common puts it on the path)
from hub_harness import BACKENDS, ClassHub

SERVICE_TTL = 4.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def hub_part(users: int, rounds: int, requests_each: int, batch: int, log: Any) -> dict[str, Any]:
    students = [f"student{i:02d}" for i in range(1, users + 1)]
    keys = {name: f"bench-key-of-{name}" for name in students}
    emulator = IBMQuantumEmulator(seed=1, extra_api_keys=tuple(keys.values()), latency=0.05)
    emulator.start()
    result: dict[str, Any] = {"users_asked": users}
    with tempfile.TemporaryDirectory(prefix="qcl-class-") as folder:
        hub = ClassHub(
            Path(folder),
            emulator,
            students,
            keys,
            service_args=(f"--QConnectorServer.ttl={SERVICE_TTL}", "--QConnectorServer.refresh_interval=600"),
            server_args=("--QConnectorServer.ttl=1", "--QConnectorServer.refresh_interval=600"),
        )
        try:
            started = time.perf_counter()
            hub.start()
            log(f"hub up in {time.perf_counter() - started:.1f} s")
            ready: list[str] = []
            for first in range(0, users, batch):
                group = students[first : first + batch]
                t = time.perf_counter()
                try:
                    hub.spawn_all(group)
                except RuntimeError as error:
                    log(f"servers {first + 1}-{first + len(group)} did not all start: {str(error).splitlines()[0]}")
                    break
                ready += group
                log(f"{len(ready)} servers ready ({time.perf_counter() - t:.1f} s for the last {len(group)})")
            result["users_started"] = len(ready)
            result["spawn_s"] = time.perf_counter() - started
            # A first round wakes every server (each builds its provider: a cold import of the IBM client), which
            # on a small machine takes longer than the service's TTL: it is reported, not counted as a refresh.
            before = emulator.count("GET", BACKENDS)
            t = time.perf_counter()
            answers = hub.sidebar_all("backends", ready)
            failed = {
                name: f"{answer.status_code} {answer.text[:160]}"
                for name, answer in answers.items()
                if answer.status_code != 200
            }
            result["first_round"] = {
                "s": time.perf_counter() - t,
                "backends": emulator.count("GET", BACKENDS) - before,
                "failed": failed,
            }
            log(
                f"first round (cold servers): {result['first_round']['s']:.2f} s, "
                f"{result['first_round']['backends']} GET /backends, {len(failed)} failed"
                + "".join(f"\n  {name}: {text}" for name, text in sorted(failed.items())[:5])
            )
            time.sleep(SERVICE_TTL + 0.5)
            per_round = []
            sidebar_s: list[float] = []
            for round_ in range(rounds):
                before = emulator.count("GET", BACKENDS)
                t = time.perf_counter()
                answers = hub.sidebar_all("backends", ready)
                took = time.perf_counter() - t
                bad = [name for name, answer in answers.items() if answer.status_code != 200]
                per_round.append(emulator.count("GET", BACKENDS) - before)
                sidebar_s.append(took)
                log(
                    f"round {round_ + 1}: {len(ready)} sidebars in {took:.2f} s, {per_round[-1]} GET /backends "
                    f"upstream{f', {len(bad)} failed' if bad else ''}"
                    + "".join(f"\n  {name}: {answers[name].status_code} {answers[name].text[:160]}" for name in bad[:3])
                )
                time.sleep(SERVICE_TTL + 0.5)
            result["backends_per_refresh"] = per_round
            result["round_s"] = sidebar_s

            # The service's answer time, as the servers see it: every student at once, requests_each times.
            tokens = {name: hub.user_token(name) for name in ready}
            url = hub.service_url + "api/listing"
            latencies: list[float] = []
            first_asks: list[float] = []  # each caller's first: the service asks the hub who the token is
            lock = threading.Lock()

            def ask(name: str) -> None:
                import requests

                session = requests.Session()
                session.trust_env = False
                for index in range(requests_each + 1):
                    t0 = time.perf_counter()
                    answer = session.get(url, headers={"Authorization": f"token {tokens[name]}"}, timeout=30)
                    took = time.perf_counter() - t0
                    if answer.status_code == 200:
                        with lock:
                            (first_asks if index == 0 else latencies).append(took)

            with ThreadPoolExecutor(max_workers=len(ready)) as pool:
                list(pool.map(ask, ready))
            result["service"] = {
                "requests": len(latencies),
                "p50_ms": percentile(latencies, 0.5) * 1000,
                "p99_ms": percentile(latencies, 0.99) * 1000,
                "max_ms": max(latencies) * 1000,
                "first_per_caller_p50_ms": percentile(first_asks, 0.5) * 1000,
                "first_per_caller_max_ms": max(first_asks) * 1000,
            }
            log(
                f"service api/listing, {len(ready)} callers at once x {requests_each}: "
                f"p50 {result['service']['p50_ms']:.0f} ms, p99 {result['service']['p99_ms']:.0f} ms "
                f"(each caller's first, checked with the hub: p50 {result['service']['first_per_caller_p50_ms']:.0f}"
                f" ms, max {result['service']['first_per_caller_max_ms']:.0f} ms)"
            )

            processes = hub.processes()
            servers = [rss_mb(pid) for pid, cmd, _ in processes if "jupyterhub.singleuser" in cmd]
            servers_mb = [value for value in servers if value is not None]
            service_pid = hub.service_pid()
            result["memory_mb"] = {
                "server_median": statistics.median(servers_mb),
                "server_max": max(servers_mb),
                "servers": len(servers_mb),
                "service": rss_mb(service_pid) if service_pid else None,
                "hub": rss_mb(hub.process.pid) if hub.process else None,
            }
            log(
                f"memory: user server median {result['memory_mb']['server_median']:.0f} MB "
                f"(max {result['memory_mb']['server_max']:.0f} MB), service {result['memory_mb']['service']:.0f} MB"
            )

            # The other side: the service stopped, each server lists with its student's own key.
            if service_pid:
                os.kill(service_pid, signal.SIGTERM)
                time.sleep(1.5)
                before = emulator.count("GET", BACKENDS)
                answers = hub.sidebar_all("backends", ready)
                result["backends_without_service"] = emulator.count("GET", BACKENDS) - before
                noted = sum(
                    1
                    for answer in answers.values()
                    if answer.status_code == 200
                    and any("class's QPU service could not be used" in note for note in answer.json()["notes"])
                )
                result["fallback_noted"] = noted
                log(
                    f"service stopped: {result['backends_without_service']} GET /backends for one round "
                    f"({noted} of {len(ready)} servers said so)"
                )
        finally:
            hub.stop()
            emulator.stop()
    return result


BELL = (
    "import time, warnings\n"
    "warnings.simplefilter('ignore')\n"
    "from qiskit import QuantumCircuit\n"
    "from qiskit.transpiler import generate_preset_pass_manager\n"
    "from qiskit_ibm_runtime import SamplerV2\n"
    "qc = QuantumCircuit(2); qc.h(0); qc.cx(0, 1); qc.measure_all()\n"
    "isa = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=1).run(qc)\n"
    "sampler = SamplerV2(mode=backend)\n"
    "t = time.perf_counter(); sampler.run([isa], shots=1024).result(); print(time.perf_counter() - t)\n"
)


def burst_code(at: float) -> str:
    return (
        "import json, time\n"
        f"time.sleep(max(0.0, {at!r} - time.time()))\n"
        "t = time.perf_counter(); job = sampler.run([isa], shots=1024)\n"
        "counts = job.result()[0].data.meas.get_counts()\n"
        "print(json.dumps({'s': time.perf_counter() - t, 'id': job.job_id(), 'status': job.status(), "
        "'shots': sum(counts.values())}))\n"
    )


def burst_part(kernels: int, log: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="qcl-burst-") as home:
        jobs_file = Path(home) / "jobs.json"
        env = clean_env(home, pythonpath=[str(ROOT)], QCONNECTOR_JOBS_FILE=str(jobs_file), QCONNECTOR_JOBS_KEEP="500")
        t = time.perf_counter()
        with ThreadPoolExecutor(max_workers=6) as pool:  # 2 cores: a few kernels start at a time
            started = list(pool.map(lambda _: Kernel(env, startup_timeout=600), range(kernels)))
        log(f"{kernels} kernels started in {time.perf_counter() - t:.1f} s")
        try:
            with ThreadPoolExecutor(max_workers=6) as pool:
                list(pool.map(lambda k: k.run("%load_ext qiskit_connector_lab\n%qconnect --local", 900)[0], started))
                warm = [float(out.strip().splitlines()[-1]) for out in pool.map(lambda k: k.run(BELL, 900)[0], started)]
            log(f"warm-up jobs: {min(warm):.2f}-{max(warm):.2f} s")
            at = time.time() + 5.0
            with ThreadPoolExecutor(max_workers=kernels) as pool:
                outs = list(pool.map(lambda k: k.run(burst_code(at), 900)[0], started))
            jobs = [json.loads(out.strip().splitlines()[-1]) for out in outs]
        finally:
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(lambda k: k.close(), started))
        sys.path.insert(0, str(ROOT))
        from qiskit_connector_lab.jobs.local_store import LocalJobStore

        stored, _ = LocalJobStore(jobs_file).list(limit=1000)
        by_id = {record.id: record.status for record in stored}
    latencies = [job["s"] for job in jobs]
    lost = [job["id"] for job in jobs if by_id.get(job["id"]) != "DONE" or job["status"] != "DONE"]
    result = {
        "kernels": kernels,
        "jobs": len(jobs),
        "distinct_ids": len({job["id"] for job in jobs}),
        "all_shots": all(job["shots"] == 1024 for job in jobs),
        "lost_or_not_done": lost,
        "p50_s": percentile(latencies, 0.5),
        "p95_s": percentile(latencies, 0.95),
        "max_s": max(latencies),
        "warmup_s": warm,
    }
    log(
        f"{len(jobs)} Bell jobs from {kernels} kernels at once: p50 {result['p50_s']:.2f} s, p95 "
        f"{result['p95_s']:.2f} s, max {result['max_s']:.2f} s; {len(lost)} lost or not DONE"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20, help="service requests per student")
    parser.add_argument("--batch", type=int, default=5, help="servers started at a time")
    parser.add_argument("--kernels", type=int, default=30)
    parser.add_argument("--skip-hub", action="store_true")
    parser.add_argument("--skip-burst", action="store_true")
    args = parser.parse_args()

    def log(line: str) -> None:
        print(line, flush=True)

    data: dict[str, Any] = {"machine": machine_info()}
    data["versions"] = package_versions(sys.executable, ("jupyterhub", "jupyter-server", "qiskit", "qiskit-aer"))
    if not args.skip_hub:
        data["hub"] = hub_part(args.users, args.rounds, args.requests, args.batch, log)
    if not args.skip_burst:
        data["burst"] = burst_part(args.kernels, log)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "classroom.json"
    if path.exists() and (args.skip_hub or args.skip_burst):  # one part run again: keep the other's figures
        data = {**json.loads(path.read_text()), **data}
    path.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main()
