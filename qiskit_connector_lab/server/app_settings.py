"""The server extension's settings: a traitlets ``Configurable`` read from the Jupyter server's config.

In ``jupyter_server_config.py``::

    c.QConnectorServer.provider = "ibm"          # "auto" (default), "local" or "ibm"
    c.QConnectorServer.env_file = "~/work/.env"  # default: QCONNECTOR_ENV_FILE, else the nearest .env upward
    c.QConnectorServer.refresh_interval = 30     # seconds between background refreshes

or on the command line: ``jupyter lab --QConnectorServer.refresh_interval=30``.
The defaults work offline: with no IBM credentials anywhere, "auto" serves the local fleet.
"""

from __future__ import annotations

from typing import Any

from traitlets import Enum, Float, Int, TraitError, Unicode, validate
from traitlets.config import Configurable


class QConnectorServer(Configurable):
    """Settings of the qiskit-connector-lab server routes and their shared upstream cache."""

    provider = Enum(
        ["auto", "local", "ibm"],
        default_value="auto",
        help="Which QPUs to serve: 'ibm' (IBM Quantum, needs credentials), 'local' (the offline fleet), or "
        "'auto' (IBM when credentials are configured, else the local fleet).",
    ).tag(config=True)

    env_file = Unicode(
        None,
        allow_none=True,
        help="The .env file with the connector's variables (IQP_API_TOKEN, OPEN_PLAN, ...). Default: "
        "QCONNECTOR_ENV_FILE, else the first .env found upward from the server's working directory.",
    ).tag(config=True)

    refresh_interval = Float(
        15.0,
        help="Seconds between background refreshes of the QPU listing while clients are asking for it.",
    ).tag(config=True)

    ttl = Float(
        10.0,
        help="Seconds a QPU listing is served from the cache before a request fetches a new one.",
    ).tag(config=True)

    deadline = Float(
        10.0,
        help="Seconds allowed for each blocking call to IBM Quantum before it is abandoned.",
    ).tag(config=True)

    idle_timeout = Float(
        120.0,
        help="The background refresh pauses when no client asked for anything for this many seconds.",
    ).tag(config=True)

    history_length = Int(
        60,
        help="How many queue-depth points per QPU are kept in memory for the detail view.",
    ).tag(config=True)

    jobs_pending_ttl = Float(
        1.0,
        help="Seconds a page of jobs that shows a queued or running job is served from the cache (at most ttl), "
        "so a job that ends is seen within about a second; a page of finished jobs is kept for ttl.",
    ).tag(config=True)

    detail_ttl = Float(
        600.0,
        help="Seconds a QPU's configuration and calibration properties are cached.",
    ).tag(config=True)

    plan_ttl = Float(
        60.0,
        help="Seconds the plan, instance and usage are cached.",
    ).tag(config=True)

    max_backoff = Float(
        60.0,
        help="Upper bound, in seconds, of the exponential backoff after upstream failures (a 429's "
        "Retry-After is honoured as given, up to an hour).",
    ).tag(config=True)

    workers = Int(
        4,
        help="Threads for blocking upstream calls (they never run on the server's event loop).",
    ).tag(config=True)

    @validate(
        "refresh_interval",
        "ttl",
        "jobs_pending_ttl",
        "deadline",
        "idle_timeout",
        "detail_ttl",
        "plan_ttl",
        "max_backoff",
    )
    def _positive_seconds(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not value > 0 or value == float("inf"):
            raise TraitError(
                f"QConnectorServer.{proposal['trait'].name} must be a positive number of seconds, "
                f"not {proposal['value']!r}."
            )
        return value

    @validate("history_length", "workers")
    def _positive_count(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if value < 1:
            raise TraitError(f"QConnectorServer.{proposal['trait'].name} must be at least 1, not {value}.")
        return value

    def describe(self) -> dict[str, Any]:
        """The settings as plain data (nothing secret lives here)."""
        return {name: getattr(self, name) for name in sorted(self.trait_names(config=True))}
