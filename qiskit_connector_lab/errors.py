"""Every error the connector raises, each with a one-line message that names the cause and the fix.

The faces (magics, server routes, the compat API) print ``str(error)`` and nothing else, so a message
must stand on its own: what went wrong, which variable or argument, and what to do.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class. ``str(err)`` is a single line, safe to show (it never holds the token)."""

    #: A short machine-readable code used by the server routes' JSON errors.
    code = "connector_error"

    def __init__(self, message: str) -> None:
        # One line, always: a newline would turn a clear message into soup.
        super().__init__(" ".join(str(message).split()))

    @property
    def message(self) -> str:
        return str(self)

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of a traceback: the error is the user's to fix, not a bug to debug."""
        return [f"{type(self).__name__}: {self}"]


class ConfigError(ConnectorError, ValueError):
    """The configuration is unusable. ``variable`` names the culprit, ``fix`` says what to do."""

    code = "config_error"

    def __init__(self, variable: str, problem: str, fix: str) -> None:
        self.variable = variable
        self.problem = problem
        self.fix = fix
        super().__init__(f"{variable}: {problem} {fix}")


class PlanMismatchError(ConnectorError):
    """The plan switched on in the configuration is not the plan of the instance on IBM Quantum."""

    code = "plan_mismatch"


class NoBackendAvailable(ConnectorError, LookupError):
    """No QPU matches: the fleet is empty, every QPU is paused, or the filters exclude them all."""

    code = "no_backend"


class UnknownBackend(ConnectorError, LookupError):
    """A QPU was asked for by name, and the provider does not list it."""

    code = "unknown_backend"


class UpstreamError(ConnectorError):
    """Talking to IBM Quantum failed. Subclasses say how."""

    code = "upstream_error"


class Unreachable(UpstreamError):
    code = "unreachable"


class Unauthorized(UpstreamError):
    code = "unauthorized"


class RateLimited(UpstreamError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ServerError(UpstreamError):
    code = "server_error"

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class DeadlineExceeded(UpstreamError, TimeoutError):
    code = "deadline_exceeded"

    def __init__(self, what: str, seconds: float) -> None:
        self.what = what
        self.seconds = seconds
        super().__init__(
            f"IBM Quantum did not answer {what} within {seconds:g} s. "
            "Try again later, or raise the deadline (QCONNECTOR_DEADLINE, %qconnect --deadline, connect(deadline=...))."
        )


class BadResponse(UpstreamError):
    """IBM Quantum answered with something that is not what the API documents."""

    code = "bad_response"
