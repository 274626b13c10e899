"""The JupyterHub face: one service that lists a class's QPUs for every student's server.

``python -m qiskit_connector_lab.hub`` is started by JupyterHub as a managed service (see
``examples/classroom/jupyterhub_config.py``). It holds the class's listing credential (read from its own
environment or the ``.env`` named by ``QCONNECTOR_HUB_ENV_FILE``, given to the service only), and serves the QPU
listing, each QPU's configuration and calibration, and the plan of each instance it serves through one
:class:`~qiskit_connector_lab.server.shared_upstream.SharedUpstream` per instance: cached, coalesced, backed off,
exactly as a Jupyter server does for its tabs. Every caller is checked with the hub (``HubAuth``; the scope
``access:services!service=<name>``): 403 otherwise.

The students' servers ask it through :mod:`qiskit_connector_lab.providers.hub_service` when
``QCONNECTOR_HUB_SERVICE_URL`` is set, and use the student's own credentials for jobs and sessions.
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from .service import main as run

    return run(argv)
