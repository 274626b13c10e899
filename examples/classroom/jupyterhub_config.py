"""A class on one machine: JupyterHub with the qiskit-connector-lab QPU service (``jupyterhub -f THIS_FILE``).

Runs as it is: loopback only, the ``dummy`` authenticator (any password, or ``CLASS_PASSWORD``), the ``simple``
spawner (every student's server runs as the hub's own OS user, in ``/tmp/<name>``: for a trial or a lab machine,
not for strangers), ``--allow-root`` when the hub runs as root.

The class's listing credential comes from the hub's own environment (``IQP_API_TOKEN``, a plan switch such as
``OPEN_PLAN=on``, ``OPEN_PLAN_INSTANCE``, ...) or from the ``.env`` named by ``QCONNECTOR_HUB_ENV_FILE``. It is
handed to the service only: a student's server gets the service's address and a token that may call it, never the
credential. Each student signs in from the sidebar (or keeps a ``.env`` in their home folder) for their own jobs.

Environment read here (all optional): ``CLASS_STUDENTS`` (comma-separated names, default student1..3),
``CLASS_PASSWORD``, ``CLASS_HUB_PORT`` (8000), ``CLASS_SERVICE_PORT`` (10101), ``CLASS_HOME`` (``/tmp``: a folder
per student under it).
"""

import os
import shutil
import sys
from pathlib import Path

from qiskit_connector_lab.variables import CLIENT_HOST_VARIABLES, VARIABLES

c = get_config()  # noqa: F821 - JupyterHub's config loader defines it

SERVICE = "qiskit-connector-lab"
HUB_PORT = int(os.environ.get("CLASS_HUB_PORT", "8000"))
SERVICE_PORT = int(os.environ.get("CLASS_SERVICE_PORT", "10101"))
SERVICE_URL = f"http://127.0.0.1:{SERVICE_PORT}"

# -- the hub, on loopback ------------------------------------------------------------------------------------
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = HUB_PORT
c.JupyterHub.hub_ip = "127.0.0.1"
proxy = shutil.which(
    "configurable-http-proxy", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
)
# A server's first answer may take longer than the Python proxy's 20 s default when a whole class wakes at once on a
# small machine (each server imports the IBM client once): give it two minutes (the Node proxy sets no limit).
# The Python proxy also forwards 10 requests at a time, and one queued for 20 s fails (503): for a large class,
# prefer the Node proxy (npm install configurable-http-proxy@5.3.0, on the PATH).
c.ConfigurableHTTPProxy.command = [proxy or "configurable-http-proxy", "--proxy-timeout", "120000"]

# -- the students --------------------------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {
    name.strip() for name in os.environ.get("CLASS_STUDENTS", "student1,student2,student3").split(",") if name.strip()
}
if os.environ.get("CLASS_PASSWORD"):
    c.DummyAuthenticator.password = os.environ["CLASS_PASSWORD"]
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(os.environ.get("CLASS_HOME", "/tmp"), "{username}")
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
if hasattr(os, "geteuid") and os.geteuid() == 0:
    c.Spawner.args = ["--allow-root"]

# -- the class's QPU service ---------------------------------------------------------------------------------
# What the service reads: the connector's variables, from the hub's environment (never a student's).
passed = {v for variable in VARIABLES for v in variable.names} | set(CLIENT_HOST_VARIABLES)
passed |= {"QCONNECTOR_HUB_ENV_FILE", "QCONNECTOR_HUB_INSTANCES", "QCONNECTOR_ALLOW_HOSTS", "HOME"}
c.JupyterHub.services = [
    {
        "name": SERVICE,
        "url": SERVICE_URL,
        "command": [sys.executable, "-m", "qiskit_connector_lab.hub"],
        "environment": {name: os.environ[name] for name in sorted(passed) if name in os.environ},
    }
]
# Students, and their servers' tokens, may call the service (and nothing more than a server's token could).
c.JupyterHub.extra_user_scopes = {f"access:services!service={SERVICE}"}
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", f"access:services!service={SERVICE}"]
# Each student's server lists through the service; their own key (sidebar sign-in or ~/.env) runs their jobs.
c.Spawner.environment = {"QCONNECTOR_HUB_SERVICE_URL": f"{SERVICE_URL}/services/{SERVICE}/"}
