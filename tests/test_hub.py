"""A class of three on a real JupyterHub: the example config, the real proxy, the service, the IBM emulator.

One hub for the module (``tests/hub_harness.py``): the class's key in the hub's environment only, each student a
``.env`` with a key of their own in their home folder. The sidebar's routes are asked through the proxy with each
student's own token, as a browser tab would. Every process the hub started is stopped at the end; a failure
prints ``hub.log``.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
import requests

pytest.importorskip("jupyterhub", reason="the hub tests need jupyterhub (the test extra)")

from emulator import IBMQuantumEmulator
from hub_harness import BACKENDS, ClassHub

STUDENTS = ["ada", "grace", "alan"]
KEYS = {name: f"student-key-of-{name}" for name in STUDENTS}
SERVICE_TTL = 4.0  # the service's listing TTL: the refresh the students share
FALLBACK_NOTE = "The class's QPU service could not be used"


@pytest.fixture(scope="module")
def class_hub(tmp_path_factory):
    emulator = IBMQuantumEmulator(seed=1, extra_api_keys=tuple(KEYS.values()))
    emulator.start()
    hub = ClassHub(
        tmp_path_factory.mktemp("class"),
        emulator,
        STUDENTS,
        KEYS,
        # No background refresh during the test: each round of requests is one refresh, on its own.
        service_args=(f"--QConnectorServer.ttl={SERVICE_TTL}", "--QConnectorServer.refresh_interval=600"),
        server_args=("--QConnectorServer.ttl=1", "--QConnectorServer.refresh_interval=600"),
    )
    try:
        hub.start()
        hub.spawn_all()
        yield hub
    except Exception as error:
        pytest.fail(f"the class hub failed: {error}\n--- hub.log ---\n{hub.log()}", pytrace=False)
    finally:
        hub.stop()
        emulator.stop()
    assert not hub.processes(), "a process of the hub is still running"


@pytest.fixture
def hub_log_on_failure(class_hub, request):
    """The module's hub; ``hub.log`` is printed (shown with the failure) when the test failed."""
    failed = request.session.testsfailed
    yield class_hub
    if request.session.testsfailed > failed:  # pragma: no cover - shown only when a test fails
        print(f"--- hub.log ---\n{class_hub.log()}")


def listed(answer: requests.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return sorted(qpu["name"] for qpu in answer.json()["qpus"])


def test_each_student_lists_the_class_qpus_with_one_upstream_request_per_refresh(hub_log_on_failure):
    hub = hub_log_on_failure
    emulator = hub.emulator
    qpus = sorted(emulator.backend_names)
    for round_ in ("first", "second"):
        before = emulator.count("GET", BACKENDS)
        answers = hub.sidebar_all("backends")
        assert {name: listed(answer) for name, answer in answers.items()} == dict.fromkeys(STUDENTS, qpus)
        assert all(not answer.json()["notes"] for answer in answers.values())
        assert emulator.count("GET", BACKENDS) - before == 1, f"{round_} refresh: one /backends for the class"
        time.sleep(SERVICE_TTL + 0.5)  # the service's listing (and each server's) is now too old: a new refresh
    # Nobody signed in with a student's key: the listings were the service's (the class key) alone.
    assert hub.tokens.keys() == set(STUDENTS)


def test_a_token_without_the_scope_is_refused_by_the_service(hub_log_on_failure):
    hub = hub_log_on_failure
    url = hub.service_url + "api/listing"
    narrow = hub.token("ada", scopes=["read:users:name!user"])
    refused = hub.http.get(url, headers={"Authorization": f"token {narrow}"}, timeout=30)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert hub.http.get(url, timeout=30).status_code == 403  # no token at all
    allowed = hub.http.get(url, headers={"Authorization": f"token {hub.user_token('ada')}"}, timeout=30)
    assert allowed.status_code == 200, allowed.text  # the student's own token holds the scope


def test_the_class_credential_never_reaches_a_student(hub_log_on_failure):
    hub = hub_log_on_failure
    secret = hub.class_key
    headers = {"Authorization": f"token {hub.user_token('ada')}"}
    kernel = hub.http.post(f"{hub.url}/user/ada/api/kernels", json={"name": "python3"}, headers=headers, timeout=60)
    assert kernel.status_code == 201, kernel.text
    try:
        deadline = time.monotonic() + 60
        while not any("ipykernel" in cmd for _, cmd, _ in hub.processes()) and time.monotonic() < deadline:
            time.sleep(0.3)
        processes = hub.processes()
        service = [env for _, cmd, env in processes if "qiskit_connector_lab.hub" in cmd]
        servers = [env for _, cmd, env in processes if "jupyterhub.singleuser" in cmd]
        kernels = [env for _, cmd, env in processes if "ipykernel" in cmd]
        assert len(service) == 1 and len(servers) == len(STUDENTS) and kernels
        assert service[0].get("IQP_API_TOKEN") == secret  # the scan sees the key where it is
        for env in servers + kernels:
            assert env.get("QCONNECTOR_HUB_SERVICE_URL") == hub.service_url
            assert not [name for name, value in env.items() if secret in value]
    finally:
        hub.http.delete(f"{hub.url}/user/ada/api/kernels/{kernel.json()['id']}", headers=headers, timeout=60)
    for name in STUDENTS:
        for path in Path(hub.folder / "home" / name).rglob("*"):
            if path.is_file() and path.stat().st_size < 2_000_000:
                assert secret.encode() not in path.read_bytes(), path


def _refuses(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def test_the_service_stopped_each_server_falls_back_with_its_note(hub_log_on_failure):
    hub = hub_log_on_failure
    emulator = hub.emulator
    pid = hub.service_pid()
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while not _refuses(hub.service_port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _refuses(hub.service_port)
    time.sleep(1.2)  # each server's own listing TTL
    before = emulator.count("GET", BACKENDS)
    answers = hub.sidebar_all("backends")
    qpus = sorted(emulator.backend_names)
    for name, answer in answers.items():
        assert listed(answer) == qpus, name
        notes = [note for note in answer.json()["notes"] if note.startswith(FALLBACK_NOTE)]
        assert len(notes) == 1, (name, answer.json()["notes"])
    assert emulator.count("GET", BACKENDS) - before == len(STUDENTS)  # each with their own key now
    plans = hub.sidebar_all("plan")  # the instance and usage: the student's own key now
    assert {name: answer.status_code for name, answer in plans.items()} == dict.fromkeys(STUDENTS, 200)
    assert {answer.json()["instance"] for answer in plans.values()} == {"open-instance"}
