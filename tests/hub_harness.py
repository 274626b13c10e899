"""A real JupyterHub for a class, on loopback: the example config, N students, the loopback IBM emulator.

Used by ``tests/test_hub.py`` (3 students) and ``bench/classroom.py`` (up to 30). It writes a config that loads
``examples/classroom/jupyterhub_config.py`` unchanged and only adds what a test needs: free ports, a driver service
(token with ``servers``, ``admin:users``, ``tokens``) to start servers and mint tokens, the emulator's hosts for
every process, and the cache settings given on the command line. The class's key is in the hub's environment
only; each student gets a ``.env`` with a key of their own in their home folder.

Every process it starts (the hub, and through it the proxy, the service and the servers) is stopped by
:meth:`ClassHub.stop`; ``hub.log`` is kept for the failure message.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "classroom" / "jupyterhub_config.py"
SERVICE = "qiskit-connector-lab"
DRIVER = "class-driver"
BACKENDS = "/api/v1/backends"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def student_dotenv(emulator: Any, key: str, instance: str = "open-instance") -> str:
    return (
        f'IQP_API_TOKEN="{key}"\nCLOUD_API_URL="{emulator.base_url}"\nIQP_RUNTIME_API_URL="{emulator.base_url}/api/v1"\n'
        f'OPEN_PLAN="on"\nOPEN_PLAN_CHANNEL="ibm_quantum_platform"\nOPEN_PLAN_INSTANCE="{instance}"\n'
    )


class ClassHub:
    """A hub with ``students`` (names), their homes under ``folder / "home"``, the class key ``class_key``."""

    def __init__(
        self,
        folder: Path,
        emulator: Any,
        students: list[str],
        student_keys: dict[str, str],
        *,
        service_args: tuple[str, ...] = (),
        server_args: tuple[str, ...] = (),
    ) -> None:
        self.folder = folder
        self.emulator = emulator
        self.students = students
        self.student_keys = student_keys
        self.class_key = emulator.api_key
        self.port, self.hub_api_port, self.proxy_api_port, self.service_port = (free_port() for _ in range(4))
        self.url = f"http://127.0.0.1:{self.port}"
        self.service_url = f"http://127.0.0.1:{self.service_port}/services/{SERVICE}/"
        self.driver_token = secrets.token_hex(16)
        self.log_path = folder / "hub.log"
        self.service_args = service_args
        self.server_args = server_args
        self.process: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, str] = {}
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy from the outer environment for loopback

    # -- set-up ----------------------------------------------------------------------------------------------
    def write_config(self) -> Path:
        emulator_env = {k: v for k, v in self.emulator.client_env().items() if k != "QISKIT_IBM_URL"}
        emulator_env["QCONNECTOR_ALLOW_HOSTS"] = "127.0.0.1"
        config = self.folder / "jupyterhub_config.py"
        config.write_text(
            f"""
