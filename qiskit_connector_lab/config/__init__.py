"""Configuration: read the original Qiskit Connector's variables (and qiskit-ibm-runtime's own), validate them.

Every variable is described once in :mod:`qiskit_connector_lab.variables`. One module per concern:

* :mod:`.dotenv_file`: which ``.env`` is read, whether it is trusted, and what it says;
* :mod:`.sources`: the sources in precedence order, and naming a value in an error without quoting a secret;
* :mod:`.endpoints`: which hosts the API key may be sent to;
* :mod:`.saved_account`: qiskit-ibm-runtime's saved-accounts file, read and written;
* :mod:`.values`: one validated value each (plan, token, channel, instance, seconds, local fleet);
* :mod:`.settings`: :class:`Settings` and :func:`load_settings`, the one precedence rule.
"""

from __future__ import annotations

from .dotenv_file import ENV_FILE_LIMIT, SERVER_ROOT_VARIABLE, find_env_file, read_env_file, shown_path
from .endpoints import ALLOW_HOSTS_VARIABLE, IBM_HOSTS, allowed_hosts, check_endpoint, is_ibm_endpoint
from .saved_account import read_saved_account, save_account
from .settings import DEFAULT_DEADLINE, DEFAULT_LISTING_TTL, Settings, load_settings
from .sources import Found, Sources
from .values import (
    CHANNELS,
    DEFAULT_CHANNEL,
    LOCAL_CHANNEL,
    RETIRED_CHANNELS,
    TOKEN_VARIABLES,
    fake_backend_names,
)

__all__ = [
    "ALLOW_HOSTS_VARIABLE",
    "CHANNELS",
    "DEFAULT_CHANNEL",
    "DEFAULT_DEADLINE",
    "DEFAULT_LISTING_TTL",
    "ENV_FILE_LIMIT",
    "IBM_HOSTS",
    "LOCAL_CHANNEL",
    "RETIRED_CHANNELS",
    "SERVER_ROOT_VARIABLE",
    "TOKEN_VARIABLES",
    "Found",
    "Settings",
    "Sources",
    "allowed_hosts",
    "check_endpoint",
    "fake_backend_names",
    "find_env_file",
    "is_ibm_endpoint",
    "load_settings",
    "read_env_file",
    "read_saved_account",
    "save_account",
    "shown_path",
]
