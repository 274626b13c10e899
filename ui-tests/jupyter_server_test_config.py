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

# Uncomment to debug the server:
# c.ServerApp.log_level = "DEBUG"
