"""IBM Quantum plans: which switch turns each on, what each allows, and how to check it against IBM.

Vocabulary kept from the original Qiskit Connector: the plan switches ``OPEN_PLAN``, ``PAYGO_PLAN``,
``FLEX_PLAN``, ``PREMIUM_PLAN``, ``DEDICATED_PLAN`` (and the legacy ``STANDARD_PLAN``) and the labels
"Open Plan" / "Paid Plan".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import PlanMismatchError

OPEN_LABEL = "Open Plan"
PAID_LABEL = "Paid Plan"


class Plan(str, enum.Enum):
    OPEN = "open"
    PAYGO = "pay-as-you-go"
    FLEX = "flex"
    PREMIUM = "premium"
    DEDICATED = "dedicated"
    #: The retired "Standard" plan switch of older connectors, accepted as a paid plan.
    STANDARD = "standard"

    @property
    def is_paid(self) -> bool:
        return self is not Plan.OPEN

    @property
    def label(self) -> str:
        """The seed's plan string: "Open Plan" or "Paid Plan"."""
        return PAID_LABEL if self.is_paid else OPEN_LABEL

    @property
    def display_name(self) -> str:
        """The plan as IBM names it to people: "Open", "Pay-as-you-go", ..."""
        return {
            Plan.OPEN: "Open",
            Plan.PAYGO: "Pay-as-you-go",
            Plan.FLEX: "Flex",
            Plan.PREMIUM: "Premium",
            Plan.DEDICATED: "Dedicated",
            Plan.STANDARD: "Standard (paid)",
        }[self]

    @property
    def allows_session(self) -> bool:
        """IBM refuses a Session on the open plan (HTTP 400, error 1352); paid plans allow one."""
        return self.is_paid

    @property
    def default_mode(self) -> str:
        """Paid plans get a Session; the open plan runs jobs one by one (Batch on request)."""
        return "session" if self.allows_session else "job"

    def allowed_modes(self) -> tuple[str, ...]:
        return ("session", "batch", "job") if self.allows_session else ("batch", "job")


#: Switch variable → plan. Order matters only for messages.
PLAN_SWITCHES: dict[str, Plan] = {
    "OPEN_PLAN": Plan.OPEN,
    "PAYGO_PLAN": Plan.PAYGO,
    "FLEX_PLAN": Plan.FLEX,
    "PREMIUM_PLAN": Plan.PREMIUM,
    "DEDICATED_PLAN": Plan.DEDICATED,
    "STANDARD_PLAN": Plan.STANDARD,
}

#: The plan-name variables of the seed's template and their defaults: the plan name IBM reports.
PLAN_NAME_VARIABLES: dict[Plan, tuple[str, str]] = {
    Plan.OPEN: ("OPEN_PLAN_NAME", "open"),
    Plan.PAYGO: ("PAYGO_PLAN_NAME", "pay-as-you-go"),
    Plan.FLEX: ("FLEX_PLAN_NAME", "flex"),
    Plan.PREMIUM: ("PREMIUM_PLAN_NAME", "premium"),
    Plan.DEDICATED: ("DEDICATED_PLAN_NAME", "dedicated"),
    Plan.STANDARD: ("STANDARD_PLAN_NAME", "standard"),
}

_FREE_PRICING = {"free", "trial"}
_PAID_PRICING = {"paygo", "paid", "subscription"}


def parse_plan(text: str) -> Plan:
    """Read a plan given by name: "open", "paygo", "pay-as-you-go", "Paid Plan" is refused (too vague)."""
    key = text.strip().lower().replace("_", "-")
    aliases = {
        "open": Plan.OPEN,
        "open plan": Plan.OPEN,
        "free": Plan.OPEN,
        "paygo": Plan.PAYGO,
        "pay-as-you-go": Plan.PAYGO,
        "flex": Plan.FLEX,
        "premium": Plan.PREMIUM,
        "dedicated": Plan.DEDICATED,
        "standard": Plan.STANDARD,
    }
    if key not in aliases:
        raise ValueError(text)
    return aliases[key]


