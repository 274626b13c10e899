"""The QPU listing both providers give: one row per QPU, the same fields whichever the source.

A :class:`Listing` is one snapshot of a fleet, taken by **one** upstream request, with the time it was taken.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Iterable

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
    queue: int  # pending jobs
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
        return next((qpu for qpu in self.qpus if qpu.name == name), None)

    def names(self) -> list[str]:
        return [qpu.name for qpu in self.qpus]

    def age(self, now: datetime | None = None) -> float:
        return ((now or utcnow()) - self.fetched_at).total_seconds()

    def marked_stale(self, reason: str) -> "Listing":
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
    return datetime.now(timezone.utc)


def qpu_from_device(device: dict[str, Any]) -> QPU:
    """A row of IBM's ``GET /api/v1/backends`` ``devices`` list, as a QPU."""
    status = device.get("status") or {}
    if isinstance(status, str):
        status = {"name": status}
    processor = device.get("processor_type") or {}
    revision = processor.get("revision")
    return QPU(
        name=str(device["name"]),
        status=normalise_status(status.get("name")),
        status_reason=str(status.get("reason") or ""),
        qubits=int(device.get("qubits") or 0),
        queue=int(device.get("queue_length") or 0),
        family=processor.get("family"),
        revision=None if revision is None else str(revision),
        clops=whole_number(device.get("clops")),
        simulator=device.get("class") == "simulator" or bool(device.get("simulator", False)),
        version=device.get("version") or device.get("backend_version"),
    )


def listing_from_devices(devices: Iterable[dict[str, Any]], provider: str, fetched_at: datetime | None = None) -> Listing:
    qpus = tuple(qpu_from_device(d) for d in devices if d.get("class") != "mock")
    return Listing(qpus=qpus, fetched_at=fetched_at or utcnow(), provider=provider)
