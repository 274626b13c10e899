"""The original Qiskit Connector's API, kept working on top of :func:`connect`.

``from qiskit_connector_lab import QConnectorV2 as connector, QPlanV2 as plan`` behaves as the seed documents:
``connector()`` returns a ready backend (and shows a diagnostics summary of *that* backend), ``plan()`` returns
"Open Plan" or "Paid Plan". The ≤2.2.2 names ``connector`` and ``plan_type`` are the same functions.

Honest semantics of the seed's helpers:

* ``qiskit_smart()`` resolves the configuration and fetches the QPU listing once, within the deadline. It
  returns ``True`` when the provider answered; on any failure it raises the one-line ``ConnectorError``
  (nothing is swallowed into a print). It saves nothing.
* ``qpu_verify()`` returns the QPUs the account can use, least busy first (one listing request).
* ``is_verified()`` is ``True`` once, in this process, a ``qiskit_smart()``, ``qpu_verify()`` or ``connector()``
  call got an IBM listing with at least one online QPU for the current configuration. It makes no request. On the
  local fleet it stays ``False``: nothing is verified with IBM there (``%qplan`` says the same).
* ``save_account()`` is opt-in: it saves the configured token as a qiskit-ibm-runtime account file with mode
  0600, never through a symbolic link, never as the default unless asked.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from .config import load_settings
from .connection import Connection, connect
from .providers import plan_for, provider_for
from .qpus import QPU, Listing
from .ranking import ranked

_verified: set[str] = set()
_last: dict[str, Connection] = {}


def _show(connection: Connection) -> None:
    """Show the summary as HTML in IPython, as text elsewhere (only when called, never at import)."""
    if "IPython" in sys.modules:
        try:
            from IPython import get_ipython
            from IPython.display import display

            if get_ipython() is not None:
                display(connection)
                return
        except Exception:  # noqa: BLE001, S110 - a broken display must not break connecting  # pragma: no cover
            pass
    print(connection.summary())


def QConnectorV2(
    backend: str | None = None,
    *,
    verbose: bool = True,
    mode: str = "job",
    **kwargs: Any,
) -> Any:
    """Connect and return the backend (least busy, or ``backend``). Keyword arguments go to :func:`connect`.

    The seed returns only the backend, and its paid-plan example opens ``Session(backend=backend)`` itself, so
    the default mode here is "job": no Session is opened that nobody would hold. Pass ``mode="session"`` to have
    one opened; ``last_connection().session`` holds it.
    """
    connection = connect(backend, mode=mode, **kwargs)
    _last["connection"] = connection
    _remember(connection.listing, connection.settings_key)
    if verbose:
        _show(connection)
    return connection.backend


def QPlanV2(**kwargs: Any) -> str:
    """ "Open Plan" or "Paid Plan", as the configuration declares it (``connect`` verifies it against IBM)."""
    settings = load_settings(**kwargs)
    if settings.plan is None and not settings.local:
        return provider_for(settings).check_plan().plan.label
    return plan_for(settings).label


connector = QConnectorV2
plan_type = QPlanV2


def last_connection() -> Connection | None:
    """The Connection behind the last ``QConnectorV2()`` call (its session, listing and summary)."""
    return _last.get("connection")


def _remember(listing: Listing, settings_key: str) -> None:
    """Mark the configuration verified once an IBM listing of it shows an online QPU (the local fleet checks nothing
    with IBM, as ``%qplan`` says, so it is never verified)."""
    if not listing.local and any(q.operational for q in listing.qpus):
        _verified.add(settings_key)


def _verified_listing(**kwargs: Any) -> Listing:
    settings = load_settings(**kwargs)
    listing = provider_for(settings).listing()
    _remember(listing, settings.fingerprint())
    return listing


def qiskit_smart(**kwargs: Any) -> bool:
    """Resolve the configuration and fetch the QPU listing once; True when the provider answered."""
    _verified_listing(**kwargs)
    return True


def qpu_verify(**kwargs: Any) -> list[QPU]:
    """The QPUs the account can use, least busy first (one listing request)."""
    return ranked(_verified_listing(**kwargs).qpus)


def is_verified(**kwargs: Any) -> bool:
    """True once this process has seen an online QPU for the current configuration. Makes no request."""
    return load_settings(**kwargs).fingerprint() in _verified


def save_account(
    name: str | None = None,
    *,
    filename: str | os.PathLike[str] | None = None,
    set_as_default: bool = False,
    overwrite: bool = False,
    **kwargs: Any,
) -> Path:
    """Save the configured IBM credentials as a qiskit-ibm-runtime account, in a file of mode 0600.

    Never written through a symbolic link; an endpoint that only ``QCONNECTOR_ALLOW_HOSTS`` trusts is not saved
    (see :mod:`.config.saved_account`).
    """
    from .config import save_account as save

    return save(
        load_settings(**kwargs), name=name, filename=filename, set_as_default=set_as_default, overwrite=overwrite
    )
