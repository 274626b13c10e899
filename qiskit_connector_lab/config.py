"""Configuration: read the original Qiskit Connector's variables (and qiskit-ibm-runtime's own), validate them.

Every variable is described once in :mod:`.variables` (name, aliases, type, default, secret or not, whether a
``.env`` may set it). Precedence, highest first (one rule for every variable):

1. explicit arguments (``connect(instance=...)``, ``%qconnect --instance ...``);
2. the process environment (``os.environ``);
3. the ``.env`` file (never for the variables marked *process only*);
4. a saved qiskit-ibm-runtime account (``~/.qiskit/qiskit-ibm.json``), used only when no token is set above: the
   signed-in one (``%qlogin`` or the sidebar, account ``qiskit-connector-lab``) first, else the default one.

**Which ``.env``.** The one given (``env_file=`` / ``--env``), else ``QCONNECTOR_ENV_FILE``, else a bounded search:
from ``QCONNECTOR_SERVER_ROOT`` (set by the Jupyter server for the kernels it starts, so they read the same file as
the sidebar) or else the working directory, upward, never above the home directory (or the server root). Outside
the home directory only the starting folder is looked at. A ``.env`` in a folder every user may write to, or owned
by another user, or writable by every user, is skipped with a note.

**Which hosts.** An endpoint override must be an ``https://`` URL on an IBM Quantum or IBM Cloud host, unless the
host is named in ``QCONNECTOR_ALLOW_HOSTS`` in the *process environment* (a ``.env`` cannot widen trust). A refused
override is a one-line error naming the variable, the file and the opt-in; nothing is sent anywhere.
A URL whose host two parsers could read differently (a backslash, ``@`` userinfo, whitespace, a control
character, a percent-escape in the host part, a query or fragment) is refused whatever its host: ``urlsplit`` and
urllib3's ``parse_url`` (what requests sends with) must agree on scheme, host, port and path, and the URL passed on
(to the client, its ``url_resolver``, ``Settings.endpoint``) is rebuilt from those parts, never the raw string.

**Secrets.** No error quotes a secret, or any value that shares 8 characters with one; a malformed line is named by
file, line number and variable only.

Reading never changes ``os.environ``: ``.env`` values are read with ``dotenv_values``.
With no credentials anywhere, the settings select the embedded **local fleet**.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import stat
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from dotenv import dotenv_values
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from .errors import ConfigError
from .plans import PLAN_NAME_VARIABLES, PLAN_SWITCHES, Plan, parse_plan
from .secret import Secret
from .variables import CLIENT_HOST_VARIABLES, ENDPOINT_VARIABLES, PROCESS_ONLY, SECRET_NAMES, variable

CHANNELS = ("ibm_quantum_platform", "ibm_cloud")
LOCAL_CHANNEL = "local"
RETIRED_CHANNELS = {"ibm_quantum": "ibm_quantum_platform"}
DEFAULT_CHANNEL = "ibm_quantum_platform"
DEFAULT_DEADLINE = float(variable("QCONNECTOR_DEADLINE").default or 10)
DEFAULT_LISTING_TTL = float(variable("QCONNECTOR_LISTING_TTL").default or 10)
#: IBM Quantum and IBM Cloud hosts: an endpoint override may point at these (or a subdomain), over https.
IBM_HOSTS = ("quantum.ibm.com", "quantum-computing.ibm.com", "cloud.ibm.com")
ALLOW_HOSTS_VARIABLE = "QCONNECTOR_ALLOW_HOSTS"
SERVER_ROOT_VARIABLE = "QCONNECTOR_SERVER_ROOT"

_PLACEHOLDER = re.compile(r"^\s*<[^<>]*>\s*$")
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0", ""}
_KEY = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=")

#: Every variable this module reads, for documentation and for the ``QConnect`` help.
TOKEN_VARIABLES = SECRET_NAMES


@dataclass(frozen=True)
class Settings:
    """Validated configuration. Safe to print: the token is a :class:`Secret`."""

    local: bool
    token: Secret | None = None
    channel: str = DEFAULT_CHANNEL
    instance: str | None = None
    plan: Plan | None = None  # None: take the plan IBM reports for the instance
    plan_switch: str | None = None  # e.g. "PREMIUM_PLAN" when a switch chose the plan
    plan_names: Mapping[Plan, str] = field(default_factory=dict)
    cloud_url: str | None = None  # IBM Cloud base: the client derives IAM/search/catalog hosts from it
    runtime_url: str | None = None  # the runtime API base (".../api/v1"), used verbatim
    deadline: float = DEFAULT_DEADLINE
    listing_ttl: float = DEFAULT_LISTING_TTL
    env_file: Path | None = None
    saved_account: str | None = None
    origins: Mapping[str, str] = field(default_factory=dict)  # field → where its value came from
    #: One-line notes about the configuration itself (a skipped .env, a .env ignored for the local fleet, ...).
    notes: tuple[str, ...] = ()
    fleet: tuple[str, ...] | None = None  # QCONNECTOR_FLEET: local fleet members
    fleet_seed: int | None = None  # QCONNECTOR_FLEET_SEED
    fleet_file: Path | None = None  # QCONNECTOR_FLEET_FILE

    @property
    def provider_kind(self) -> str:
        return "local" if self.local else "ibm"

    @property
    def env_file_shown(self) -> str | None:
        """The .env read, with the home directory written as ``~`` (None: no .env was read)."""
        return shown_path(self.env_file)

    @property
    def endpoint(self) -> str | None:
        """The endpoint in use when it is not IBM's default (None: IBM's default, or the local fleet)."""
        if self.local:
            return None
        return self.runtime_url or self.cloud_url

    def fingerprint(self) -> str:
        """A stable key for caching a provider built from these settings (hashes the token)."""
        parts = [
            self.provider_kind,
            self.token.reveal() if self.token else "",
            self.channel,
            self.instance or "",
            self.cloud_url or "",
            self.runtime_url or "",
            ",".join(self.fleet or ()),
            "" if self.fleet_seed is None else str(self.fleet_seed),
        ]
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]

    def describe(self) -> dict[str, Any]:
        """What the settings say, for diagnostics: never the token, only whether one is set and where from."""
        return {
            "provider": self.provider_kind,
            "channel": LOCAL_CHANNEL if self.local else self.channel,
            "instance": self.instance,
            "plan": self.plan.value if self.plan else None,
            "plan_switch": self.plan_switch,
            "token": "set" if self.token else "not set",
            "cloud_url": self.cloud_url,
            "runtime_url": self.runtime_url,
            "endpoint": self.endpoint,
            "deadline": self.deadline,
            "env_file": self.env_file_shown,
            "saved_account": self.saved_account,
            "origins": dict(self.origins),
            "notes": list(self.notes),
        }


def shown_path(path: Path | None) -> str | None:
    """``path`` with the home directory written as ``~``."""
    if path is None:
        return None
    try:
        return "~/" + str(path.resolve().relative_to(Path.home().resolve()))
    except (ValueError, OSError, RuntimeError):
        return str(path)


# --- finding and reading the .env --------------------------------------------------------------------------


def _unsafe_reason(path: Path) -> str | None:
    """Why a .env found by the search must not be trusted (None: it may be read)."""
    try:
        info, folder = path.stat(), path.parent.stat()
    except OSError:
        return None  # reading it reports the problem
    if folder.st_mode & stat.S_IWOTH:
        return "its folder is writable by every user"
    if info.st_mode & stat.S_IWOTH:
        return "it is writable by every user"
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return "it belongs to another user"
    return None


def _search_folders(start: Path, ceiling: Path) -> list[Path]:
    """``start`` and its parents up to ``ceiling``; only ``start`` when it is not inside ``ceiling``."""
    try:
        start.relative_to(ceiling)
    except ValueError:
        return [start]
    folders = [start]
    while folders[-1] != ceiling and folders[-1].parent != folders[-1]:
        folders.append(folders[-1].parent)
    return folders


def find_env_file(
    env_file: str | os.PathLike[str] | None, environ: Mapping[str, str]
) -> tuple[Path | None, tuple[str, ...]]:
    """The .env in use and notes about .env files skipped on the way (see the module docstring for the rule)."""
    if env_file is not None and str(env_file) != "":
        return Path(env_file).expanduser(), ()
    named = environ.get("QCONNECTOR_ENV_FILE")
    if named:
        return Path(named).expanduser(), ()
    root = environ.get(SERVER_ROOT_VARIABLE)
    start = Path(root).expanduser() if root else Path.cwd()
    try:
        start = start.resolve()
        ceiling = start if root else Path.home().resolve()
    except (OSError, RuntimeError):
        return None, ()
    notes: list[str] = []
    for folder in _search_folders(start, ceiling):
        candidate = folder / ".env"
        if not candidate.is_file():
            continue
        reason = _unsafe_reason(candidate)
        if reason is None:
            return candidate, tuple(notes)
        notes.append(
            f"{shown_path(candidate)} was not read: {reason}. Name it with --env / env_file= / "
            "QCONNECTOR_ENV_FILE if you trust it."
        )
    return None, tuple(notes)


def locate_env_file(env_file: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Path | None:
    """The .env in use (see :func:`find_env_file`)."""
    return find_env_file(env_file, environ)[0]


def _read_env_file(path: Path) -> dict[str, str | None]:
    """Read a .env file with python-dotenv; reject unreadable or malformed files with a one-line error."""
    where = shown_path(path) or str(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise ConfigError(
            where, "is a directory, not a .env file.", "Point --env/env_file at the file itself."
        ) from None
    except FileNotFoundError:
        raise ConfigError(
            where, "does not exist.", "Check the path, or leave it out to search for the .env (README, Configuration)."
        ) from None
    except OSError as exc:
        raise ConfigError(
            where, f"cannot be read ({exc.strerror}).", "Fix its permissions (chmod 600 is right for a .env)."
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(where, "is not UTF-8 text.", "Save it as plain UTF-8 text with KEY=value lines.") from None
    if "\x00" in text:
        raise ConfigError(where, "holds binary data.", "Save it as plain UTF-8 text with KEY=value lines.")
    values, bad_lines = _parse_dotenv(text)
    if bad_lines:
        # File, line and variable only: the line may hold the token (an unclosed quote swallows the rest).
        line = bad_lines[0]
        name = _variable_on_line(text, line)
        raise ConfigError(
            f"{where} line {line}" + (f" ({name})" if name else ""),
            "cannot be parsed.",
            'Write it as KEY="value"; quote values that hold spaces, # or quotes, and close every quote.',
        )
    return {key: value for key, value in values.items() if key}


class _BadLines(logging.Handler):
    """Collects the line numbers python-dotenv reports (on its public logger) as unparsable."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "could not parse statement" in str(record.msg) and record.args:
            arg = record.args[0] if isinstance(record.args, tuple) else None
            if isinstance(arg, int):
                self.lines.append(arg)


