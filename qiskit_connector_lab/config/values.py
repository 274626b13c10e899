"""One value each: the plan, the token, the channel, the instance, seconds, the local fleet's members.

Each reader takes the :class:`~.sources.Sources`, validates one setting and returns it, or raises one
:class:`~qiskit_connector_lab.errors.ConfigError` line naming the variable and the fix.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..plans import PLAN_NAME_VARIABLES, PLAN_SWITCHES, Plan, parse_plan
from ..secret import Secret
from ..variables import SECRET_NAMES
from .sources import Found, Sources, check_placeholder, is_placeholder

CHANNELS = ("ibm_quantum_platform", "ibm_cloud")
LOCAL_CHANNEL = "local"
RETIRED_CHANNELS = {"ibm_quantum": "ibm_quantum_platform"}
DEFAULT_CHANNEL = "ibm_quantum_platform"
TOKEN_VARIABLES = SECRET_NAMES

_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0", ""}


def _switch_value(src: Sources, name: str, value: str) -> bool:
    check_placeholder(name, value)
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(name, f"is {src.quote(value)}, which is neither on nor off.", f'Set {name}="on" or {name}="off".')


#: The longest deadline: a larger one (1e9 s) would be no deadline at all.
MAX_DEADLINE = 3600.0


def _positive_float(src: Sources, name: str, value: Any, most: float = float("inf")) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(
            name, f"is {src.quote(value)}, not a number of seconds.", f"Set {name} to a positive number, e.g. 10."
        ) from None
    if not 0 < number < float("inf"):  # also refuses NaN
        raise ConfigError(
            name, f"is {src.quote(value)}; it must be a positive number of seconds.", f"Set {name} to e.g. 10."
        )
    if number > most:
        raise ConfigError(
            name, f"is {src.quote(value)}; it must be at most {most:g} seconds.", f"Set {name} to e.g. 10."
        )
    return number


def seconds(
    src: Sources,
    argument: Any,
    argument_name: str,
    variable: str,
    default: float,
    most: float = float("inf"),
) -> float:
    """An explicit argument, else the variable, else ``default``: a positive number of seconds, at most ``most``."""
    if argument is not None:
        return _positive_float(src, argument_name, argument, most)
    found = src.get(variable)
    return _positive_float(src, variable, found.value, most) if found else default


def channel(src: Sources, found: Found) -> str:
    check_placeholder(found.name, found.value)
    value = found.value.strip().lower()
    if value in RETIRED_CHANNELS:
        raise ConfigError(
            found.name,
            f"is {src.quote(found.value.strip())}, a channel IBM retired.",
            f'Set {found.name}="{RETIRED_CHANNELS[value]}" and use an IBM Quantum Platform API key.',
        )
    if value not in (*CHANNELS, LOCAL_CHANNEL):
        raise ConfigError(
            found.name,
            f"is {src.quote(found.value.strip())}, not a known channel.",
            f'Set {found.name}="ibm_quantum_platform" (or "ibm_cloud", or "local" for the offline fleet).',
        )
    return value


def _plan_from_switches(src: Sources) -> tuple[Plan | None, str | None, bool]:
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


def plan(src: Sources, given: str | Plan | None, origins: dict[str, str]) -> tuple[Plan | None, str | None, bool]:
    """(plan, switch, any_switch): an explicit argument beats the switches."""
    if given is None:
        chosen, switch, any_switch = _plan_from_switches(src)
        found = src.get(switch) if switch else None
        if found:
            origins["plan"] = found.origin
        return chosen, switch, any_switch
    try:
        chosen = given if isinstance(given, Plan) else parse_plan(given)
    except ValueError:
        raise ConfigError(
            "plan", f"is {src.quote(given)}, not a plan.", "Use one of: open, paygo, flex, premium, dedicated."
        ) from None
    origins["plan"] = "argument"
    return chosen, None, True


def plan_names(src: Sources, chosen: Plan | None) -> dict[Plan, str]:
    names = {}
    for p, (var, default) in PLAN_NAME_VARIABLES.items():
        found = src.get(var)
        if found is not None and p is chosen:
            check_placeholder(var, found.value)
        names[p] = found.value.strip() if found and found.value else default
    return names


def plan_variables(chosen: Plan | None, suffix: str) -> tuple[str, ...]:
    """The channel/instance variables for a plan, most specific first, then the runtime's own."""
    if chosen is None:
        names: tuple[str, ...] = ()
    elif chosen is Plan.OPEN:
        names = (f"OPEN_PLAN_{suffix}",)
    else:
        switch = next(var for var, p in PLAN_SWITCHES.items() if p is chosen)
        names = (f"PAID_PLAN_{suffix}", f"{switch}_{suffix}")
    return (*names, f"QISKIT_IBM_{suffix}")


