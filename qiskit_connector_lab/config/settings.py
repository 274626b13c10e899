"""The settings: every source resolved by one precedence rule, validated, in one :class:`Settings`.

Precedence, highest first (one rule for every variable): explicit arguments (``connect(instance=...)``,
``%qconnect --instance ...``), the process environment, the ``.env`` (never for the variables marked *process
only*), a saved qiskit-ibm-runtime account (used only when no token is set above; then its channel, instance and
endpoints go with its key, as one unit, and another layer's endpoint is still checked but not used). With no
credentials anywhere, the settings select the embedded **local fleet**; with ``local=True`` nothing about IBM can
fail: a problem is a note.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ConfigError
from ..plans import Plan
from ..secret import Secret
from ..variables import ENDPOINT_VARIABLES, PROCESS_ONLY, variable
from . import values
from .dotenv_file import find_env_file, read_env_file, shown_path
from .endpoints import ALLOW_HOSTS_VARIABLE, endpoints
from .saved_account import accounts_file, read_saved_account
from .sources import Sources

DEFAULT_DEADLINE = float(variable("QCONNECTOR_DEADLINE").default or 10)
DEFAULT_LISTING_TTL = float(variable("QCONNECTOR_LISTING_TTL").default or 10)

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Validated configuration. Safe to print: the token is a :class:`Secret`."""

    local: bool
    token: Secret | None = None
    channel: str = values.DEFAULT_CHANNEL
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
    #: One-line notes about the configuration itself (a skipped .env, a .env ignored for the local fleet, ...),
    #: shown by the connection summary and %qplan.
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
            "channel": values.LOCAL_CHANNEL if self.local else self.channel,
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


def _lenient(notes: list[str], lenient: bool, what: str, read: Callable[[], T], fallback: T) -> T:
    """``read()``; when ``lenient`` (the local fleet, which needs no IBM setting), a ConfigError becomes
    ``fallback`` and a one-line note."""
    if not lenient:
        return read()
    try:
        return read()
    except ConfigError as error:
        notes.append(f"{error.variable}: {error.problem} Ignored for the local fleet ({what}).")
        return fallback


def _ignored_in_dotenv(dotenv: Mapping[str, str | None], path: Path | None) -> list[str]:
    """A note for each process-only variable a .env sets: it is ignored, and the user should know."""
    where = shown_path(path)
    notes = []
    for name in PROCESS_ONLY:
        if dotenv.get(name) is None:
            continue
        why = (
            "only the process environment can allow a host"
            if name == ALLOW_HOSTS_VARIABLE
            else "it is read from the process environment only (set it before starting Jupyter)"
        )
        notes.append(f"{name} in {where} is ignored: {why}.")
    return notes


def _sources(
    env_file: Any, arguments: Mapping[str, str | None], environ: Mapping[str, str], local: bool, notes: list[str]
) -> Sources:
    path, search_notes = find_env_file(env_file, environ)
    notes.extend(search_notes)
    dotenv: Mapping[str, str | None] = {}
    if path is not None:
        found = path
        read = _lenient(notes, local, "the .env was not used", lambda: read_env_file(found, environ), None)
        dotenv, path = ({}, None) if read is None else (read, path)  # an unread .env is never "read from"
    notes.extend(_ignored_in_dotenv(dotenv, path))
    return Sources({k: v for k, v in arguments.items() if v is not None}, environ, dotenv, path)


