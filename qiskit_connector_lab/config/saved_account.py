"""qiskit-ibm-runtime's saved-accounts file (``~/.qiskit/qiskit-ibm.json``): read the default account, save one.

Both ways go through :mod:`qiskit_connector_lab.files`: the file is read only if it is a regular file of at most
1 MB (never blocking on a pipe), and written atomically with mode 0600, never through a symbolic link. The file's
format is the client's own: saving lets ``QiskitRuntimeService.save_account`` write a private staging copy, which
then replaces the file.

An account is not saved with an endpoint that only ``QCONNECTOR_ALLOW_HOSTS`` trusts (a loopback emulator, a
proxy): a plain ``QiskitRuntimeService()`` reads that file later without the allow-list and would send the key
there. Saving it *without* the URL is no better: the account would silently mean IBM's endpoint instead of the one
configured. So it is refused in one line, and nothing is written. The sign-in (:mod:`..accounts.store`) follows
the same rule (:func:`check_savable_endpoint`).

The file has one owner, :mod:`..accounts.store`: its path (:func:`~..accounts.store.accounts_file`) and its lock
(:func:`~..accounts.store.locked`). Saving reads, stages and replaces the file under that lock, so a sign-in at the
same moment is never lost; the IBM client is imported before the lock is taken (it takes seconds).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..accounts import store
from ..errors import ConfigError
from ..files import SMALL_FILE_LIMIT, read_bounded, write_private
from .dotenv_file import shown_path
from .endpoints import ALLOW_HOSTS_VARIABLE, is_ibm_endpoint


def accounts_file(filename: str | os.PathLike[str] | None) -> Path:
    """``filename``, or qiskit-ibm-runtime's saved-accounts file (the one path, :func:`.store.accounts_file`)."""
    return Path(filename).expanduser() if filename else store.accounts_file()


def check_savable_endpoint(variable: str, url: str | None, fix: str) -> None:
    """One rule for the saved-accounts file: no endpoint in it that only ``QCONNECTOR_ALLOW_HOSTS`` trusts."""
    if url and not is_ibm_endpoint(url):
        raise ConfigError(
            variable,
            f"points at {url}, which only {ALLOW_HOSTS_VARIABLE} trusts; a saved account would be used later "
            "without that opt-in, so none was saved.",
            fix,
        )


def read_saved_account(path: Path) -> tuple[str | None, dict[str, str]]:
    """The account to use in qiskit-ibm-runtime's saved-accounts file (the signed-in one, else the default one):
    (name, fields); none if there is no file."""
    if not os.path.lexists(path):
        return None, {}
    where = shown_path(path) or str(path)
    raw = read_bounded(path, variable=where, limit=SMALL_FILE_LIMIT)
    try:
        accounts = json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # also UnicodeDecodeError
        raise ConfigError(
            where,
            f"is not a readable saved-accounts file ({type(exc).__name__}).",
            "Fix or delete it, or set IQP_API_TOKEN instead.",
        ) from None
    if not isinstance(accounts, dict) or not accounts:
        return None, {}
    # the signed-in account comes before every other saved account
    signed_in = store.ACCOUNT_NAME if isinstance(accounts.get(store.ACCOUNT_NAME), dict) else None
    chosen = signed_in or next(
        (n for n, a in accounts.items() if isinstance(a, dict) and a.get("is_default_account")), None
    )
    for candidate in ("default-ibm-quantum-platform", "default-ibm-cloud", "default"):
        if chosen is None and candidate in accounts:
            chosen = candidate
    if chosen is None and len(accounts) == 1:
        chosen = next(iter(accounts))
    if chosen is None or not isinstance(accounts[chosen], dict):
        return None, {}
    account = accounts[chosen]
    details = account.get(store.DETAILS_KEY) if chosen == store.ACCOUNT_NAME else None
    details = details if isinstance(details, dict) else {}
    fields = {
        # the sign-in's endpoints that only the settings read (and check against the allow-list like any)
        "CLOUD_API_URL": details.get(store.SETTINGS_ONLY_URL),
        "IQP_RUNTIME_API_URL": details.get(store.SETTINGS_ONLY_RUNTIME_URL),
        "QISKIT_IBM_TOKEN": account.get("token"),
        "QISKIT_IBM_CHANNEL": account.get("channel"),
        "QISKIT_IBM_INSTANCE": account.get("instance"),
        "QISKIT_IBM_URL": account.get("url"),
    }
    return chosen, {k: str(v) for k, v in fields.items() if v}


def save_account(
    settings: Any,  # a Settings (not imported: the settings import this module)
    *,
    name: str | None,
    filename: str | os.PathLike[str] | None,
    set_as_default: bool,
    overwrite: bool,
    seconds: float = store.LOCK_SECONDS,
) -> Path:
    """Save the settings' IBM credentials as a qiskit-ibm-runtime account (see the module docstring); the file's
    lock is waited on for at most ``seconds``."""
    if settings.local or settings.token is None:
        raise ConfigError("IQP_API_TOKEN", "is not set, so there is no account to save.", "Set it in .env first.")
    for variable, url in (("CLOUD_API_URL", settings.cloud_url), ("IQP_RUNTIME_API_URL", settings.runtime_url)):
        check_savable_endpoint(
            variable, url, "Save the account without the override (unset it), and keep the override in the .env."
        )
    path = accounts_file(filename)
    where = shown_path(path) or str(path)
    from qiskit_ibm_runtime import QiskitRuntimeService  # seconds when cold: before the lock, not under it

    lock = store.locked(path, seconds)  # the file's one lock: a sign-in at the same moment is never lost
    with lock, tempfile.TemporaryDirectory(prefix="qcl-account-") as folder:  # 0700: only this user reads it
        existing = read_bounded(path, variable=where) if os.path.lexists(path) else b"{}"
        staging = Path(folder) / "qiskit-ibm.json"
        write_private(staging, existing, variable=where)
        QiskitRuntimeService.save_account(
            channel=settings.channel,
            token=settings.token.reveal(),
            instance=settings.instance,
            url=settings.cloud_url,
            filename=str(staging),
            name=name,
            set_as_default=set_as_default,
            overwrite=overwrite,
        )
        data = read_bounded(staging, variable=where)
        write_private(path, data, variable=where)
    return path
