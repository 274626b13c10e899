"""Large-listing benchmark of the server extension: 5000 QPUs, 200 concurrent ``GET backends``.

A real Jupyter server (subprocess) serves IBM Quantum through the REAL qiskit-ibm-runtime client against the
project's emulator (``tests/emulator``) holding ``--qpus`` QPUs. ``--clients`` clients poll ``GET backends`` back to
back for ``--seconds``; meanwhile one probe asks the other routes (``plan``, ``status``, ``selection``, one QPU
unknown by name) every 100 ms, to show the event loop stays free. Goal: ``GET backends`` p99 < 2 s, and every other
route answers within 200 ms meanwhile.

    python bench/server_large_listing.py                     # 5000 QPUs, 200 clients, 20 s
    python bench/server_large_listing.py --qpus 1000 --clients 50 --seconds 10

Prints the figures and writes ``bench/results/server_large_listing.json``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_load import NAMESPACE, ROOT, Server, clean_environment, percentile

RESULTS = ROOT / "bench" / "results" / "server_large_listing.json"
PROBES = (("plan",), ("status",), ("selection",), ("backends", "ibm_no_such_qpu"))


async def poll_backends(
    client: AsyncHTTPClient,
    server: Server,
    until: float,
    *,
    latencies: list[float],
    failures: list[str],
    sizes: list[int],
) -> None:
    # Accept gzip like a browser, but do not decompress here: the load generator shares this machine's two cores
    # with the server, and gunzipping 200 answers a second in this process would measure the client, not the server.
    headers = {**server.headers, "Accept-Encoding": "gzip"}
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            response = await client.fetch(
                server.url("backends"), headers=headers, request_timeout=60, decompress_response=False
            )
            latencies.append(time.perf_counter() - started)
            sizes.append(len(response.body))
        except Exception as exc:
            failures.append(type(exc).__name__ + ": " + str(exc)[:80])


PROBE_SCRIPT = r"""
import http.client, json, sys, time
port, token, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
routes = json.loads(sys.argv[4])
out, hints = {}, []
until = time.perf_counter() + seconds
while time.perf_counter() < until:
    for route in routes:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        started = time.perf_counter()
        connection.request("GET", route, headers={"Authorization": "token " + token})
        body = connection.getresponse().read()
        key = route.rsplit("/", 2)[-2] + "/{unknown}" if route.endswith("no_such_qpu") else route.rsplit("/", 1)[-1]
        out.setdefault(key, []).append(time.perf_counter() - started)
        connection.close()
        if route.endswith("no_such_qpu"):
            hints.append(len(body))
    time.sleep(0.1)
print(json.dumps({"latencies": out, "hints": hints}))
"""


def start_probe(server: Server, seconds: float) -> subprocess.Popen[str]:
    """The other routes, asked from a process of their own (blocking HTTP), so neither the load generator's event
    loop nor its GIL delays them: what is measured is the server's answer time."""
    routes = ["/" + NAMESPACE + "/" + "/".join(route) for route in PROBES]
    return subprocess.Popen(
        [sys.executable, "-c", PROBE_SCRIPT, str(server.port), server.token, str(seconds), json.dumps(routes)],
        stdout=subprocess.PIPE,
        text=True,
    )