def _ibm(src: Sources, chosen: Plan | None, any_switch: bool, origins: dict[str, str]) -> dict[str, Any]:
    """The fields only an IBM connection has: the token, channel, instance, endpoints and saved account."""
    channel_vars = values.plan_variables(chosen, "CHANNEL")
    instance_vars = values.plan_variables(chosen, "INSTANCE")
    values.placeholders_in_use(
        src, values.TOKEN_VARIABLES, channel_vars, instance_vars, *((n,) for n in ENDPOINT_VARIABLES)
    )
    secret, token_found = values.token(src, origins)
    if (token_found.name == "IQP_API_TOKEN" or any_switch) and chosen is None:
        raise ConfigError(
            "OPEN_PLAN",
            "no plan switch is on (OPEN_PLAN, PAYGO_PLAN, FLEX_PLAN, PREMIUM_PLAN, DEDICATED_PLAN).",
            'Set the one your instance is on, e.g. OPEN_PLAN="on".',
        )
    saved = src.saved_name if token_found.origin.startswith("saved account") else None
    # A saved account's key goes with that account's channel, instance and URL (one unit): no other layer's.
    unit = src.account_unit() if saved is not None else src
    channel_found = unit.get(*channel_vars)
    channel = values.channel(unit, channel_found) if channel_found else values.DEFAULT_CHANNEL
    origins["channel"] = channel_found.origin if channel_found else "default"
    instance = values.instance(unit, chosen, origins)
    if unit is not src:  # another layer's endpoint is not used with this key, but a planted one is still refused
        endpoints(src, {})
    cloud_url, runtime_url = endpoints(unit, origins)
    return {
        "token": secret,
        "channel": channel,
        "instance": instance,
        "cloud_url": cloud_url,
        "runtime_url": runtime_url,
        "saved_account": saved,
    }


def _wants_local(src: Sources, chosen: Plan | None, any_switch: bool, origins: dict[str, str]) -> bool:
    """The channel asks for the local fleet, or nothing at all points at IBM."""
    channel_found = src.get(*values.plan_variables(chosen, "CHANNEL"))
    by_channel = channel_found is not None and channel_found.value.strip().lower() == values.LOCAL_CHANNEL
    if by_channel or not (
        src.is_set(*values.TOKEN_VARIABLES)
        or any_switch
        or channel_found
        or src.is_set(*values.plan_variables(chosen, "INSTANCE"))
    ):
        origins["provider"] = "channel" if by_channel else "no credentials found"
        return True
    return False


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
    ``local=True`` nothing about IBM can fail: a problem is a note, and the local fleet is used; explicit
    arguments still fail loudly.
    """
    environ = os.environ if environ is None else environ
    asked_local = bool(local)
    notes: list[str] = []
    arguments = {"IQP_API_TOKEN": token, "QISKIT_IBM_CHANNEL": channel, "QISKIT_IBM_INSTANCE": instance}
    src = _sources(env_file, arguments, environ, asked_local, notes)
    if not asked_local and not src.is_set(*values.TOKEN_VARIABLES):
        src.add_saved_account(*read_saved_account(accounts_file(saved_accounts_file)))
    origins: dict[str, str] = {}
    deadline_s, ttl = (
        _lenient(
            notes,
            asked_local and given is None,
            f"default {default:g} s",
            functools.partial(values.seconds, src, given, name, var, default, most),
            default,
        )
        for given, name, var, default, most in (
            (deadline, "deadline", "QCONNECTOR_DEADLINE", DEFAULT_DEADLINE, values.MAX_DEADLINE),
            (listing_ttl, "listing_ttl", "QCONNECTOR_LISTING_TTL", DEFAULT_LISTING_TTL, float("inf")),
        )
    )
    no_plan: tuple[Plan | None, str | None, bool] = (None, None, False)
    chosen, switch, any_switch = _lenient(
        notes, asked_local and plan is None, "the open plan is used", lambda: values.plan(src, plan, origins), no_plan
    )
    fleet, seed, fleet_file = values.fleet(src)
    if asked_local:
        origins["provider"] = "argument"
    is_local = asked_local or _wants_local(src, chosen, any_switch, origins)
    plan_names = values.plan_names(src, None if asked_local else chosen)
    ibm = {} if is_local else _ibm(src, chosen, any_switch, origins)
    return Settings(
        local=is_local,
        plan=(chosen or Plan.OPEN) if is_local else chosen,
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
        **ibm,
    )