_dotenv_lock = threading.Lock()


def _parse_dotenv(text: str) -> tuple[dict[str, str | None], list[int]]:
    """``dotenv_values`` of ``text``, and the numbers of the lines it could not parse (its public warnings)."""
    logger = logging.getLogger("dotenv.main")
    collector = _BadLines()
    with _dotenv_lock:  # the logger is process-wide: one parse at a time sees only its own warnings
        propagate = logger.propagate
        logger.addHandler(collector)
        logger.propagate = False  # the warning quotes nothing secret, but it is ours to report, once
        try:
            values = dotenv_values(stream=io.StringIO(text), interpolate=True)
        finally:
            logger.removeHandler(collector)
            logger.propagate = propagate
    return dict(values), collector.lines


def _variable_on_line(text: str, line: int) -> str | None:
    """The variable name a malformed line starts with, if it has one (never any of its value)."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    match = _KEY.match(lines[line - 1])
    return match.group(1) if match else None


def _read_saved_account(path: Path) -> tuple[str | None, dict[str, str]]:
    """The default account in qiskit-ibm-runtime's saved-accounts file: (name, fields)."""
    if not path.is_file():
        return None, {}
    try:
        accounts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            str(path),
            f"is not a readable saved-accounts file ({type(exc).__name__}).",
            "Fix or delete it, or set IQP_API_TOKEN instead.",
        ) from None
    if not isinstance(accounts, dict) or not accounts:
        return None, {}
    from .accounts.store import ACCOUNT_NAME  # the signed-in account comes before every other saved account

    signed_in = ACCOUNT_NAME if isinstance(accounts.get(ACCOUNT_NAME), dict) else None
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
    fields = {
        "QISKIT_IBM_TOKEN": account.get("token"),
        "QISKIT_IBM_CHANNEL": account.get("channel"),
        "QISKIT_IBM_INSTANCE": account.get("instance"),
        "QISKIT_IBM_URL": account.get("url"),
    }
    return chosen, {k: str(v) for k, v in fields.items() if v}


