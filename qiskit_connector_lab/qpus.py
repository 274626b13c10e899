"""The QPU listing both providers give: one row per QPU, the same fields whichever the source.

A :class:`Listing` is one snapshot of a fleet, taken by **one** upstream request, with the time it was taken.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from .errors import BadResponse

ONLINE, PAUSED, OFFLINE = "online", "paused", "offline"
STATUSES = (ONLINE, PAUSED, OFFLINE)


def normalise_status(raw: str | None) -> str:
    """IBM reports "online", "paused", "offline", "maintenance", "internal"...; we keep three."""
    text = (raw or "").strip().lower()
    if text in ("online", "active", "operational"):
        return ONLINE
    if text in ("paused", "maintenance", "reserved", "internal", "calibrating"):
        return PAUSED
    return OFFLINE


@dataclass(frozen=True)
class QPU:
    name: str
    status: str  # online / paused / offline
    qubits: int
    queue: int | None  # pending jobs; None: unknown (IBM sent none, or a value that is not a count)
    family: str | None = None  # processor family: Heron, Eagle, Nighthawk, ...
    revision: str | None = None  # processor revision: "r2", "3", ...
    clops: int | None = None
    status_reason: str = ""
    version: str | None = None
    simulator: bool = False

    @property
    def operational(self) -> bool:
        return self.status == ONLINE

    @property
    def queue_text(self) -> str:
        """The queue for display: the count, or "?" when IBM did not report a usable one."""
        return "?" if self.queue is None else str(self.queue)

    @property
    def processor(self) -> str:
        if not self.family:
            return "unknown"
        revision = str(self.revision or "").strip()
        if revision and not revision.lower().startswith("r"):
            revision = f"r{revision}"
        return f"{self.family} {revision}".strip()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["processor"] = self.processor
        return data


@dataclass(frozen=True)
class Listing:
    """One fetch of a fleet: the QPUs, when they were fetched, and by which provider."""

    qpus: tuple[QPU, ...]
    fetched_at: datetime
    provider: str  # "local" or "ibm"
    stale: bool = False
    stale_reason: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def local(self) -> bool:
        return self.provider == "local"

    def by_name(self, name: str) -> QPU | None:
        index = self.__dict__.get("_by_name")
        if index is None:  # built once per listing: a 5000-QPU listing is looked up by every detail request
            index = {qpu.name: qpu for qpu in self.qpus}
            object.__setattr__(self, "_by_name", index)
        return index.get(name)

    def names(self) -> list[str]:
        return [qpu.name for qpu in self.qpus]

    def age(self, now: datetime | None = None) -> float:
        return ((now or utcnow()) - self.fetched_at).total_seconds()

    def marked_stale(self, reason: str) -> Listing:
        return replace(self, stale=True, stale_reason=reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "local": self.local,
            "fetched_at": self.fetched_at.isoformat(),
            "stale": self.stale,
            "stale_reason": self.stale_reason,
            "qpus": [qpu.as_dict() for qpu in self.qpus],
        }


def whole_number(value: Any) -> int | None:
    """An int from an API field that may be an int, a numeric string, "None", a {"value": ...} dict or absent."""
    if isinstance(value, dict):
        value = value.get("value")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def utcnow() -> datetime:
    return datetime.now(UTC)


#: What a QPU name may be (the server's routes take the same): no device with another name is listed.
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class InvalidDevice(ValueError):
    """One device of IBM's listing cannot be read; ``reason`` says why in a few words (never its values)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def queue_length(value: Any) -> int | None:
    """A queue length, or None when IBM gave none or a value that is not a count (null, negative, text)."""
    if isinstance(value, bool):
        return None
    number = whole_number(value)
    return number if number is not None and number >= 0 else None


def qpu_from_device(device: Any) -> QPU:
    """A row of IBM's ``GET /api/v1/backends`` ``devices`` list, as a QPU (:class:`InvalidDevice` if unusable)."""
    if not isinstance(device, dict):
        raise InvalidDevice("not an object")
    name = device.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidDevice("without a usable name")
    status = device.get("status") or {}
    if isinstance(status, str):
        status = {"name": status}
    if not isinstance(status, dict):
        raise InvalidDevice("with an unreadable status")
    processor = device.get("processor_type") or {}
    if not isinstance(processor, dict):
        raise InvalidDevice("with an unreadable processor type")
    raw_qubits = device.get("qubits")
    qubits = whole_number(raw_qubits) if raw_qubits is not None and not isinstance(raw_qubits, bool) else 0
    if qubits is None or qubits < 0:
        raise InvalidDevice("with an unreadable qubit count")
    revision = processor.get("revision")
    family = processor.get("family")
    version = device.get("version") or device.get("backend_version")
    return QPU(
        name=name,
        status=normalise_status(str(status.get("name") or "")),
        status_reason=str(status.get("reason") or ""),
        qubits=qubits,
        queue=queue_length(device.get("queue_length")),
        family=None if family is None else str(family),
        revision=None if revision is None else str(revision),
        clops=whole_number(device.get("clops")),
        simulator=device.get("class") == "simulator" or bool(device.get("simulator", False)),
        version=None if version is None else str(version),
    )


def listing_from_devices(devices: Any, provider: str, fetched_at: datetime | None = None) -> Listing:
    """The listing from IBM's ``devices``: invalid devices are skipped with a note, an unreadable reply is
    a one-line :class:`BadResponse`."""
    if isinstance(devices, dict) and "devices" in devices:
        devices = devices["devices"]
    if not isinstance(devices, (list, tuple)):
        raise BadResponse(
            "IBM Quantum sent a QPU listing that is not a list of devices. Retry later; if it "
            "persists, check the IBM Quantum status page."
        )
    qpus: list[QPU] = []
    skipped: Counter[str] = Counter()
    seen: set[str] = set()
    for device in devices:
        if isinstance(device, dict) and device.get("class") == "mock":
            continue
        try:
            qpu = qpu_from_device(device)
        except InvalidDevice as invalid:
            skipped[invalid.reason] += 1
            continue
        if qpu.name in seen:
            skipped["listed twice"] += 1
            continue
        seen.add(qpu.name)
        qpus.append(qpu)
    notes: tuple[str, ...] = ()
    if skipped:
        total = sum(skipped.values())
        why = ", ".join(f"{count} {reason}" for reason, count in skipped.most_common())
        notes = (f"Skipped {total} of the {total + len(qpus)} QPUs IBM listed, which could not be read ({why}).",)
    return Listing(qpus=tuple(qpus), fetched_at=fetched_at or utcnow(), provider=provider, notes=notes)


def usable_devices(devices: Any, listing: Listing) -> list[dict[str, Any]]:
    """The raw devices that became QPUs of ``listing`` (for the IBM client's own cache)."""
    if isinstance(devices, dict):
        devices = devices.get("devices", [])
    names = {qpu.name for qpu in listing.qpus}
    return [d for d in devices if isinstance(d, dict) and d.get("name") in names]
