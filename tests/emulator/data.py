"""Static data for the IBM Quantum Platform emulator.

* QPU snapshots: the ``conf_*.json`` / ``props_*.json`` files shipped inside
  ``qiskit_ibm_runtime.fake_provider.backends.<name>/``.  They are snapshots of
  real ``/backends/{name}/configuration`` and ``/properties`` replies, so the
  emulator serves them as they are (only ``backend_name`` is rewritten).
* Plans: the catalog display name, pricing type and default usage of each
  IBM Quantum Platform plan.

Everything here is read-only and cached per process: the emulator never
mutates the dicts returned by :func:`load_conf` / :func:`load_props`.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import uuid
from functools import cache, lru_cache
from pathlib import Path
from typing import Any


def _fake_backends_dir() -> Path:
    # Locate the package without importing it (importing qiskit_ibm_runtime
    # pulls in qiskit: ~2 s); the emulator only needs the JSON files.
    spec = importlib.util.find_spec("qiskit_ibm_runtime")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("qiskit_ibm_runtime is required for the emulator's QPU snapshots")
    return Path(next(iter(spec.submodule_search_locations))) / "fake_provider" / "backends"


FAKE_BACKENDS_DIR = _fake_backends_dir()

# Default fleet: (snapshot folder, served name).  Nighthawk only exists in
# recent qiskit-ibm-runtime releases; it is skipped when absent.
_DEFAULT_FLEET_CANDIDATES: tuple[str, ...] = (
    "fez",  # 156 q, Heron r2
    "torino",  # 133 q, Heron r1
    "brisbane",  # 127 q, Eagle r3
    "sherbrooke",  # 127 q, Eagle r3
    "kyiv",  # 127 q, Eagle r3
    "nighthawk",  # 120 q, Nighthawk r1
    "perth",  # 7 q, Falcon r5.11H (small: cheap Target building)
)

# Used when a snapshot's configuration has no ``processor_type``.
_PROCESSOR_BY_QUBITS: dict[int, dict[str, str]] = {
    1: {"family": "Canary", "revision": "1.2"},
    5: {"family": "Falcon", "revision": "4", "segment": "T"},
    7: {"family": "Falcon", "revision": "5.11", "segment": "H"},
    15: {"family": "Canary", "revision": "1.1"},
    16: {"family": "Falcon", "revision": "4", "segment": "P"},
    20: {"family": "Penguin", "revision": "1"},
    27: {"family": "Falcon", "revision": "5.11"},
    28: {"family": "Penguin", "revision": "2"},
    33: {"family": "Egret", "revision": "1"},
    53: {"family": "Hummingbird", "revision": "1"},
    65: {"family": "Hummingbird", "revision": "2"},
    120: {"family": "Nighthawk", "revision": "1"},
    127: {"family": "Eagle", "revision": "3"},
    133: {"family": "Heron", "revision": "1"},
    156: {"family": "Heron", "revision": "2"},
}

# plan key -> catalog display name (the client lower-cases it into
# ``instances()[i]["plan"]``), catalog ``metadata.pricing.type`` and the
# default ``/instances/usage`` reply (keys left out rather than null).
PLANS: dict[str, dict[str, Any]] = {
    "open": {
        "display_name": "Open",
        "pricing_type": "free",
        "usage": {"usage_consumed_seconds": 0, "usage_limit_seconds": 600},
    },
    "pay-as-you-go": {
        "display_name": "Pay-As-You-Go",
        "pricing_type": "paygo",
        "usage": {"usage_consumed_seconds": 0},
    },
    "flex": {
        "display_name": "Flex",
        "pricing_type": "subscription",
        "usage": {"usage_consumed_seconds": 0, "usage_allocation_seconds": 36000},
    },
    "premium": {
        "display_name": "Premium",
        "pricing_type": "subscription",
        "usage": {"usage_consumed_seconds": 0},
    },
    "dedicated": {
        "display_name": "Dedicated",
        "pricing_type": "subscription",
        "usage": {"usage_consumed_seconds": 0},
    },
}

PLAN_ALIASES = {"payg": "pay-as-you-go", "paygo": "pay-as-you-go", "pay_as_you_go": "pay-as-you-go"}

_PLAN_NAMESPACE = uuid.UUID("6b1c1f0e-6d4e-4a43-9a65-8a52e1d0c0de")


def plan_key(plan: str) -> str:
    """Normalise a plan name given by a test (``"Premium"`` -> ``"premium"``)."""
    key = plan.strip().lower()
    return PLAN_ALIASES.get(key, key)


def plan_id(plan: str) -> str:
    """Stable catalog id (``service_plan_unique_id``) of a plan."""
    return str(uuid.uuid5(_PLAN_NAMESPACE, plan_key(plan)))


def plan_display_name(plan: str) -> str:
    key = plan_key(plan)
    if key in PLANS:
        return PLANS[key]["display_name"]
    return "-".join(part.capitalize() for part in key.split("-"))


@cache
def available_snapshots() -> tuple[str, ...]:
    """Snapshot folder names that carry both a configuration and properties."""
    names = []
    for folder in sorted(FAKE_BACKENDS_DIR.iterdir()):
        if not folder.is_dir():
            continue
        if (folder / f"conf_{folder.name}.json").is_file() and (folder / f"props_{folder.name}.json").is_file():
            names.append(folder.name)
    return tuple(names)


@cache
def default_fleet() -> tuple[str, ...]:
    have = set(available_snapshots())
    return tuple(name for name in _DEFAULT_FLEET_CANDIDATES if name in have)


def snapshot_for(name: str) -> str | None:
    """Map ``"ibm_fez"`` / ``"fez"`` / ``"fake_fez"`` to the snapshot folder, if any."""
    short = name
    for prefix in ("ibm_", "ibmq_", "fake_"):
        if short.startswith(prefix):
            short = short[len(prefix) :]
            break
    return short if short in available_snapshots() else None


@cache
def load_conf(snapshot: str) -> dict[str, Any]:
    with open(FAKE_BACKENDS_DIR / snapshot / f"conf_{snapshot}.json", encoding="utf-8") as fh:
        return json.load(fh)


@cache
def load_props(snapshot: str) -> dict[str, Any]:
    with open(FAKE_BACKENDS_DIR / snapshot / f"props_{snapshot}.json", encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=256)
def conf_bytes(snapshot: str, name: str) -> bytes:
    """The configuration reply body: the snapshot as-is, renamed."""
    conf = dict(load_conf(snapshot))
    conf["backend_name"] = name
    return json.dumps(conf).encode()


@lru_cache(maxsize=256)
def props_bytes(snapshot: str, name: str) -> bytes:
    """The properties reply body: the snapshot as-is, renamed."""
    props = dict(load_props(snapshot))
    props["backend_name"] = name
    return json.dumps(props).encode()


def processor_type(snapshot: str) -> dict[str, str]:
    conf = load_conf(snapshot)
    raw = conf.get("processor_type")
    if isinstance(raw, dict) and raw.get("family"):
        out = {"family": str(raw["family"]), "revision": str(raw.get("revision", ""))}
        if raw.get("segment"):
            out["segment"] = str(raw["segment"])
        return out
    return dict(_PROCESSOR_BY_QUBITS.get(int(conf.get("n_qubits", 0)), {"family": "Unknown", "revision": "1"}))


def clops(snapshot: str) -> dict[str, Any] | None:
    """``{"type": "hardware", "value": N}`` from the snapshot, or None if unknown."""
    conf = load_conf(snapshot)
    for key in ("clops_h", "clops"):
        value = conf.get(key)
        if isinstance(value, int) and value > 0:
            return {"type": "hardware", "value": value}
    value = conf.get("clops_v")
    if isinstance(value, int) and value > 0:
        return {"type": "virtual", "value": value}
    return None


@cache
def performance_metrics(snapshot: str) -> dict[str, Any]:
    """Medians computed from the properties snapshot, in the ``/backends`` shape."""
    props = load_props(snapshot)
    native = {"cz", "ecr", "cx"}
    two_q: list[tuple[float, str, list[int]]] = []
    gates = [g for g in props.get("gates", []) if len(g.get("qubits", [])) == 2]
    if any(g.get("gate") in native for g in gates):
        gates = [g for g in gates if g.get("gate") in native]  # skip fractional rzz etc.
    for gate in gates:
        qubits = gate.get("qubits", [])
        for param in gate.get("parameters", []):
            if param.get("name") == "gate_error" and isinstance(param.get("value"), (int, float)):
                if param["value"] < 1.0:  # 1.0 marks a broken coupler
                    two_q.append((float(param["value"]), gate.get("gate", ""), list(qubits)))
    readout = [
        float(p["value"])
        for qubit in props.get("qubits", [])
        for p in qubit
        if p.get("name") == "readout_error" and isinstance(p.get("value"), (int, float))
    ]
    metrics: dict[str, Any] = {}
    if two_q:
        best = min(two_q)
        metrics["two_q_error_best"] = {"value": best[0], "gate": best[1], "qubits": best[2], "unit": ""}
        metrics["two_q_error_median"] = {"value": statistics.median(v for v, _, _ in two_q), "unit": ""}
    if readout:
        metrics["readout_error_median"] = {"value": statistics.median(readout), "unit": ""}
    return metrics