# --- the sources, in precedence order ----------------------------------------------------------------------


class Found(NamedTuple):
    value: str
    name: str
    origin: str  # "argument", "environment", ".env ~/x/.env", "saved account NAME"


class _Sources:
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

    def add_saved_account(self, name: str | None, fields: Mapping[str, str]) -> None:
        if fields:
            self.saved_name = name
            self._layers.append((f"saved account {name}", fields))

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

    def is_set(self, *names: str) -> bool:
        return self.get(*names) is not None

    def secrets(self) -> list[str]:
        found = []
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


# --- one value each ----------------------------------------------------------------------------------------


def _check_placeholder(name: str, value: str) -> None:
    if _PLACEHOLDER.match(value):
        raise ConfigError(
            name,
            f"still holds the placeholder {value.strip()} from .env.example.",
            "Replace it with your own value, or delete the line.",
        )


def _switch_value(src: _Sources, name: str, value: str) -> bool:
    _check_placeholder(name, value)
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(name, f"is {src.quote(value)}, which is neither on nor off.", f'Set {name}="on" or {name}="off".')


def _positive_float(src: _Sources, name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            name, f"is {src.quote(value)}, not a number of seconds.", f"Set {name} to a positive number, e.g. 10."
        ) from None
    if not 0 < number < float("inf"):  # also refuses NaN
        raise ConfigError(
            name, f"is {src.quote(value)}; it must be a positive number of seconds.", f"Set {name} to e.g. 10."
        )
    return number


