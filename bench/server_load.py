"""Load benchmark of the server extension: many clients polling ``GET backends`` over loopback.

It starts a real Jupyter server in a subprocess (random port, a fresh token, the local fleet by default),
runs N concurrent clients (asyncio + tornado's AsyncHTTPClient) that poll ``GET qiskit-connector-lab/backends``
for a bounded time, and reports requests per second, p50/p99 latency, and how many upstream listing calls
the server made per refresh interval (read from the authenticated ``GET qiskit-connector-lab/status`` route:
``upstream.listing_calls`` and, for the local fleet, the provider's own ``listing_fetches``).

With ``--emulator`` the server talks to the IBM Quantum API emulator of ``tests/emulator`` through the real
qiskit-ibm-runtime client instead, and the upstream count is the emulator's own log of ``GET /api/v1/backends``.

    python bench/server_load.py                  # 100 clients, 20 s, local fleet
    python bench/server_load.py --clients 200 --seconds 30 --think 0.5
    python bench/server_load.py --emulator

Prints the figures and writes them to ``bench/results/server_load.json``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "server_load.json"
NAMESPACE = "qiskit-connector-lab"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environment(home: Path) -> dict[str, str]:
    """The parent's environment minus every connector/IBM variable, with HOME and Jupyter dirs in ``home``."""
    drop_prefixes = (
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
        "JUPYTER_",
    )
    drop = {
        "CLOUD_API_URL",
        "QUANTUM_API_URL",
        "IAM_URL",
        "GLOBAL_SEARCH_URL",
        "GLOBAL_CATALOG_URL",
        "IBM_CREDENTIALS_FILE",
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes) and k not in drop}
    env.update(
        {
            "HOME": str(home),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "QCONNECTOR_PICK_FILE": str(home / "pick.json"),
            "QCONNECTOR_FLEET_SEED": "7",
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
        }
    )
    return env


