"""Configuration: read the original Qiskit Connector's variables (and qiskit-ibm-runtime's own), validate them.

Precedence, highest first (one rule for every variable):

1. explicit arguments (``connect(instance=...)``, ``%qconnect --instance ...``);
2. the process environment (``os.environ``);
3. the ``.env`` file: the path given (``env_file=`` / ``--env``), else ``QCONNECTOR_ENV_FILE``, else the first
   ``.env`` found from the current working directory upward (python-dotenv's ``find_dotenv(usecwd=True)``);
4. a saved qiskit-ibm-runtime account (``~/.qiskit/qiskit-ibm.json``), used only when no token is set above.

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
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlparse

from dotenv import dotenv_values, find_dotenv

from .errors import ConfigError
from .plans import PLAN_NAME_VARIABLES, PLAN_SWITCHES, Plan, parse_plan
from .secret import Secret

CHANNELS = ("ibm_quantum_platform", "ibm_cloud")
LOCAL_CHANNEL = "local"
RETIRED_CHANNELS = {"ibm_quantum": "ibm_quantum_platform"}
DEFAULT_CHANNEL = "ibm_quantum_platform"
DEFAULT_DEADLINE = 10.0
DEFAULT_LISTING_TTL = 10.0

_PLACEHOLDER = re.compile(r"^\s*<[^<>]*>\s*$")
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0", ""}

#: Every variable this module reads, for documentation and for the ``QConnect`` help.
TOKEN_VARIABLES = ("IQP_API_TOKEN", "QISKIT_IBM_TOKEN")


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

    @property
    def provider_kind(self) -> str:
        return "local" if self.local else "ibm"

    def fingerprint(self) -> str:
        """A stable key for caching a provider built from these settings (hashes the token)."""
        parts = [
            self.provider_kind,
            self.token.reveal() if self.token else "",
            self.channel,
            self.instance or "",
            self.cloud_url or "",
            self.runtime_url or "",
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
            "deadline": self.deadline,
            "env_file": str(self.env_file) if self.env_file else None,
            "saved_account": self.saved_account,
            "origins": dict(self.origins),
        }


class _Layers:
    """The configuration sources in precedence order, looked up by variable name."""

    def __init__(self, layers: list[tuple[str, Mapping[str, str | None]]]) -> None:
        self._layers = layers

    def get(self, *names: str) -> tuple[str | None, str | None, str | None]:
        """First value among ``names``, by layer precedence then name order: (value, name, origin)."""
        for origin, values in self._layers:
            for name in names:
                value = values.get(name)
                if value is not None:
                    return value, name, origin
        return None, None, None

    def is_set(self, *names: str) -> bool:
        return self.get(*names)[0] is not None


def _read_env_file(path: Path) -> dict[str, str | None]:
    """Read a .env file with python-dotenv; reject unreadable or malformed files with a one-line error."""
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise ConfigError(str(path), "is a directory, not a .env file.", "Point --env/env_file at the file itself.") from None
    except FileNotFoundError:
        raise ConfigError(str(path), "does not exist.", "Check the path, or leave it out to look for .env upward from the working directory.") from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be read ({exc.strerror}).", "Fix its permissions (chmod 600 is right for a .env).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(str(path), "is not UTF-8 text.", "Save it as plain UTF-8 text with KEY=value lines.") from None
    if "\x00" in text:
        raise ConfigError(str(path), "holds binary data.", "Save it as plain UTF-8 text with KEY=value lines.")
    values, bad_lines = _parse_dotenv(text)
    if bad_lines:
        line = bad_lines[0]
        name = _variable_on_line(text, line)
        raise ConfigError(
            f"{path.name} line {line}" + (f" ({name})" if name else ""),
            "cannot be parsed.",  # never the line itself: it may hold the token
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
    match = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=", lines[line - 1])
    return match.group(1) if match else None


def locate_env_file(env_file: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Path | None:
    """The .env in use: the one given, else QCONNECTOR_ENV_FILE, else the nearest .env upward from the cwd."""
    if env_file is not None:
        return Path(env_file).expanduser()
    named = environ.get("QCONNECTOR_ENV_FILE")
    if named:
        return Path(named).expanduser()
    found = find_dotenv(".env", usecwd=True)
    return Path(found) if found else None


def _read_saved_account(path: Path) -> tuple[str | None, dict[str, str]]:
    """The default account in qiskit-ibm-runtime's saved-accounts file: (name, fields)."""
    if not path.is_file():
        return None, {}
    try:
        accounts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), f"is not a readable saved-accounts file ({type(exc).__name__}).",
                          "Fix or delete it, or set IQP_API_TOKEN instead.") from None
    if not isinstance(accounts, dict) or not accounts:
        return None, {}
    chosen = next((n for n, a in accounts.items() if isinstance(a, dict) and a.get("is_default_account")), None)
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


