"""Jupyter server configuration for the Galata integration tests.

Never use this configuration in production: it disables authentication and
exposes JupyterLab's JavaScript objects on the browser's window.

The server (and every kernel it starts) serves the offline local fleet, with
its state in a temporary folder the tests share with the server:

* ``QCONNECTOR_FLEET_FILE`` - the tests write queue/status overrides here;
* ``QCONNECTOR_PICK_FILE`` - the QPU picked with "Use this QPU", read by a bare ``%qconnect``;
* ``QCONNECTOR_FLEET_SEED`` - a fixed seed for the simulated queues.

``playwright.config.js`` names the folder in ``QCONNECTOR_UI_STATE_DIR``; run by hand
(``jlpm start``) a new temporary folder is used.
"""

import os
import tempfile
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821

# CI and the development machines run as root.
c.ServerApp.allow_root = True  # noqa: F821

_state = Path(os.environ.get("QCONNECTOR_UI_STATE_DIR") or tempfile.mkdtemp(prefix="qcl-ui-tests-"))
_state.mkdir(parents=True, exist_ok=True)
os.environ["QCONNECTOR_UI_STATE_DIR"] = str(_state)
os.environ["QCONNECTOR_FLEET_FILE"] = str(_state / "fleet.json")
os.environ["QCONNECTOR_PICK_FILE"] = str(_state / "pick.json")
os.environ.setdefault("QCONNECTOR_FLEET_SEED", "7")
# Never reach IBM from the tests, whatever .env or saved account the machine has.
os.environ["QCONNECTOR_ENV_FILE"] = str(_state / "no.env")
(_state / "no.env").touch()

c.QConnectorServer.provider = "local"  # noqa: F821
# Short cache times, so a change of the fleet file shows within seconds.
c.QConnectorServer.refresh_interval = 2  # noqa: F821
c.QConnectorServer.ttl = 1  # noqa: F821

# QCONNECTOR_UI_PROVIDER=ibm: the IBM path instead. The project's API emulator (tests/emulator) runs inside this
# server process on a loopback port; the server and every kernel use the REAL qiskit-ibm-runtime client against it
# (a .env in the state folder points them there). Its jobs stay queued QCONNECTOR_UI_JOB_QUEUE seconds (default 6),
# so a test can see a job queued, cancel one, and see one turn done.
if os.environ.get("QCONNECTOR_UI_PROVIDER") == "ibm":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from emulator import IBMQuantumEmulator

    _emulator = IBMQuantumEmulator(seed=3).start()
    _emulator.job_queue_seconds = float(os.environ.get("QCONNECTOR_UI_JOB_QUEUE", "6"))
    _emulator.job_run_seconds = 1.0
    for _key, _value in _emulator.client_env().items():
        if _key != "QISKIT_IBM_URL":
            os.environ[_key] = _value
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    os.environ["QCONNECTOR_ALLOW_HOSTS"] = "127.0.0.1"  # the emulator is a trusted loopback host here
    (_state / "ibm.env").write_text(
        f'IQP_API_TOKEN="{_emulator.api_key}"\nCLOUD_API_URL="{_emulator.base_url}"\n'
        f'IQP_RUNTIME_API_URL="{_emulator.base_url}/api/v1"\nOPEN_PLAN="on"\n'
        'OPEN_PLAN_CHANNEL="ibm_quantum_platform"\nOPEN_PLAN_INSTANCE="open-instance"\n'
    )
    os.environ["QCONNECTOR_ENV_FILE"] = str(_state / "ibm.env")
    c.QConnectorServer.provider = "ibm"  # noqa: F821
    c.QConnectorServer.deadline = 20  # noqa: F821

# Uncomment to debug the server:
# c.ServerApp.log_level = "DEBUG"

# QCONNECTOR_UI_PROVIDER=signin: the emulator as above, but no API key anywhere: the server starts on the local fleet
# and tests/signin.spec.ts signs in from the sidebar with the emulator's key (written, mode 0600, to <state>/api-key).
# HOME is a folder of the state, so the sign-in never writes the machine's own ~/.qiskit/qiskit-ibm.json.
if os.environ.get("QCONNECTOR_UI_PROVIDER") == "signin":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from emulator import IBMQuantumEmulator

    _emulator = IBMQuantumEmulator(seed=3).start()
    for _key, _value in _emulator.client_env().items():
        if _key != "QISKIT_IBM_URL":
            os.environ[_key] = _value
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    os.environ["QCONNECTOR_ALLOW_HOSTS"] = "127.0.0.1"
    (_state / "home").mkdir(mode=0o700, exist_ok=True)
    os.environ["HOME"] = str(_state / "home")
    (_state / "signin.env").write_text(
        f'CLOUD_API_URL="{_emulator.base_url}"\nIQP_RUNTIME_API_URL="{_emulator.base_url}/api/v1"\n'
    )
    os.environ["QCONNECTOR_ENV_FILE"] = str(_state / "signin.env")
    _key_file = _state / "api-key"
    _key_file.write_text(_emulator.api_key)
    _key_file.chmod(0o600)
    c.QConnectorServer.provider = "auto"  # noqa: F821
    c.QConnectorServer.deadline = 20  # noqa: F821
