"""``python -m qiskit_connector_lab.hub``: the class's QPU service (started by JupyterHub)."""

from __future__ import annotations

from . import main

raise SystemExit(main())
