"""The configuration sources in precedence order, and how their values are named in an error.

Highest first (one rule for every variable): explicit arguments, the process environment, the ``.env`` (never for
the variables marked *process only*), a saved qiskit-ibm-runtime account. No error quotes a secret, or any value
that shares 8 characters with one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ConfigError
from ..variables import PROCESS_ONLY, SECRET_NAMES
from .dotenv_file import shown_path

_PLACEHOLDER = re.compile(r"^\s*<[^<>]*>\s*$")


class Found(NamedTuple):
    value: str
    name: str
    origin: str  # "argument", "environment", ".env ~/x/.env", "saved account NAME"


class Sources:
    """The configuration sources in precedence order, looked up by variable name, and the secrets they hold."""

    def __init__(
        self,
        arguments: Mapping[str, str],
        environ: Mapping[str, str],
        dotenv: Mapping[str, str | None],
        env_path: Path | None,
    ) -> None:
        self.environ = environ
        self.env_path = env_path
        self._layers: list[tuple[str, Mapping[str, str | None]]] = [
            ("argument", arguments),
            ("environment", environ),
            (f".env {shown_path(env_path)}", dotenv),
        ]
        self.saved_name: str | None = None
        self._all_secrets: list[str] = []

    def add_saved_account(self, name: str | None, fields: Mapping[str, str]) -> None:
        if fields:
            self.saved_name = name
            self._layers.append((f"saved account {name}", fields))

    def account_unit(self) -> Sources:
        """The sources as seen when the token comes from the saved account: only the explicit arguments and that
        account, so its channel, instance and URL go with its key (never another layer's instance with this key)."""
        unit = Sources({}, self.environ, {}, self.env_path)
        unit._layers = [layer for layer in self._layers if layer[0] == "argument" or layer[0].startswith("saved")]
        unit.saved_name = self.saved_name
        unit._all_secrets = self.secrets()
        return unit

    def get(self, *names: str) -> Found | None:
        """First value among ``names``, by layer precedence then name order."""
        for origin, values in self._layers:
            for name in names:
                if origin.startswith(".env") and name in PROCESS_ONLY:
                    continue
                value = values.get(name)
                if value is not None:
                    return Found(value, name, origin)
        return None

    def ignored_in_dotenv(self, name: str) -> Found | None:
        """The .env's value of a *process only* variable, which :meth:`get` skips (for saying it was ignored)."""
        for origin, values in self._layers:
            value = values.get(name) if origin.startswith(".env") and name in PROCESS_ONLY else None
            if value is not None:
                return Found(value, name, origin)
        return None

    def is_set(self, *names: str) -> bool:
        return self.get(*names) is not None

    def secrets(self) -> list[str]:
        found = list(self._all_secrets)
        for _, values in self._layers:
            for name in SECRET_NAMES:
                value = (values.get(name) or "").strip()
                if len(value) >= 8:
                    found.append(value)
        return found

    def quote(self, value: Any) -> str:
        """``repr(value)`` for an error message, unless it shares 8 characters with a secret (then not shown)."""
        text = str(value)
        for secret in self.secrets():
            if any(secret[i : i + 8] in text for i in range(len(secret) - 7)):
                return "a value that holds the API key (not shown)"
        return repr(text if len(text) <= 60 else text[:57] + "...")

    def where(self, found: Found) -> str:
        return found.name if found.origin in ("argument", "environment") else f"{found.name} in {found.origin}"


def is_placeholder(value: str) -> bool:
    """True for the ``<PROVIDE_...>`` text of .env.example (safe to show: it is not a secret)."""
    return bool(_PLACEHOLDER.match(value))


def check_placeholder(name: str, value: str) -> None:
    if is_placeholder(value):
        raise ConfigError(
            name,
            f"still holds the placeholder {value.strip()} from .env.example.",
            "Replace it with your own value, or delete the line.",
        )