def _seconds(src: _Sources, argument: float | None, argument_name: str, variable: str, default: float) -> float:
    if argument is not None:
        return _positive_float(src, argument_name, argument)
    found = src.get(variable)
    return _positive_float(src, variable, found.value) if found else default


def _channel(src: _Sources, found: Found) -> str:
    _check_placeholder(found.name, found.value)
    channel = found.value.strip().lower()
    if channel in RETIRED_CHANNELS:
        raise ConfigError(
            found.name,
            f"is {src.quote(found.value.strip())}, a channel IBM retired.",
            f'Set {found.name}="{RETIRED_CHANNELS[channel]}" and use an IBM Quantum Platform API key.',
        )
    if channel not in (*CHANNELS, LOCAL_CHANNEL):
        raise ConfigError(
            found.name,
            f"is {src.quote(found.value.strip())}, not a known channel.",
            f'Set {found.name}="ibm_quantum_platform" (or "ibm_cloud", or "local" for the offline fleet).',
        )
    return channel


def allowed_hosts(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The hosts the user trusts besides IBM's: ``QCONNECTOR_ALLOW_HOSTS`` from the process environment."""
    return tuple(h.strip().lower() for h in (environ.get(ALLOW_HOSTS_VARIABLE) or "").split(",") if h.strip())


def _is_ibm_host(host: str) -> bool:
    return any(host == suffix or host.endswith("." + suffix) for suffix in IBM_HOSTS)


#: Characters no endpoint URL may hold anywhere: HTTP clients disagree on where a host ends around them.
_AMBIGUOUS = (
    ("\\", "a backslash"),
    ("@", "a user name or password (@)"),
)


def _ambiguity(value: str) -> str | None:
    """Why ``value`` cannot be trusted to name one host for every URL parser (None: it can)."""
    for char, what in _AMBIGUOUS:
        if char in value:
            return what
    if any(c.isspace() for c in value):
        return "whitespace"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "a control character"
    if not value.isascii():
        return "a character outside ASCII"
    if re.search(r"%(?:5c|40|2[05]|[01][0-9a-f]|7f)", value, re.IGNORECASE):
        return "a percent-escaped backslash, @, space or control character"
    return None


class _Endpoint(NamedTuple):
    scheme: str
    host: str  # lower case, without IPv6 brackets: what the allow-list and the IBM suffixes are compared with
    url: str  # rebuilt from the parsed parts: scheme://host[:port]/path, never the raw string


def _parse_endpoint(value: str) -> _Endpoint | str:
    """``value`` parsed by both urllib and urllib3, which must agree; or why it is refused."""
    reason = _ambiguity(value)
    if reason is not None:
        return reason
    try:
        split = urlsplit(value)
        split_port = split.port
        third = parse_url(value)
    except (ValueError, LocationParseError):
        return "a host or port that Python or the HTTP client cannot read"
    if split.scheme.lower() not in ("http", "https") or not split.hostname:
        return _Endpoint(split.scheme.lower(), "", "")  # not an http(s) URL: refused as such
    if "%" in split.netloc:
        return "a percent-escape in its host part"
    if split.query or split.fragment or "?" in value or "#" in value:
        return "a query or fragment (? or #)"
    host = (split.hostname or "").lower()
    other = (third.host or "").lower().removeprefix("[").removesuffix("]")
    if (
        split.username is not None
        or third.auth is not None
        or (split.scheme.lower(), host, split_port) != ((third.scheme or "").lower(), other, third.port)
        or (split.path or "") != (third.path or "")
    ):
        return "parts that Python and the HTTP client read differently"
    scheme = split.scheme.lower()
    shown_host = f"[{host}]" if ":" in host else host
    port = f":{split_port}" if split_port is not None else ""
    return _Endpoint(scheme, host, f"{scheme}://{shown_host}{port}{split.path}".rstrip("/"))


def check_endpoint(src: _Sources, found: Found, allow: tuple[str, ...]) -> str:
    """``found.value`` as a URL the API key may be sent to, or a one-line ConfigError naming the opt-in.

    The URL returned is rebuilt from its parsed parts, so the client sends to exactly the host checked here.
    """
    name, value = found.name, found.value
    _check_placeholder(name, value)
    value = value.strip()
    parsed = _parse_endpoint(value)
    if isinstance(parsed, str):  # never quoted: the value may hold the API key
        raise ConfigError(
            src.where(found),
            f"holds {parsed}, so its host is ambiguous; the API key was not sent anywhere.",
            f"Set {name}=https://host/path with nothing else, or delete the line to use IBM's default.",
        )
    host = parsed.host
    if parsed.scheme not in ("http", "https") or not host:
        raise ConfigError(
            src.where(found),
            f"is {src.quote(value)}, which is not an http(s) URL.",
            f"Set {name}=https://host/..., or delete the line to use IBM's default.",
        )
    if host in allow:
        return parsed.url
    if parsed.scheme == "https" and _is_ibm_host(host):
        return parsed.url
    shown = src.quote(host)
    problem = (
        f"points at {shown} over http, not https"
        if _is_ibm_host(host)
        else f"points at {shown}, which is not an IBM Quantum or IBM Cloud host"
    )
    opt_in = (
        f" or, if you trust that host, allow it in the process environment (a .env cannot): "
        f"{ALLOW_HOSTS_VARIABLE}={host}"
        if shown.startswith("'")
        else ""
    )
    raise ConfigError(
        src.where(found),
        problem + "; the API key was not sent anywhere.",
        f"Delete the line to use IBM's endpoint{opt_in}.",
    )


# --- the plan, the instance, the endpoints -----------------------------------------------------------------


def _plan_from_switches(src: _Sources) -> tuple[Plan | None, str | None, bool]:
    """(plan, switch, any_switch_set). Raises if two are on."""
    on: list[str] = []
    any_set = False
    for name in PLAN_SWITCHES:
        found = src.get(name)
        if found is None:
            continue
        any_set = True
        if _switch_value(src, name, found.value):
            on.append(name)
    if len(on) > 1:
        raise ConfigError(
            ", ".join(on),
            "are on; only one plan can be on at a time.",
            f'Keep the one your instance is on, e.g. {on[0]}="on", and set the others to "off".',
        )
    if on:
        return PLAN_SWITCHES[on[0]], on[0], True
    return None, None, any_set


def _plan(src: _Sources, plan: str | Plan | None, origins: dict[str, str]) -> tuple[Plan | None, str | None, bool]:
    """(plan, switch, any_switch): an explicit argument beats the switches."""
    if plan is None:
        chosen, switch, any_switch = _plan_from_switches(src)
        found = src.get(switch) if switch else None
        if found:
            origins["plan"] = found.origin
        return chosen, switch, any_switch
    try:
        chosen = plan if isinstance(plan, Plan) else parse_plan(plan)
    except ValueError:
        raise ConfigError(
            "plan", f"is {src.quote(plan)}, not a plan.", "Use one of: open, paygo, flex, premium, dedicated."
        ) from None
    origins["plan"] = "argument"
    return chosen, None, True


def _plan_names(src: _Sources, chosen: Plan | None) -> dict[Plan, str]:
    names = {}
    for p, (var, default) in PLAN_NAME_VARIABLES.items():
        found = src.get(var)
        if found is not None and p is chosen:
            _check_placeholder(var, found.value)
        names[p] = found.value.strip() if found and found.value else default
    return names


def _plan_variables(plan: Plan | None, suffix: str) -> tuple[str, ...]:
    """The channel/instance variables for a plan, most specific first, then the runtime's own."""
    if plan is None:
        names: tuple[str, ...] = ()
    elif plan is Plan.OPEN:
        names = (f"OPEN_PLAN_{suffix}",)
    else:
        switch = next(var for var, p in PLAN_SWITCHES.items() if p is plan)
        names = (f"PAID_PLAN_{suffix}", f"{switch}_{suffix}")
    return (*names, f"QISKIT_IBM_{suffix}")


def _token(src: _Sources, origins: dict[str, str]) -> tuple[Secret, Found]:
    found = src.get(*TOKEN_VARIABLES)
    if found is None:
        raise ConfigError(
            "IQP_API_TOKEN",
            "is not set, so IBM Quantum cannot be reached.",
            "Put your IBM Quantum API key in .env as IQP_API_TOKEN=..., or use the offline local fleet "
            "(%qconnect --local, connect(local=True)).",
        )
    if _PLACEHOLDER.match(found.value):  # the template's own text, not a secret: safe to name
        raise ConfigError(
            found.name,
            f"still holds the placeholder {found.value.strip()} from .env.example.",
            "Replace it with your own value, or delete the line.",
        )
    clean = found.value.strip()
    if not clean:
        raise ConfigError(found.name, "is empty.", "Paste your IBM Quantum API key after the = sign.")
    if any(ch.isspace() for ch in clean) or not clean.isprintable():
        raise ConfigError(
            found.name,
            "contains spaces or control characters, so it cannot be an API key.",
            "Paste the key again, as one unbroken string in quotes.",
        )
    origins["token"] = found.origin
    return Secret(clean), found


def _instance(src: _Sources, chosen: Plan | None, origins: dict[str, str]) -> str | None:
    variables = _plan_variables(chosen, "INSTANCE")
    found = src.get(*variables)
    value = None
    if found is not None:
        _check_placeholder(found.name, found.value)
        value = found.value.strip() or None
        origins["instance"] = found.origin
    if value is None and chosen is not None:
        raise ConfigError(
            variables[0],
            "is not set, so the connector does not know which instance to use.",
            f"Set {variables[0]} to your instance's name or CRN (IBM Quantum Platform → Instances).",
        )
    return value


def _endpoints(src: _Sources, origins: dict[str, str]) -> tuple[str | None, str | None]:
    """(cloud_url, runtime_url), each checked against the allowed hosts; the client's own host variables too."""
    allow = allowed_hosts(src.environ)
    for name in CLIENT_HOST_VARIABLES:  # the client reads these from the process environment itself
        value = os.environ.get(name)
        if value:
            check_endpoint(src, Found(value, name, "environment"), allowed_hosts(os.environ))
    cloud = src.get("CLOUD_API_URL")
    cloud_url = check_endpoint(src, cloud, allow) if cloud else None
    if cloud:
        origins["cloud_url"] = cloud.origin
    runtime = src.get("IQP_RUNTIME_API_URL", "QUANTUM_API_URL", "IQP_API_URL", "QISKIT_IBM_URL")
    if runtime is None:
        return cloud_url, None
    runtime_url: str | None = check_endpoint(src, runtime, allow)
    assert runtime_url is not None
    if runtime.name in ("QUANTUM_API_URL", "IQP_API_URL") and not runtime_url.split("/")[-1].startswith("v"):
        runtime_url += "/api/v1"  # a platform base URL: its runtime API lives under /api/v1
    if runtime.name == "QISKIT_IBM_URL" and "/api/" not in runtime_url:
        # The runtime's own variable is a cloud base URL unless it names an API path.
        cloud_url, runtime_url = cloud_url or runtime_url, None
    origins["url"] = runtime.origin
    return cloud_url, runtime_url


def _placeholders_in_use(src: _Sources, *variable_groups: tuple[str, ...]) -> None:
    """The .env.example placeholders are reported all at once, when more than one is left in."""
    in_use = [found.name for names in variable_groups if (found := src.get(*names)) is not None]
    placeholders = [n for n in dict.fromkeys(in_use) if _PLACEHOLDER.match((src.get(n) or Found("", n, "")).value)]
    if len(placeholders) > 1:
        raise ConfigError(
            ", ".join(placeholders),
            "still hold the placeholders from .env.example.",
            "Replace each with your own value (the URL lines are optional: leave them out for IBM's defaults).",
        )


def _fleet(src: _Sources) -> tuple[tuple[str, ...] | None, int | None, Path | None]:
    members = src.get("QCONNECTOR_FLEET")
    fleet = tuple(m.strip().removeprefix("fake_") for m in members.value.split(",") if m.strip()) if members else None
    seed_found = src.get("QCONNECTOR_FLEET_SEED")
    seed = None
    if seed_found is not None:
        try:
            seed = int(seed_found.value.strip())
        except ValueError:
            raise ConfigError(
                src.where(seed_found), f"is {src.quote(seed_found.value)}, not an integer.", "Set it to e.g. 7."
            ) from None
    file_found = src.get("QCONNECTOR_FLEET_FILE")
    fleet_file = Path(file_found.value.strip()).expanduser() if file_found and file_found.value.strip() else None
    return fleet or None, seed, fleet_file


# --- putting it together -----------------------------------------------------------------------------------


def _tolerant(notes: list[str], what: str, read: Callable[[], Any], fallback: Any) -> Any:
    """``read()``, or, for the local fleet (which needs no IBM setting), ``fallback`` and a one-line note."""
    try:
        return read()
    except ConfigError as error:
        notes.append(f"{error.variable}: {error.problem} Ignored for the local fleet ({what}).")
        return fallback


def _sources(
    env_file: Any,
    *,
    token: str | None,
    channel: str | None,
    instance: str | None,
    environ: Mapping[str, str],
    local: bool,
    notes: list[str],
) -> _Sources:
    path, search_notes = find_env_file(env_file, environ)
    notes.extend(search_notes)
    dotenv: Mapping[str, str | None] = {}
    if path is not None:
        if local:
            unread, found = object(), path
            read = _tolerant(notes, "the .env was not used", lambda: _read_env_file(found), unread)
            dotenv, path = ({}, None) if read is unread else (read, path)  # an unread .env is never "read from"
        else:
            dotenv = _read_env_file(path)
    if dotenv.get(ALLOW_HOSTS_VARIABLE):
        notes.append(
            f"{ALLOW_HOSTS_VARIABLE} in {shown_path(path)} is ignored: only the process environment can allow a host."
        )
    arguments = {
        k: v
        for k, v in (("IQP_API_TOKEN", token), ("QISKIT_IBM_CHANNEL", channel), ("QISKIT_IBM_INSTANCE", instance))
        if v is not None
    }
    return _Sources(arguments, environ, dotenv, path)


def load_settings(
    env_file: str | os.PathLike[str] | None = None,
    *,
    token: str | None = None,
    channel: str | None = None,
    instance: str | None = None,
    plan: str | Plan | None = None,
    local: bool | None = None,
    deadline: float | None = None,
    listing_ttl: float | None = None,
    environ: Mapping[str, str] | None = None,
    saved_accounts_file: str | os.PathLike[str] | None = None,
) -> Settings:
    """Resolve the settings from arguments, the environment, ``.env`` and a saved account, and validate them.

    Raises :class:`ConfigError` (one line, naming the variable and the fix) for anything unusable. With
    ``local=True`` nothing about IBM can fail: a problem is a note, and the local fleet is used.
    """
    environ = os.environ if environ is None else environ
    notes: list[str] = []
    src = _sources(
        env_file, token=token, channel=channel, instance=instance, environ=environ, local=bool(local), notes=notes
    )
    if not local and not src.is_set(*TOKEN_VARIABLES):
        saved_path = Path(saved_accounts_file) if saved_accounts_file else Path.home() / ".qiskit" / "qiskit-ibm.json"
        src.add_saved_account(*_read_saved_account(saved_path))
    origins: dict[str, str] = {}
    if local:  # explicit arguments still fail loudly; the rest is only noted
        deadline_s = (
            _seconds(src, deadline, "deadline", "", DEFAULT_DEADLINE)
            if deadline is not None
            else _tolerant(
                notes,
                "default 10 s",
                lambda: _seconds(src, None, "", "QCONNECTOR_DEADLINE", DEFAULT_DEADLINE),
                DEFAULT_DEADLINE,
            )
        )
        ttl = (
            _seconds(src, listing_ttl, "listing_ttl", "", DEFAULT_LISTING_TTL)
            if listing_ttl is not None
            else _tolerant(
                notes,
                "default 10 s",
                lambda: _seconds(src, None, "", "QCONNECTOR_LISTING_TTL", DEFAULT_LISTING_TTL),
                DEFAULT_LISTING_TTL,
            )
        )
        chosen, switch, _ = (
            _plan(src, plan, origins)
            if plan is not None
            else _tolerant(notes, "the open plan is used", lambda: _plan(src, None, origins), (None, None, False))
        )
        fleet, seed, fleet_file = _fleet(src)
        origins["provider"] = "argument"
        return Settings(
            local=True,
            plan=chosen or Plan.OPEN,
            plan_switch=switch,
            plan_names=_plan_names(src, None),
            deadline=deadline_s,
            listing_ttl=ttl,
            env_file=src.env_path,
            origins=origins,
            notes=tuple(notes),
            fleet=fleet,
            fleet_seed=seed,
            fleet_file=fleet_file,
        )
    deadline_s = _seconds(src, deadline, "deadline", "QCONNECTOR_DEADLINE", DEFAULT_DEADLINE)
    ttl = _seconds(src, listing_ttl, "listing_ttl", "QCONNECTOR_LISTING_TTL", DEFAULT_LISTING_TTL)
    fleet, seed, fleet_file = _fleet(src)
    chosen, switch, any_switch = _plan(src, plan, origins)
    plan_names = _plan_names(src, chosen)
    channel_vars, instance_vars = _plan_variables(chosen, "CHANNEL"), _plan_variables(chosen, "INSTANCE")
    channel_found = src.get(*channel_vars)
    token_found = src.get(*TOKEN_VARIABLES)

    # Local fleet: asked for by the channel, or nothing at all points at IBM.
    wants_local = channel_found is not None and channel_found.value.strip().lower() == LOCAL_CHANNEL
    if wants_local or not (token_found or any_switch or channel_found or src.is_set(*instance_vars)):
        origins["provider"] = "channel" if wants_local else "no credentials found"
        return Settings(
            local=True,
            plan=chosen or Plan.OPEN,
            plan_switch=switch,
            plan_names=plan_names,
            deadline=deadline_s,
            listing_ttl=ttl,
            env_file=src.env_path,
            origins=origins,
            notes=tuple(notes),
            fleet=fleet,
            fleet_seed=seed,
            fleet_file=fleet_file,
        )

    _placeholders_in_use(src, TOKEN_VARIABLES, channel_vars, instance_vars, *((n,) for n in ENDPOINT_VARIABLES))
    secret, token_found = _token(src, origins)
    if (token_found.name == "IQP_API_TOKEN" or any_switch) and chosen is None:
        raise ConfigError(
            "OPEN_PLAN",
            "no plan switch is on (OPEN_PLAN, PAYGO_PLAN, FLEX_PLAN, PREMIUM_PLAN, DEDICATED_PLAN).",
            'Set the one your instance is on, e.g. OPEN_PLAN="on".',
        )
    channel_value = _channel(src, channel_found) if channel_found else DEFAULT_CHANNEL
    origins["channel"] = channel_found.origin if channel_found else "default"
    instance_value = _instance(src, chosen, origins)
    cloud_url, runtime_url = _endpoints(src, origins)
    return Settings(
        local=False,
        token=secret,
        channel=channel_value,
        instance=instance_value,
        plan=chosen,
        plan_switch=switch,
        plan_names=plan_names,
        cloud_url=cloud_url,
        runtime_url=runtime_url,
        deadline=deadline_s,
        listing_ttl=ttl,
        env_file=src.env_path,
        saved_account=src.saved_name if token_found.origin.startswith("saved account") else None,
        origins=origins,
        notes=tuple(notes),
        fleet=fleet,
        fleet_seed=seed,
        fleet_file=fleet_file,
    )
