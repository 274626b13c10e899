"""The detail of one QPU for drawing and judging it: layout, per-qubit and per-coupler errors, medians.

Built from the API's ``configuration`` and ``properties`` replies (the same JSON for IBM and the local fleet).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from ..qpus import QPU
from .chip_layout import chip_layout, undirected_edges

TWO_QUBIT_GATES = ("cz", "ecr", "cx", "rzz")


def _median(values: list[float]) -> float | None:
    clean = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(clean) if clean else None


def _qubit_values(properties: dict[str, Any] | None, name: str, count: int) -> list[float | None]:
    values: list[float | None] = [None] * count
    for index, entries in enumerate((properties or {}).get("qubits", [])[:count]):
        for entry in entries:
            if entry.get("name") == name:
                values[index] = entry.get("value")
    return values


def qpu_detail(qpu: QPU, configuration: dict[str, Any], properties: dict[str, Any] | None) -> dict[str, Any]:
    """Everything the sidebar's detail view shows, as plain JSON-able data."""
    count = int(configuration.get("n_qubits") or qpu.qubits)
    coupling = configuration.get("coupling_map") or []
    layout = chip_layout(count, coupling)
    readout = _qubit_values(properties, "readout_error", count)
    t1 = _qubit_values(properties, "T1", count)
    t2 = _qubit_values(properties, "T2", count)

    edge_errors: dict[tuple[int, int], float] = {}
    sx_errors: list[float] = []
    two_qubit_gate = None
    for gate in (properties or {}).get("gates", []):
        qubits = gate.get("qubits") or []
        error = next((p.get("value") for p in gate.get("parameters", []) if p.get("name") == "gate_error"), None)
        if error is None:
            continue
        if gate.get("gate") in TWO_QUBIT_GATES and len(qubits) == 2:
            key = (min(qubits), max(qubits))
            # A coupler may be calibrated in both directions: keep the better one.
            edge_errors[key] = min(error, edge_errors.get(key, error))
            two_qubit_gate = two_qubit_gate or gate.get("gate")
        elif gate.get("gate") == "sx" and len(qubits) == 1:
            sx_errors.append(error)

    edges = undirected_edges(coupling)
    return {
        "name": qpu.name,
        "status": qpu.status,
        "status_reason": qpu.status_reason,
        "qubits": count,
        "queue": qpu.queue,
        "family": qpu.family,
        "revision": qpu.revision,
        "processor": qpu.processor,
        "clops": qpu.clops,
        "version": configuration.get("backend_version"),
        "basis_gates": list(configuration.get("basis_gates") or []),
        "two_qubit_gate": two_qubit_gate,
        "layout": layout.as_dict(),
        "qubit_errors": {"readout": readout, "t1_us": t1, "t2_us": t2},
        "edge_errors": [{"edge": list(edge), "error": edge_errors.get(edge)} for edge in edges],
        "medians": {
            "readout_error": _median([v for v in readout if v is not None]),
            "two_qubit_error": _median(list(edge_errors.values())),
            "sx_error": _median(sx_errors),
            "t1_us": _median([v for v in t1 if v is not None]),
            "t2_us": _median([v for v in t2 if v is not None]),
        },
        "calibrated_at": (properties or {}).get("last_update_date"),
    }
