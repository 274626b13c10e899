"""qiskit-connector-lab: connect a notebook to IBM Quantum in one step.

``%load_ext qiskit_connector_lab`` then ``%qconnect`` puts a ready ``backend`` (and, on paid plans, a ``session``)
into the notebook. ``connect()`` is the same thing as a function. With no IBM credentials, everything runs on
the embedded local fleet (fake backends, simulated queues), always labelled as local.

Importing this package is cheap: qiskit and the IBM client load on first use.

Architecture: one core, thin faces.

* The core, which imports no tornado, IPython or ipywidgets:
  ``config`` (the .env and the environment → ``Settings``, every variable described once in ``variables``) →
  ``plans`` (open or paid, checked against the instance) → ``providers`` (``ibm``: IBM Quantum through
  qiskit-ibm-runtime, every call bounded by ``providers.bounded``; ``local_fleet``: the offline fleet) → ``qpus``
  (the QPU and listing data) and ``ranking`` (least busy first) → ``connection`` (``connect()``). ``compat`` keeps
  the original Qiskit Connector's API.
* ``render``: text and HTML tables, a chip's layout and the notebook chip art.
* The faces: ``magics`` (IPython) and ``server`` (the Jupyter server routes the sidebar in ``src/`` talks to).
"""

from __future__ import annotations

import importlib
from typing import Any

try:
    from ._version import __version__
except ImportError:  # a source checkout that was never built
    __version__ = "0.0.0+unknown"

_EXPORTS = {
    "connect": "connection",
    "Connection": "connection",
    "load_settings": "config",
    "Settings": "config",
    "Plan": "plans",
    "QPU": "qpus",
    "Listing": "qpus",
    "ConnectorError": "errors",
    "ConfigError": "errors",
    "PlanMismatchError": "errors",
    "NoBackendAvailable": "errors",
    "UnknownBackend": "errors",
    "UpstreamError": "errors",
    "Unreachable": "errors",
    "Unauthorized": "errors",
    "RateLimited": "errors",
    "ServerError": "errors",
    "DeadlineExceeded": "errors",
    "QConnectorV2": "compat",
    "QPlanV2": "compat",
    "connector": "compat",
    "plan_type": "compat",
    "qiskit_smart": "compat",
    "qpu_verify": "compat",
    "is_verified": "compat",
    "save_account": "compat",
    "last_connection": "compat",
}

__all__ = [  # noqa: PLE0604 - the lazy exports' names, sorted
    *sorted(_EXPORTS),
    "__version__",
    "load_ipython_extension",
    "unload_ipython_extension",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qiskit_connector_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


# --- IPython -------------------------------------------------------------------------------------------------
def load_ipython_extension(ipython: Any) -> None:
    from . import login_magics
    from .magics import load_ipython_extension as load

    load(ipython)
    login_magics.load_ipython_extension(ipython)  # %qlogin, %qlogout


def unload_ipython_extension(ipython: Any) -> None:
    from . import login_magics
    from .magics import unload_ipython_extension as unload

    unload(ipython)
    login_magics.unload_ipython_extension(ipython)


# --- Jupyter ---------------------------------------------------------------------------------------------------
def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "qiskit-connector-lab"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "qiskit_connector_lab"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from .server import load_server_extension

    load_server_extension(server_app)