def token(src: Sources, origins: dict[str, str]) -> tuple[Secret, Found]:
    found = src.get(*TOKEN_VARIABLES)
    if found is None:
        raise ConfigError(
            "IQP_API_TOKEN",
            "is not set, so IBM Quantum cannot be reached.",
            "Put your IBM Quantum API key in .env as IQP_API_TOKEN=..., or use the offline local fleet "
            "(%qconnect --local, connect(local=True)).",
        )
    check_placeholder(found.name, found.value)  # the template's own text, not a secret: safe to name
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


def instance(src: Sources, chosen: Plan | None, origins: dict[str, str]) -> str | None:
    variables = plan_variables(chosen, "INSTANCE")
    found = src.get(*variables)
    value = None
    if found is not None:
        check_placeholder(found.name, found.value)
        value = found.value.strip() or None
        origins["instance"] = found.origin
    if value is None and chosen is not None:
        raise ConfigError(
            variables[0],
            "is not set, so the connector does not know which instance to use.",
            f"Set {variables[0]} to your instance's name or CRN (IBM Quantum Platform → Instances).",
        )
    return value


def placeholders_in_use(src: Sources, *variable_groups: tuple[str, ...]) -> None:
    """The .env.example placeholders are reported all at once, when more than one is left in."""
    in_use = [found.name for names in variable_groups if (found := src.get(*names)) is not None]
    placeholders = [n for n in dict.fromkeys(in_use) if is_placeholder((src.get(n) or Found("", n, "")).value)]
    if len(placeholders) > 1:
        raise ConfigError(
            ", ".join(placeholders),
            "still hold the placeholders from .env.example.",
            "Replace each with your own value (the URL lines are optional: leave them out for IBM's defaults).",
        )


@functools.cache
def fake_backend_names() -> tuple[str, ...]:
    """The fake backends qiskit-ibm-runtime ships (``fez``, ``kolkata``, ...): the folders of its
    ``fake_provider/backends`` that hold a configuration snapshot, found without importing any of them.
    Empty when the client is not installed (the local fleet then says so itself)."""
    spec = importlib.util.find_spec("qiskit_ibm_runtime")
    if spec is None or not spec.submodule_search_locations:
        return ()
    folder = Path(next(iter(spec.submodule_search_locations))) / "fake_provider" / "backends"
    try:
        return tuple(sorted(p.name for p in folder.iterdir() if p.is_dir() and any(p.glob("conf_*.json"))))
    except OSError:
        return ()


def _fleet_members(src: Sources, found: Found) -> tuple[str, ...]:
    known = fake_backend_names()
    members = tuple(m.strip().lower().removeprefix("fake_") for m in found.value.split(",") if m.strip())
    for member in members:
        if known and member not in known:
            close = difflib.get_close_matches(member, known, n=3) or ["fez", "kolkata", "brisbane"]
            raise ConfigError(
                src.where(found),
                f"names {src.quote(member)}, which is not a fake backend of qiskit-ibm-runtime.",
                f"Use names from qiskit_ibm_runtime.fake_provider, e.g. {','.join(close)}.",
            )
    return members


def fleet(src: Sources) -> tuple[tuple[str, ...] | None, int | None, Path | None]:
    """QCONNECTOR_FLEET (names of real fake backends), QCONNECTOR_FLEET_SEED, QCONNECTOR_FLEET_FILE."""
    members = src.get("QCONNECTOR_FLEET")
    names = _fleet_members(src, members) if members else None
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
    return names or None, seed, fleet_file