class Server:
    """A Jupyter server subprocess with the extension enabled."""

    def __init__(self, home: Path, env: dict[str, str], traits: dict[str, Any]) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}/"
        self.headers = {"Authorization": f"token {self.token}"}
        args = [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
            f"--ServerApp.root_dir={home}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.jpserver_extensions={'qiskit_connector_lab': True}",
            "--ServerApp.log_level=WARN",
        ] + [f"--QConnectorServer.{name}={value}" for name, value in traits.items()]
        self.log_path = home / "server.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - the server's stdout while it runs; closed in stop()
        self.process = subprocess.Popen(args, cwd=home, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def url(self, route: str) -> str:
        return f"{self.base}{NAMESPACE}/{route}"

    async def wait_ready(self, client: AsyncHTTPClient, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited early; see {self.log_path}")
            try:
                response = await client.fetch(self.url("status"), headers=self.headers, request_timeout=2)
                if response.code == 200:
                    return
            except (OSError, HTTPClientError):
                pass
            await asyncio.sleep(0.2)
        raise SystemExit(f"the server did not answer within {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


async def status(client: AsyncHTTPClient, server: Server) -> dict[str, Any]:
    response = await client.fetch(server.url("status"), headers=server.headers, request_timeout=10)
    return json.loads(response.body)


async def poller(
    client: AsyncHTTPClient,
    server: Server,
    until: float,
    think: float,
    latencies: list[float],
    failures: list[str],
    stale: list[int],
) -> None:
    url = server.url("backends")
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            response = await client.fetch(url, headers=server.headers, request_timeout=30)
            latencies.append(time.perf_counter() - started)
            if b'"stale": true' in response.body:
                stale.append(1)
        except Exception as exc:
            failures.append(type(exc).__name__ + ": " + str(exc)[:80])
        if think:
            await asyncio.sleep(think)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="qconnector-bench-"))
    env = clean_environment(home)
    traits: dict[str, Any] = {
        "provider": "ibm" if args.emulator else "local",
        "refresh_interval": args.refresh_interval,
        "ttl": args.ttl,
    }
    emulator = None
    if args.emulator:
        sys.path.insert(0, str(ROOT / "tests"))
        from emulator import IBMQuantumEmulator  # the project's loopback IBM Quantum API

        emulator = IBMQuantumEmulator(seed=3).start()
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
        )  # the explicit opt-in for the loopback emulator

    server = Server(home, env, traits)
    client = AsyncHTTPClient(force_instance=True, max_clients=args.clients + 4)
    try:
        await server.wait_ready(client)
        warm = await client.fetch(server.url("backends"), headers=server.headers, request_timeout=60)
        qpus = len(json.loads(warm.body)["qpus"])
        before = await status(client, server)
        upstream_before = emulator.count("GET", "/api/v1/backends") if emulator else None

        latencies: list[float] = []
        failures: list[str] = []
        stale: list[int] = []
        started = time.perf_counter()
        until = started + args.seconds
        await asyncio.gather(
            *(poller(client, server, until, args.think, latencies, failures, stale) for _ in range(args.clients))
        )
        elapsed = time.perf_counter() - started

        after = await status(client, server)
        upstream_after = emulator.count("GET", "/api/v1/backends") if emulator else None
    finally:
        client.close()
        server.stop()
        if emulator is not None:
            emulator.stop()
        shutil.rmtree(home, ignore_errors=True)

    listing_calls = after["upstream"]["listing_calls"] - before["upstream"]["listing_calls"]
    provider_fetches = after["upstream"]["provider_listing_fetches"] - before["upstream"]["provider_listing_fetches"]
    upstream_requests = (upstream_after - upstream_before) if emulator else provider_fetches
    intervals = elapsed / args.refresh_interval
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "provider": traits["provider"]
        + (" (IBM Quantum API emulator, real qiskit-ibm-runtime)" if emulator else " (local fleet)"),
        "qpus": qpus,
        "clients": args.clients,
        "think_seconds": args.think,
        "seconds": round(elapsed, 2),
        "refresh_interval": args.refresh_interval,
        "ttl": args.ttl,
        "requests": len(latencies),
        "failures": len(failures),
        "failure_samples": sorted(set(failures))[:5],
        "stale_answers": len(stale),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 2) if latencies else None,
            "p90": round(percentile(latencies, 0.90) * 1000, 2) if latencies else None,
            "p99": round(percentile(latencies, 0.99) * 1000, 2) if latencies else None,
            "max": round(max(latencies) * 1000, 2) if latencies else None,
            "mean": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
        },
        "upstream": {
            "listing_calls": listing_calls,
            "upstream_listing_requests": upstream_requests,
            "counted_by": "emulator log of GET /api/v1/backends" if emulator else "provider.listing_fetches",
            "per_refresh_interval": round(upstream_requests / intervals, 2) if intervals else None,
            "background_refreshes": (
                after["upstream"]["background_refreshes"] - before["upstream"]["background_refreshes"]
            ),
            "coalesced_waits": after["upstream"]["coalesced_waits"] - before["upstream"]["coalesced_waits"],
            "cache_hits": after["upstream"]["cache_hits"] - before["upstream"]["cache_hits"],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100, help="concurrent polling clients (default 100)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long they poll (default 20)")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="pause between one client's requests, seconds (default 0: back to back)",
    )
    parser.add_argument("--refresh-interval", type=float, default=15.0, help="QConnectorServer.refresh_interval")
    parser.add_argument("--ttl", type=float, default=10.0, help="QConnectorServer.ttl")
    parser.add_argument(
        "--emulator", action="store_true", help="serve IBM Quantum through the real client against tests/emulator"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS})")
    args = parser.parse_args()

    result = asyncio.run(run(args))
    lat = result["latency_ms"]
    up = result["upstream"]
    print(f"provider          {result['provider']}, {result['qpus']} QPUs")
    print(
        f"clients           {result['clients']} polling GET backends for {result['seconds']} s "
        f"(think {result['think_seconds']} s)"
    )
    print(f"requests          {result['requests']} ({result['failures']} failed, {result['stale_answers']} stale)")
    print(f"throughput        {result['requests_per_second']} requests/s")
    print(f"latency           p50 {lat['p50']} ms, p90 {lat['p90']} ms, p99 {lat['p99']} ms, max {lat['max']} ms")
    print(
        f"upstream          {up['upstream_listing_requests']} listing requests in {result['seconds']} s "
        f"= {up['per_refresh_interval']} per {result['refresh_interval']:g} s refresh interval "
        f"({up['counted_by']}; TTL {result['ttl']:g} s)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written           {args.out}")


if __name__ == "__main__":
    main()
