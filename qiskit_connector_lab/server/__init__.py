"""The Jupyter server face: REST routes for the sidebar, backed by one shared, cached, coalesced upstream.

``load_server_extension(server_app)`` is called by ``qiskit_connector_lab._load_jupyter_server_extension``.
It reads :class:`~.app_settings.QConnectorServer` from the server's config, builds the one
:class:`~.shared_upstream.SharedUpstream` every client shares (its provider calls all go through one
:class:`~.upstream.Upstream`), adds the routes, and stops the cache with the server.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ..secret import guard_loggers, redacting_filter

#: Where the shared cache lives in ``web_app.settings`` (tests and diagnostics reach it there).
CACHE_SETTING = "qiskit_connector_lab.shared_upstream"

__all__ = ["CACHE_SETTING", "load_server_extension"]


def _guard_logs(log: logging.Logger) -> None:
    """Scrub any registered secret (the IBM token) from the server's log and tornado's loggers."""
    guard_loggers(
        log.name,
        "tornado.access",
        "tornado.application",
        "tornado.general",
        "qiskit_connector_lab.server",
        "qiskit_connector_lab",
    )
    for handler in log.handlers:
        if redacting_filter not in handler.filters:
            handler.addFilter(redacting_filter)


def _stop_with_server(server_app: Any, stop: Any) -> None:
    """Stop the cache when the server shuts down.

    jupyter_server calls shutdown hooks only on ``ExtensionApp`` objects; a module extension like this one has
    none, so the server's own extension cleanup is chained (on this server instance only).
    """
    original = server_app.cleanup_extensions

    async def cleanup_extensions() -> None:
        try:
            await stop()
        except Exception as exc:  # noqa: BLE001 - never block the server's shutdown
            server_app.log.warning("qiskit-connector-lab: stopping the QPU cache failed: %s", exc)
        await original()

    server_app.cleanup_extensions = cleanup_extensions


def share_configuration(server_app: Any, env_file: str | None) -> None:
    """Make the kernels this server starts resolve the same configuration as the sidebar.

    jupyter_server starts a kernel with its own ``os.environ`` (plus the session's variables), so the rule is
    passed there: the ``.env`` named by ``c.QConnectorServer.env_file`` as ``QCONNECTOR_ENV_FILE``, else the
    server's root as ``QCONNECTOR_SERVER_ROOT`` (both the server and its kernels then read the ``.env`` in that
    folder, and see it when it is added or edited later). A ``QCONNECTOR_ENV_FILE`` the user set wins.
    """
    if os.environ.get("QCONNECTOR_ENV_FILE"):
        return
    if env_file:
        os.environ["QCONNECTOR_ENV_FILE"] = str(Path(env_file).expanduser().resolve())
        return
    root = getattr(server_app, "root_dir", None) or os.getcwd()
    os.environ["QCONNECTOR_SERVER_ROOT"] = str(Path(root).expanduser().resolve())


def load_server_extension(server_app: Any) -> None:
    from .app_settings import QConnectorServer
    from .routes import NAMESPACE, setup_routes
    from .shared_upstream import SharedUpstream

    options = QConnectorServer(parent=server_app)
    share_configuration(server_app, options.env_file)
    log = server_app.log
    _guard_logs(log)
    cache = SharedUpstream(options, log=log)
    web_app = server_app.web_app
    web_app.settings[CACHE_SETTING] = cache
    setup_routes(web_app, cache)
    _stop_with_server(server_app, cache.stop)
    server_app.io_loop.add_callback(cache.start)
    log.info(
        "qiskit-connector-lab: routes at %s%s/ (provider %s, refresh every %g s, TTL %g s)",
        web_app.settings.get("base_url", "/"),
        NAMESPACE,
        options.provider,
        options.refresh_interval,
        options.ttl,
    )