def start_emulator(qpus: int, env: dict[str, str]) -> tuple[subprocess.Popen[str], str, str]:
    """The emulator in a process of its own (``python tests/emulator``): its 5000-QPU replies must not compete
    with the load generator for a GIL. Returns (process, base URL, API key)."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "emulator"), "--backends", str(qpus), "--seed", "3"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    base = key = ""
    for line in process.stdout:
        if line.startswith("IBM Quantum API emulator on "):
            base = line.split(" on ", 1)[1].split()[0]
        if line.startswith("IQP_API_TOKEN="):
            key = line.strip().split("=", 1)[1].strip('"')
        if line.startswith("OPEN_PLAN="):
            break
    return process, base, key


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 0.5) * 1000, 1),
        "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="qconnector-bench-large-"))
    env = clean_environment(home)
    emulator, base, key = start_emulator(args.qpus, env)
    env.update(
        {
            "IAM_URL": base,
            "GLOBAL_SEARCH_URL": base,
            "GLOBAL_CATALOG_URL": base + "/catalog",
            "IQP_API_TOKEN": key,
            "OPEN_PLAN": "on",
            "OPEN_PLAN_INSTANCE": "open-instance",
            "CLOUD_API_URL": base,
            "IQP_RUNTIME_API_URL": base + "/api/v1",
            "QCONNECTOR_ALLOW_HOSTS": "127.0.0.1",
        }
    )  # the explicit opt-in for the loopback emulator
    traits = {"provider": "ibm", "ttl": args.ttl, "refresh_interval": args.refresh_interval, "deadline": 60}
    server = Server(home, env, traits)
    client = AsyncHTTPClient(force_instance=True, max_clients=args.clients + 8)
    try:
        await server.wait_ready(client)
        started = time.perf_counter()
        warm = await client.fetch(server.url("backends"), headers=server.headers, request_timeout=300)
        first_seconds = time.perf_counter() - started
        qpus = len(json.loads(warm.body)["qpus"])  # decompressed here: the gzipped answer is valid JSON
        plain_bytes = len(warm.body)
        latencies: list[float] = []
        failures: list[str] = []
        sizes: list[int] = []
        probes: dict[str, list[float]] = {}
        hint_sizes: list[int] = []
        started = time.perf_counter()
        until = started + args.seconds
        prober = start_probe(server, args.seconds)
        await asyncio.gather(
            *(
                poll_backends(client, server, until, latencies=latencies, failures=failures, sizes=sizes)
                for _ in range(args.clients)
            )
        )
        probed = json.loads(prober.communicate(timeout=120)[0])
        probes.update(probed["latencies"])
        hint_sizes.extend(probed["hints"])
        elapsed = time.perf_counter() - started
        status = json.loads((await client.fetch(server.url("status"), headers=server.headers)).body)
    finally:
        client.close()
        server.stop()
        emulator.terminate()
        emulator.wait(timeout=15)
        shutil.rmtree(home, ignore_errors=True)

    others = [v for values in probes.values() for v in values]
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "provider": "ibm (IBM Quantum API emulator, real qiskit-ibm-runtime)",
        "qpus": qpus,
        "clients": args.clients,
        "seconds": round(elapsed, 2),
        "ttl": args.ttl,
        "refresh_interval": args.refresh_interval,
        "first_listing_seconds": round(first_seconds, 2),
        "backends": {
            **summary(latencies),
            "failures": len(failures),
            "failure_samples": sorted(set(failures))[:5],
            "requests_per_second": round(len(latencies) / elapsed, 1),
            "json_bytes": plain_bytes,
            "gzip_bytes_on_the_wire": max(sizes) if sizes else None,
        },
        "other_routes": {
            "all": summary(others),
            **{route: summary(values) for route, values in probes.items()},
            "over_200_ms": sum(v > 0.2 for v in others),
        },
        "unknown_name_hint_bytes": max(hint_sizes) if hint_sizes else None,
        "server": {
            "payload_renders": status["upstream"].get("payload_renders"),
            "listing_calls": status["upstream"]["listing_calls"],
        },
        "goal": {
            "backends_p99_under_2_s": bool(latencies) and percentile(latencies, 0.99) < 2.0,
            "other_routes_within_200_ms": bool(others) and max(others) <= 0.2,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qpus", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--ttl", type=float, default=10.0, help="QConnectorServer.ttl")
    parser.add_argument("--refresh-interval", type=float, default=15.0, help="QConnectorServer.refresh_interval")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    b, o = result["backends"], result["other_routes"]
    print(
        f"listing           {result['qpus']} QPUs (first listing {result['first_listing_seconds']} s), "
        f"{b['json_bytes']} bytes of JSON, {b['gzip_bytes_on_the_wire']} gzipped"
    )
    print(
        f"GET backends      {b['n']} requests by {result['clients']} clients in {result['seconds']} s "
        f"({b['requests_per_second']}/s, {b['failures']} failed): p50 {b.get('p50_ms')} ms, "
        f"p99 {b.get('p99_ms')} ms, max {b.get('max_ms')} ms"
    )
    print(
        f"other routes      p50 {o['all'].get('p50_ms')} ms, p99 {o['all'].get('p99_ms')} ms, "
        f"max {o['all'].get('max_ms')} ms, {o['over_200_ms']} of {o['all']['n']} over 200 ms"
    )
    for route, figures in o.items():
        if route not in ("all", "over_200_ms"):
            print(f"  {route:<18}p50 {figures.get('p50_ms')} ms, max {figures.get('max_ms')} ms")
    print(f"unknown-name hint {result['unknown_name_hint_bytes']} bytes")
    print(
        f"server            {result['server']['payload_renders']} renders of GET backends, "
        f"{result['server']['listing_calls']} listing calls"
    )
    print(
        f"goal              p99 < 2 s: {result['goal']['backends_p99_under_2_s']}; "
        f"others within 200 ms: {result['goal']['other_routes_within_200_ms']}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written           {args.out}")


if __name__ == "__main__":
    main()
