"""The API token as a value that never shows itself, and a redactor for text that might."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_MASK = "********"


class Secret:
    """Holds a secret string. ``repr``/``str``/``format`` show only a mask; ``reveal()`` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret holds a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):  # pickling would write the token somewhere we do not control
        raise TypeError("a Secret cannot be pickled")


# Bearer JWTs and IAM tokens the client may echo in an exception text.
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")


def redact(text: str, secrets: Iterable[str | Secret | None] = ()) -> str:
    """Remove every given secret, any bearer token and any JWT from ``text``."""
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value and len(value) >= 4:
            text = text.replace(value, _MASK)
    text = _BEARER.sub(lambda m: m.group(1) + _MASK, text)
    return _JWT.sub(_MASK, text)


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs the registered secrets from every record it sees."""

    #: At most this many secrets are kept (the most recently added): the registry never grows without bound.
    LIMIT = 64

    def __init__(self) -> None:
        super().__init__()
        self._secrets: dict[str, None] = {}  # insertion order: the oldest first

    def add(self, secret: Secret | str) -> None:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value:
            self._secrets.pop(value, None)
            self._secrets[value] = None
            while len(self._secrets) > self.LIMIT:
                del self._secrets[next(iter(self._secrets))]

    def discard(self, secret: Secret | str) -> None:
        """Forget a secret that is no longer stored or in use (a key IBM refused)."""
        value = secret.reveal() if isinstance(secret, Secret) else secret
        self._secrets.pop(value, None)

    def __len__(self) -> int:
        return len(self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is not ours to fix; let logging report it
            return True
        clean = redact(message, list(self._secrets))
        if clean != message:
            record.msg, record.args = clean, None
        return True


#: One filter shared by the loggers that may see the token (ours and the IBM client's).
redacting_filter = RedactingFilter()


def guard_loggers(*names: str) -> None:
    """Attach the shared redacting filter to the named loggers, their handlers and the root's (idempotent).

    A logger's own filters do not see its children's records, but its handlers do: records of
    ``qiskit_ibm_runtime.api.session`` reach the handler of ``qiskit_ibm_runtime``, so both get the filter.
    """
    targets: list[logging.Filterer] = list(logging.getLogger().handlers)
    for name in names:
        logger = logging.getLogger(name)
        targets.append(logger)
        targets.extend(logger.handlers)
    for target in targets:
        if redacting_filter not in target.filters:
            target.addFilter(redacting_filter)