load_subconfig({str(EXAMPLE)!r})
c.JupyterHub.hub_port = {self.hub_api_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{self.proxy_api_port}"
c.JupyterHub.services.append({{"name": {DRIVER!r}, "api_token": {self.driver_token!r}}})
c.JupyterHub.load_roles = [
    {{"name": {DRIVER!r}, "scopes": ["servers", "admin:users", "tokens", "read:users"], "services": [{DRIVER!r}]}}
]
c.JupyterHub.services[0]["command"] += {list(self.service_args)!r}
c.Spawner.environment.update({emulator_env!r})
c.Spawner.args = list(c.Spawner.args) + {list(self.server_args)!r}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.cleanup_servers = True
"""
        )
        return config

    def write_homes(self) -> None:
        for name in self.students:
            home = self.folder / "home" / name
            home.mkdir(parents=True, exist_ok=True)
            env = home / ".env"
            env.write_text(student_dotenv(self.emulator, self.student_keys[name]))
            env.chmod(0o600)

    def start(self, timeout: float = 90.0) -> None:
        config = self.write_config()
        self.write_homes()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "QCONNECTOR_"))}
        env.update(
            {
                # The class's credential: the hub's own environment (the example passes it to the service only).
                "IQP_API_TOKEN": self.class_key,
                "CLOUD_API_URL": self.emulator.base_url,
                "IQP_RUNTIME_API_URL": self.emulator.base_url + "/api/v1",
                "OPEN_PLAN": "on",
                "OPEN_PLAN_CHANNEL": "ibm_quantum_platform",
                "OPEN_PLAN_INSTANCE": "open-instance",
                "QCONNECTOR_ALLOW_HOSTS": "127.0.0.1",
                **{k: v for k, v in self.emulator.client_env().items() if k != "QISKIT_IBM_URL"},
                "CLASS_STUDENTS": ",".join(self.students),
                "CLASS_HUB_PORT": str(self.port),
                "CLASS_SERVICE_PORT": str(self.service_port),
                "CLASS_HOME": str(self.folder / "home"),
                "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
                "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
                "NO_PROXY": "127.0.0.1,localhost",
            }
        )
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=self.folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the hub exited ({self.process.returncode})\n{self.log()}")
            try:
                if self.api("GET", "users").status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError(f"the hub did not answer within {timeout:g} s\n{self.log()}")
        self.wait_service(timeout=max(5.0, deadline - time.monotonic()))

    def wait_service(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.http.get(self.service_url + "api/status", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"the class's QPU service did not start within {timeout:g} s\n{self.log()}")

    def log(self, tail: int = 20000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return "(no hub.log)"

    # -- the hub's API ---------------------------------------------------------------------------------------
    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"token {self.driver_token}"}
        return self.http.request(method, f"{self.url}/hub/api/{path}", headers=headers, timeout=30, **kwargs)

    def spawn(self, name: str) -> None:
        answer = self.api("POST", f"users/{name}/server")
        if answer.status_code not in (201, 202, 400):  # 400: already running
            raise RuntimeError(f"spawning {name}: HTTP {answer.status_code} {answer.text}\n{self.log()}")

    def wait_ready(self, name: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"users/{name}").json()
            server = (model.get("servers") or {}).get("")
            if server and server.get("ready"):
                return
            if not server and not model.get("pending"):
                raise RuntimeError(f"the server of {name} stopped while starting\n{self.log()}")
            time.sleep(0.5)
        raise RuntimeError(f"the server of {name} was not ready within {timeout:g} s\n{self.log()}")

    def spawn_all(self, names: list[str] | None = None, parallel: int = 30) -> None:
        names = names or self.students
        for name in names:
            self.spawn(name)
        with ThreadPoolExecutor(max_workers=min(parallel, len(names))) as pool:
            list(pool.map(self.wait_ready, names))

    def token(self, name: str, scopes: list[str] | None = None) -> str:
        body: dict[str, Any] = {"note": "class test", "expires_in": 3600}
        if scopes is not None:
            body["scopes"] = scopes
        answer = self.api("POST", f"users/{name}/tokens", data=json.dumps(body))
        if answer.status_code != 201:
            raise RuntimeError(f"token for {name}: HTTP {answer.status_code} {answer.text}")
        return str(answer.json()["token"])

    def user_token(self, name: str) -> str:
        if name not in self.tokens:
            self.tokens[name] = self.token(name)
        return self.tokens[name]

    def sidebar(self, name: str, route: str = "backends", timeout: float = 60.0) -> requests.Response:
        """``GET /user/NAME/qiskit-connector-lab/ROUTE`` through the proxy, with the student's own token."""
        return self.http.get(
            f"{self.url}/user/{name}/qiskit-connector-lab/{route}",
            headers={"Authorization": f"token {self.user_token(name)}"},
            timeout=timeout,
        )

    def sidebar_all(self, route: str = "backends", names: list[str] | None = None) -> dict[str, requests.Response]:
        names = names or self.students
        for name in names:
            self.user_token(name)
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            return dict(zip(names, pool.map(lambda n: self.sidebar(n, route), names), strict=True))

    # -- processes -------------------------------------------------------------------------------------------
    def processes(self) -> list[tuple[int, str, dict[str, str]]]:
        """(pid, command line, environment) of every process this hub started: its servers, their kernels, the
        service (each has this hub's API address, with its own port, in JUPYTERHUB_API_URL)."""
        found: list[tuple[int, str, dict[str, str]]] = []
        marker = f"127.0.0.1:{self.hub_api_port}/"
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                raw = (entry / "environ").read_bytes()
                if marker.encode() not in raw:
                    continue
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            environ = dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
            if marker in environ.get("JUPYTERHUB_API_URL", ""):
                found.append((int(entry.name), cmdline, environ))
        return found

    def service_pid(self) -> int | None:
        for pid, cmdline, _ in self.processes():
            if "qiskit_connector_lab.hub" in cmdline:
                return pid
        return None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # the hub stops the servers (cleanup_servers), the service, the proxy
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for pid, _, _ in self.processes():  # anything the hub left behind (still this hub's), by its id
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