@dataclass(frozen=True)
class InstanceInfo:
    """An IBM Quantum instance as ``service.instances()`` reports it (or the local fleet's stand-in)."""

    name: str
    crn: str | None
    plan_name: str  # as IBM reports it, lower-cased ("open", "premium", ...)
    pricing_type: str  # free / trial / paygo / paid / subscription / unknown / local

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "crn": self.crn,
            "plan_name": self.plan_name,
            "pricing_type": self.pricing_type,
        }


def plan_of_instance(info: InstanceInfo, plan_names: Mapping[Plan, str] | None = None) -> Plan | None:
    """The plan IBM says an instance is on, from its plan name, else its pricing type."""
    names = {plan: default for plan, (_, default) in PLAN_NAME_VARIABLES.items()}
    names.update(plan_names or {})
    reported = info.plan_name.strip().lower()
    for plan, name in names.items():
        if reported and reported == name.strip().lower():
            return plan
    pricing = info.pricing_type.strip().lower()
    if pricing in _FREE_PRICING:
        return Plan.OPEN
    if pricing == "paygo":
        return Plan.PAYGO
    if pricing in _PAID_PRICING:
        return Plan.PREMIUM
    return None


@dataclass(frozen=True)
class PlanCheck:
    """The outcome of checking the configured plan against the instance: the plan to use, and notes."""

    plan: Plan
    verified: bool
    notes: tuple[str, ...] = ()


def verify_plan(
    configured: Plan | None,
    info: InstanceInfo,
    *,
    switch: str | None = None,
    plan_names: Mapping[Plan, str] | None = None,
) -> PlanCheck:
    """Check the configured plan against what IBM reports for the instance.

    An open/paid disagreement raises :class:`PlanMismatchError` (it decides whether a Session may be
    opened). A disagreement between two paid plans is a note; the instance's plan is used.
    """
    actual = plan_of_instance(info, plan_names)
    if configured is None:
        if actual is None:
            return PlanCheck(
                Plan.OPEN,
                False,
                (
                    f"IBM reports an unknown plan {info.plan_name!r} for instance "
                    f"{info.name!r}; treating it as the open plan (no Session).",
                ),
            )
        return PlanCheck(actual, True)
    if actual is None:
        return PlanCheck(
            configured,
            False,
            (
                f"IBM reports an unknown plan {info.plan_name!r} for instance "
                f"{info.name!r}; using the configured {configured.display_name} plan.",
            ),
        )
    setting = f"{switch}=on" if switch else f"plan={configured.value!r}"
    if actual.is_paid != configured.is_paid:
        fix_switch = next((var for var, plan in PLAN_SWITCHES.items() if plan is actual), None)
        raise PlanMismatchError(
            f"{setting} says {configured.label}, but IBM reports instance {info.name!r} is on the "
            f"{actual.display_name} plan (pricing: {info.pricing_type}). Set {fix_switch}=on and "
            f"{switch or 'the other switches'}=off, or choose an instance on the {configured.display_name} plan."
        )
    if actual is not configured and configured is not Plan.STANDARD:
        return PlanCheck(
            actual,
            True,
            (
                f"{setting}, but IBM reports instance {info.name!r} is on the "
                f"{actual.display_name} plan; using {actual.display_name}.",
            ),
        )
    if configured is Plan.STANDARD:
        return PlanCheck(
            actual, True, (f"STANDARD_PLAN is the retired name of a paid plan; IBM reports {actual.display_name}.",)
        )
    return PlanCheck(actual, True)


def find_instance(instances: Sequence[InstanceInfo], wanted: str | None, active_crn: str | None) -> InstanceInfo | None:
    for info in instances:
        if active_crn and info.crn == active_crn:
            return info
    for info in instances:
        if wanted and wanted in (info.name, info.crn):
            return info
    return None