def _check_placeholder(name: str, value: str) -> None:
    if _PLACEHOLDER.match(value):
        raise ConfigError(name, f"still holds the README template's placeholder {value.strip()}.",
                          "Replace it with your own value, or delete the line.")


def _switch_value(name: str, value: str) -> bool:
    _check_placeholder(name, value)
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(name, f"is {value!r}, which is neither on nor off.", f'Set {name}="on" or {name}="off".')


def _check_url(name: str, value: str) -> str:
    _check_placeholder(name, value)
    value = value.strip()
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(name, f"is {value!r}, which is not an http(s) URL.",
                          f"Set {name}=https://host/..., or delete the line to use IBM's default.")
    return value.rstrip("/")


def _positive_float(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(name, f"is {value!r}, not a number of seconds.", f"Set {name} to a positive number, e.g. 10.") from None
    if not number > 0 or number != number or number == float("inf"):
        raise ConfigError(name, f"is {value!r}; it must be a positive number of seconds.", f"Set {name} to e.g. 10.")
    return number


def _channel(value: str, name: str) -> str:
    _check_placeholder(name, value)
    channel = value.strip().lower()
    if channel in RETIRED_CHANNELS:
        raise ConfigError(name, f"is {value.strip()!r}, a channel IBM retired.",
                          f'Set {name}="{RETIRED_CHANNELS[channel]}" and use an IBM Quantum Platform API key.')
    if channel not in CHANNELS + (LOCAL_CHANNEL,):
        raise ConfigError(name, f"is {value.strip()!r}, not a known channel.",
                          f'Set {name}="ibm_quantum_platform" (or "ibm_cloud", or "local" for the offline fleet).')
    return channel


def _plan_from_switches(layers: _Layers) -> tuple[Plan | None, str | None, bool]:
    """(plan, switch, any_switch_set). Raises if two are on, or if switches are set and none is on."""
    on: list[str] = []
    any_set = False
    for name in PLAN_SWITCHES:
        value, _, _ = layers.get(name)
        if value is None:
            continue
        any_set = True
        if _switch_value(name, value):
            on.append(name)
    if len(on) > 1:
        raise ConfigError(", ".join(on), "are on; only one plan can be on at a time.",
                          f'Keep the one your instance is on, e.g. {on[0]}="on", and set the others to "off".')
    if on:
        return PLAN_SWITCHES[on[0]], on[0], True
    return None, None, any_set


def _plan_variables(plan: Plan | None, suffix: str) -> tuple[str, ...]:
    """The channel/instance variables for a plan, most specific first, then the runtime's own."""
    if plan is None:
        names: tuple[str, ...] = ()
    elif plan is Plan.OPEN:
        names = (f"OPEN_PLAN_{suffix}",)
    else:
        switch = next(var for var, p in PLAN_SWITCHES.items() if p is plan)
        names = (f"PAID_PLAN_{suffix}", f"{switch}_{suffix}")
    return names + (f"QISKIT_IBM_{suffix}",)


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

    Raises :class:`ConfigError` (one line, naming the variable and the fix) for anything unusable.
    """
    environ = os.environ if environ is None else environ
    path = locate_env_file(env_file, environ)
    dotenv = _read_env_file(path) if path is not None else {}

    arguments: dict[str, str] = {}
    if token is not None:
        arguments["IQP_API_TOKEN"] = token
    if channel is not None:
        arguments["QISKIT_IBM_CHANNEL"] = channel
    if instance is not None:
        arguments["QISKIT_IBM_INSTANCE"] = instance

    base = _Layers([("argument", arguments), ("environment", environ), (f".env {path}", dotenv)])
    token_value, token_name, token_origin = base.get(*TOKEN_VARIABLES)

    saved_name, saved = None, {}
    if token_value is None and not local:
        saved_path = Path(saved_accounts_file) if saved_accounts_file else Path.home() / ".qiskit" / "qiskit-ibm.json"
        saved_name, saved = _read_saved_account(saved_path)
    layers = _Layers([("argument", arguments), ("environment", environ), (f".env {path}", dotenv),
                      (f"saved account {saved_name}", saved)])
    if token_value is None and saved:
        token_value, token_name, token_origin = layers.get(*TOKEN_VARIABLES)

    origins: dict[str, str] = {}

    deadline_value = deadline if deadline is not None else layers.get("QCONNECTOR_DEADLINE")[0]
    deadline_seconds = _positive_float("deadline" if deadline is not None else "QCONNECTOR_DEADLINE",
                                       deadline_value) if deadline_value is not None else DEFAULT_DEADLINE
    ttl_value = listing_ttl if listing_ttl is not None else layers.get("QCONNECTOR_LISTING_TTL")[0]
    ttl = _positive_float("listing_ttl" if listing_ttl is not None else "QCONNECTOR_LISTING_TTL",
                          ttl_value) if ttl_value is not None else DEFAULT_LISTING_TTL

    # The plan: an explicit argument beats the switches.
    if plan is not None:
        try:
            chosen_plan: Plan | None = plan if isinstance(plan, Plan) else parse_plan(plan)
        except ValueError:
            raise ConfigError("plan", f"is {plan!r}, not a plan.",
                              "Use one of: open, paygo, flex, premium, dedicated.") from None
        switch, any_switch = None, True
        origins["plan"] = "argument"
    else:
        chosen_plan, switch, any_switch = _plan_from_switches(layers)
        if switch:
            origins["plan"] = layers.get(switch)[2] or ""

    plan_names = {}
    for p, (var, default) in PLAN_NAME_VARIABLES.items():
        value = layers.get(var)[0]
        if value is not None and p is chosen_plan:
            _check_placeholder(var, value)
        plan_names[p] = value.strip() if value else default

    channel_vars = _plan_variables(chosen_plan, "CHANNEL")
    channel_value, channel_name, channel_origin = layers.get(*channel_vars)
    wants_local = bool(local) or (channel_value is not None and channel_value.strip().lower() == LOCAL_CHANNEL)

    # Local fleet: asked for, or nothing at all points at IBM.
    seed_style = token_name == "IQP_API_TOKEN" or any_switch
    instance_vars = _plan_variables(chosen_plan, "INSTANCE")
    points_at_ibm = token_value is not None or any_switch or layers.is_set(*channel_vars) or layers.is_set(*instance_vars)
    if wants_local or not points_at_ibm:
        origins["provider"] = "argument" if local else ("channel" if wants_local else "no credentials found")
        return Settings(local=True, plan=chosen_plan or Plan.OPEN, plan_switch=switch, plan_names=plan_names,
                        deadline=deadline_seconds, listing_ttl=ttl, env_file=path, origins=origins)

    # IBM: token, plan, channel, instance, URLs. The template's placeholders are reported all at once.
    in_use = [token_name, layers.get(*channel_vars)[1], layers.get(*instance_vars)[1],
              *(name for name in ("CLOUD_API_URL", "IQP_RUNTIME_API_URL", "QUANTUM_API_URL", "IQP_API_URL")
                if layers.is_set(name))]
    placeholders = [name for name in dict.fromkeys(in_use) if name and _PLACEHOLDER.match(layers.get(name)[0] or "")]
    if len(placeholders) > 1:
        raise ConfigError(", ".join(placeholders), "still hold the README template's placeholders.",
                          "Replace each with your own value; delete the optional URL lines to use IBM's defaults.")
    if token_value is None:
        raise ConfigError("IQP_API_TOKEN", "is not set, so IBM Quantum cannot be reached.",
                          "Put your IBM Quantum API key in .env as IQP_API_TOKEN=..., or use the offline local fleet (%qconnect --local, connect(local=True)).")
    assert token_name is not None
    _check_placeholder(token_name, token_value)
    token_clean = token_value.strip()
    if not token_clean:
        raise ConfigError(token_name, "is empty.", "Paste your IBM Quantum API key after the = sign.")
    if any(ch.isspace() for ch in token_clean) or not token_clean.isprintable():
        raise ConfigError(token_name, "contains spaces or control characters, so it cannot be an API key.",
                          "Paste the key again, as one unbroken string in quotes.")
    origins["token"] = token_origin or ""

    if seed_style and chosen_plan is None:
        raise ConfigError("OPEN_PLAN", "no plan switch is on (OPEN_PLAN, PAYGO_PLAN, FLEX_PLAN, PREMIUM_PLAN, DEDICATED_PLAN).",
                          'Set the one your instance is on, e.g. OPEN_PLAN="on".')

    if channel_value is None:
        channel_clean = DEFAULT_CHANNEL
        origins["channel"] = "default"
    else:
        assert channel_name is not None
        channel_clean = _channel(channel_value, channel_name)
        origins["channel"] = channel_origin or ""

    instance_value, instance_name, instance_origin = layers.get(*instance_vars)
    if instance_value is not None:
        assert instance_name is not None
        _check_placeholder(instance_name, instance_value)
        instance_value = instance_value.strip() or None
        origins["instance"] = instance_origin or ""
    if instance_value is None and chosen_plan is not None:
        wanted = instance_vars[0]
        raise ConfigError(wanted, "is not set, so the connector does not know which instance to use.",
                          f"Set {wanted} to your instance's name or CRN (IBM Quantum Platform → Instances).")

    cloud_value, cloud_name, cloud_origin = layers.get("CLOUD_API_URL")
    cloud_url = _check_url(cloud_name, cloud_value) if cloud_value is not None and cloud_name else None
    runtime_value, runtime_name, runtime_origin = layers.get("IQP_RUNTIME_API_URL", "QUANTUM_API_URL", "IQP_API_URL", "QISKIT_IBM_URL")
    runtime_url = None
    if runtime_value is not None and runtime_name:
        runtime_url = _check_url(runtime_name, runtime_value)
        if runtime_name in ("QUANTUM_API_URL", "IQP_API_URL") and not runtime_url.rstrip("/").split("/")[-1].startswith("v"):
            runtime_url = runtime_url + "/api/v1"  # a platform base URL: its runtime API lives under /api/v1
        if runtime_name == "QISKIT_IBM_URL" and "/api/" not in runtime_url:
            # The runtime's own variable is a cloud base URL unless it names an API path.
            cloud_url, runtime_url = cloud_url or runtime_url, None
        origins["url"] = runtime_origin or ""
    if cloud_origin:
        origins["cloud_url"] = cloud_origin

    return Settings(
        local=False,
        token=Secret(token_clean),
        channel=channel_clean,
        instance=instance_value,
        plan=chosen_plan,
        plan_switch=switch,
        plan_names=plan_names,
        cloud_url=cloud_url,
        runtime_url=runtime_url,
        deadline=deadline_seconds,
        listing_ttl=ttl,
        env_file=path,
        saved_account=saved_name if token_origin and token_origin.startswith("saved account") else None,
        origins=origins,
    )
