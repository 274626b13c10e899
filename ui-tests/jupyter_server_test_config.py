"""Jupyter server configuration for the Galata integration tests.

Never use this configuration in production: it disables authentication and
exposes JupyterLab's JavaScript objects on the browser's window.
"""

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821

# CI and the development machines run as root.
c.ServerApp.allow_root = True  # noqa: F821

# Uncomment to debug the server:
# c.ServerApp.log_level = "DEBUG"
